"""The incidents waiting for their crime record, per partition: what the backlog gauges read.

An incident is *awaiting recording* while it is reported, crime-related, and
neither recorded nor closed with a non-crime code; it is *overdue* when,
besides, its partition's clock is past its overdue point (the deadline, or
the moment it became crime-related if that was later). Overdue incidents are
awaiting too: ``overdue`` is a subset of ``awaiting``.

The index mirrors the incident store: it is rebuilt from the store whenever
partitions are (re)assigned, and every write the recording clock makes to the
store goes through ``TrackedIncidentStore``, so it is never a tally kept since
start-up. Only small tuples are kept, one per waiting incident, so summing it
costs a pass over the waiting incidents, not a decode of the whole table.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from monitor.application.ports import IncidentStore
from monitor.domain.incident import IncidentState
from monitor.domain.policy import TimelinessPolicy
from monitor.domain.recording_clock import schedule

UNKNOWN_DIVISION = "unknown"


@dataclass(frozen=True, slots=True)
class Waiting:
    """One incident awaiting recording; times in Unix seconds."""

    force: str
    category: str
    division: str
    reported_at: float
    overdue_at: float


def waiting_entry(state: IncidentState, policy: TimelinessPolicy) -> Waiting | None:
    """The incident's entry on the board, or None when it is not awaiting recording."""
    report, plan = state.report, schedule(state, policy)
    if report is None or plan is None or plan.stop_at is not None:
        return None
    return Waiting(
        force=report.force,
        category=state.category or report.category,
        division=report.division or UNKNOWN_DIVISION,
        reported_at=report.reported_at.timestamp(),
        overdue_at=plan.overdue_at.timestamp(),
    )


@dataclass
class Counts:
    awaiting: int = 0
    overdue: int = 0


@dataclass
class Backlog:
    """Counts by (force, category, division); oldest waiting age by (force, division)."""

    counts: dict[tuple[str, str, str], Counts] = field(default_factory=dict)
    oldest_age_seconds: dict[tuple[str, str], float] = field(default_factory=dict)


class BacklogIndex:
    def __init__(self, policy: TimelinessPolicy) -> None:
        self.policy = policy
        self._waiting: dict[int, dict[str, Waiting]] = defaultdict(dict)

    def record(self, partition: int, state: IncidentState) -> None:
        entry = waiting_entry(state, self.policy)
        if entry is None:
            self._waiting[partition].pop(state.incident_id, None)
        else:
            self._waiting[partition][state.incident_id] = entry

    def remove(self, partition: int, incident_id: str) -> None:
        self._waiting[partition].pop(incident_id, None)

    def forget(self, partition: int) -> None:
        self._waiting.pop(partition, None)

    def rebuild(
        self,
        partition_of: Callable[[str], int],
        partitions: set[int],
        states: Iterable[IncidentState],
    ) -> None:
        """Start again, for ``partitions``, from the store's states (other keys are ignored)."""
        for partition in partitions:
            self.forget(partition)
        for state in states:
            partition = partition_of(state.incident_id)
            if partition in partitions:
                self.record(partition, state)

    def summarize(self, clocks: Mapping[int, datetime | None]) -> Backlog:
        """The backlog of the partitions in ``clocks``, each judged by its own clock.

        A partition's clock is its watermark: the time up to which every input
        is known, the same clock that raises the overdue alert. Judging by it
        rather than by the wall clock keeps the gauges and the alerts in
        agreement, and stops a replay or a lagging consumer from showing as
        overdue an incident whose recording has simply not been read yet (the
        lag has its own gauge and alert). A partition whose clock is not known
        yet counts its incidents as awaiting, none as overdue, and gives no age.
        """
        backlog = Backlog()
        for partition, now in clocks.items():
            limit = None if now is None else now.timestamp()
            for entry in self._waiting.get(partition, {}).values():
                key = (entry.force, entry.category, entry.division)
                counts = backlog.counts.get(key)
                if counts is None:
                    counts = backlog.counts[key] = Counts()
                counts.awaiting += 1
                if limit is None:
                    continue
                if entry.overdue_at < limit:
                    counts.overdue += 1
                age = max(limit - entry.reported_at, 0.0)
                place = (entry.force, entry.division)
                if age > backlog.oldest_age_seconds.get(place, -1.0):
                    backlog.oldest_age_seconds[place] = age
        return backlog

    def __len__(self) -> int:
        return sum(len(waiting) for waiting in self._waiting.values())


class TrackedIncidentStore:
    """An incident store that keeps a backlog index in step with every write."""

    def __init__(
        self, inner: IncidentStore, index: BacklogIndex, partition_of: Callable[[str], int]
    ) -> None:
        self.inner = inner
        self.index = index
        self.partition_of = partition_of

    def get(self, incident_id: str) -> IncidentState | None:
        return self.inner.get(incident_id)

    def put(self, state: IncidentState) -> None:
        self.inner.put(state)
        self.index.record(self.partition_of(state.incident_id), state)

    def delete(self, incident_id: str) -> None:
        self.inner.delete(incident_id)
        self.index.remove(self.partition_of(incident_id), incident_id)

    def states(self) -> Iterator[IncidentState]:
        return self.inner.states()

    def __getattr__(self, name: str) -> Any:
        # Whatever else the wrapped store offers (e.g. the table's ``stored``) reads through.
        return getattr(self.inner, name)
