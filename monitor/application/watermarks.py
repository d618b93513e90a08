"""How far, in event time, each partition's inputs are known: the clock the rules are given.

An alert may only be raised once every event that could stop it has been
seen. Each input partition has a watermark: the event time it has been read
up to, or the wall clock when it is fully caught up (no backlog means nothing
older is waiting). A partition of the incident clock sees incidents from one
``incidents`` partition and crime links from every ``crime-records``
partition, so its clock is the least of those watermarks, less the allowed
lateness. Replaying old topics therefore raises exactly the alerts a live run
did, instead of alerting on every old incident before its recording is read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass
class SourceProgress:
    """What has been processed from one input partition."""

    next_offset: int | None = None
    latest_event_time: datetime | None = None

    def observe(self, offset: int, event_time: datetime | None) -> None:
        self.next_offset = offset + 1
        if event_time is not None and (
            self.latest_event_time is None or event_time > self.latest_event_time
        ):
            self.latest_event_time = event_time


def source_watermark(
    progress: SourceProgress,
    *,
    highwater: int | None,
    resume_offset: int | None,
    wall_now: datetime,
) -> datetime | None:
    """The event time up to which this partition is known, or None if unknown.

    Caught up (processed everything the broker holds) means known up to now.
    Otherwise it is the latest event time processed so far, never ahead of now.
    """
    position = progress.next_offset if progress.next_offset is not None else resume_offset
    if highwater is not None and position is not None and position >= highwater:
        return wall_now
    if highwater == 0:
        return wall_now
    latest = progress.latest_event_time
    return None if latest is None else min(latest, wall_now)


@dataclass
class PartitionClock:
    """The clock of one partition of the incident clock. Never runs backwards."""

    crime_marks: dict[int, datetime] = field(default_factory=dict)
    crime_partitions: int | None = None
    now: datetime | None = None

    def observe_crime_marks(self, source_partitions: int, marks: Mapping[int, datetime]) -> None:
        if self.crime_partitions != source_partitions:
            # The crime-records topic changed shape: start again from the new marks.
            self.crime_partitions = source_partitions
            self.crime_marks = {}
        for partition, mark in marks.items():
            current = self.crime_marks.get(partition)
            if current is None or mark > current:
                self.crime_marks[partition] = mark

    def advance(self, incident_mark: datetime | None, lateness: timedelta) -> datetime | None:
        """Move to the least of all watermarks less the lateness, if all are known."""
        if incident_mark is None or self.crime_partitions is None:
            return self.now
        if len(self.crime_marks) < self.crime_partitions:
            return self.now
        candidate = min(incident_mark, *self.crime_marks.values()) - lateness
        if self.now is None or candidate > self.now:
            self.now = candidate
        return self.now
