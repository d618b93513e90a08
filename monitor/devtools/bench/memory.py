"""Resident memory per open incident, in the store the worker runs with (``memory://``).

Faust's ``memory://`` table store is a dict in the worker; the worker keeps
each incident there as bytes (``monitor.adapters.state_codec``) and a
wake-up index entry for its next alert point. This builds exactly those,
through the real ``RecordingClock`` service, for ``count`` open incidents in
a fresh process, and reports the growth of the resident set per incident. It
also times the rebuild of the wake-up index from the stored states, the
local part of what a rebalance costs a worker that takes those partitions
over.

Run as ``python -m monitor.devtools.bench.memory COUNT``; prints one JSON object.
"""

from __future__ import annotations

import gc
import json
import os
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from monitor.adapters.state_codec import decode_state, encode_state
from monitor.application.recording_clock import RecordingClock
from monitor.domain.incident import IncidentState
from monitor.domain.inputs import IncidentReported
from monitor.domain.policy import TimelinessPolicy

PARTITIONS = 6


def resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class DictTableStore:
    """What ``TableIncidentStore`` does over a Faust memory table: bytes in a dict."""

    def __init__(self) -> None:
        self.data: dict[bytes, bytes] = {}

    def get(self, incident_id: str) -> IncidentState | None:
        raw = self.data.get(incident_id.encode())
        return None if raw is None else decode_state(raw)

    def put(self, state: IncidentState) -> None:
        self.data[state.incident_id.encode()] = encode_state(state)

    def delete(self, incident_id: str) -> None:
        self.data.pop(incident_id.encode(), None)

    def states(self) -> Iterator[IncidentState]:
        return (decode_state(raw) for raw in self.data.values())


def measure(count: int) -> dict[str, float]:
    policy = TimelinessPolicy(
        target=timedelta(hours=24), warning=timedelta(hours=4), retention=timedelta(days=35)
    )
    now = datetime.now(UTC).replace(microsecond=0)
    store = DictTableStore()
    service = RecordingClock(store, policy)
    gc.collect()
    before = resident_bytes()
    started = time.perf_counter()
    for i in range(count):
        incident_id = f"LP-20261126-{i:07d}"
        event = IncidentReported(
            event_id=f"00000000-0000-4000-8000-{i:012d}",
            incident_id=incident_id,
            force="leicestershire",
            reported_at=now - timedelta(seconds=i % 72_000),
            channel="999",
            category="violence",
            crime_related=True,
            division="city",
            grade="2",
        )
        service.handle(event, partition=i % PARTITIONS, now=now)
    build_s = time.perf_counter() - started
    gc.collect()
    after = resident_bytes()
    stored_bytes = sum(len(k) + len(v) for k, v in store.data.items())
    started = time.perf_counter()
    rebuilt = RecordingClock(store, policy)
    held = rebuilt.rebuild(
        lambda key: hash(key) % PARTITIONS, set(range(PARTITIONS)), store.states()
    )
    rebuild_s = time.perf_counter() - started
    return {
        "incidents": count,
        "held": held,
        "rss_before_bytes": before,
        "rss_after_bytes": after,
        "bytes_per_incident": (after - before) / count,
        "encoded_state_bytes_per_incident": stored_bytes / count,
        "build_seconds": build_s,
        "rebuild_seconds": rebuild_s,
    }


if __name__ == "__main__":
    print(json.dumps(measure(int(sys.argv[1]))))
