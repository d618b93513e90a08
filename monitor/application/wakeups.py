"""When each incident next needs the clock's attention, per partition.

A heap of (time, incident) per partition, kept in memory and rebuilt from the
table after a rebalance. Entries can go stale (the incident moved on); a
popped entry is checked against the live state, so staleness only costs a
lookup.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from datetime import datetime


class WakeupIndex:
    def __init__(self) -> None:
        self._heaps: dict[int, list[tuple[float, str]]] = defaultdict(list)
        self._scheduled: dict[int, dict[str, float]] = defaultdict(dict)

    def schedule(self, partition: int, incident_id: str, at: datetime | None) -> None:
        """Wake ``incident_id`` once the clock passes ``at``; None cancels."""
        scheduled = self._scheduled[partition]
        if at is None:
            scheduled.pop(incident_id, None)
            return
        stamp = at.timestamp()
        if scheduled.get(incident_id) == stamp:
            return
        scheduled[incident_id] = stamp
        heapq.heappush(self._heaps[partition], (stamp, incident_id))

    def due(self, partition: int, now: datetime) -> list[str]:
        """Pop every incident whose wake-up time is strictly before ``now``."""
        heap, scheduled = self._heaps[partition], self._scheduled[partition]
        limit = now.timestamp()
        due: list[str] = []
        while heap and heap[0][0] < limit:
            stamp, incident_id = heapq.heappop(heap)
            if scheduled.get(incident_id) == stamp:
                del scheduled[incident_id]
                due.append(incident_id)
        return due

    def forget(self, partition: int) -> None:
        self._heaps.pop(partition, None)
        self._scheduled.pop(partition, None)
