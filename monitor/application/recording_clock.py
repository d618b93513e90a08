"""The recording-clock use case: apply an incident's event, or a tick of its partition's clock.

Given a state store and a wake-up index, it folds events into incident states,
announces what the rules say is due, and says which states changed (for the
ledger). It knows nothing of Kafka: the caller passes the partition and the
partition's clock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from monitor.application.ports import IncidentStore
from monitor.application.wakeups import WakeupIndex
from monitor.domain.incident import IncidentState, apply
from monitor.domain.inputs import IncidentInput
from monitor.domain.outcomes import Fact
from monitor.domain.policy import TimelinessPolicy
from monitor.domain.recording_clock import advance, expires_at, wakeup_at


@dataclass
class Changes:
    """What one call produced: facts to publish, states to record, incidents let go."""

    facts: list[Fact] = field(default_factory=list)
    changed: list[IncidentState] = field(default_factory=list)
    evicted: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.facts or self.changed or self.evicted)


class RecordingClock:
    def __init__(
        self,
        store: IncidentStore,
        policy: TimelinessPolicy,
        index: WakeupIndex | None = None,
    ) -> None:
        self.store = store
        self.policy = policy
        self.index = index or WakeupIndex()

    def handle(self, event: IncidentInput, *, partition: int, now: datetime | None) -> Changes:
        """Fold one event into its incident and announce what is due at ``now``."""
        current = self.store.get(event.incident_id) or IncidentState(event.incident_id)
        state, facts = advance(apply(current, event), now=now, policy=self.policy)
        changes = Changes(facts=list(facts))
        if state != current:
            self.store.put(state)
            changes.changed.append(state)
        self.index.schedule(partition, state.incident_id, wakeup_at(state, self.policy))
        return changes

    def tick(self, *, partition: int, now: datetime) -> Changes:
        """Announce everything that has fallen due on this partition by ``now``."""
        changes = Changes()
        for incident_id in self.index.due(partition, now):
            current = self.store.get(incident_id)
            if current is None:
                continue
            expiry = expires_at(current, self.policy)
            if expiry is not None and expiry < now:
                self.store.delete(incident_id)
                changes.evicted.append(incident_id)
                continue
            state, facts = advance(current, now=now, policy=self.policy)
            changes.facts.extend(facts)
            if state != current:
                self.store.put(state)
                changes.changed.append(state)
            self.index.schedule(partition, incident_id, wakeup_at(state, self.policy))
        return changes

    def rebuild(
        self,
        partition_of: Callable[[str], int],
        partitions: set[int],
        states: Iterable[IncidentState] | None = None,
    ) -> int:
        """Recreate the wake-up index for the partitions now owned.

        ``states`` defaults to the whole store; a caller that has already read
        the store passes what it read, so the table is decoded once.
        """
        for partition in partitions:
            self.index.forget(partition)
        count = 0
        for state in self.store.states() if states is None else states:
            partition = partition_of(state.incident_id)
            if partition in partitions:
                self.index.schedule(partition, state.incident_id, wakeup_at(state, self.policy))
                count += 1
        return count
