"""The fetch filter: a worker never has aiokafka hand over records it will not deliver.

aiokafka returns a fetch's records only for the partitions in the filter it is
given, unless that filter is empty, when it returns every partition's records
and moves each position past them. Faust gives it the live set of active
partitions, which is empty while every partition is held at the end of a
rebalance; the records came back, Faust dropped them as inactive, and they were
never read again. These tests run aiokafka's own ``fetched_records`` on a
buffered fetch.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from aiokafka.consumer.fetcher import Fetcher, FetchResult
from aiokafka.structs import TopicPartition

from monitor.adapters.faust.consumer import FetchFilter, SafeSeekConsumer

CRIMES = TopicPartition("crime-records", 0)
LINKS = TopicPartition("links", 0)


class _PartitionState:
    """What FetchResult reads of aiokafka's per-partition state."""

    paused = False

    def __init__(self, position: int) -> None:
        self.position = position

    def consumed_to(self, position: int) -> None:
        self.position = position


class _Assignment:
    active = True

    def __init__(self, states: dict[TopicPartition, _PartitionState]) -> None:
        self.states = states

    def state_value(self, tp: TopicPartition) -> _PartitionState:
        return self.states[tp]


class _PartitionRecords:
    """A fetched batch as FetchResult iterates it: offsets, and the next offset to fetch."""

    def __init__(self, offsets: list[int]) -> None:
        self._offsets = iter(offsets)
        self.next_fetch_offset = offsets[0]

    def __iter__(self) -> _PartitionRecords:
        return self

    def __next__(self) -> int:
        offset = next(self._offsets)
        self.next_fetch_offset = offset + 1
        return offset


def buffered_fetch() -> tuple[Any, _PartitionState]:
    """An aiokafka fetcher holding crime-records offsets 0 to 4, position at 0."""
    state = _PartitionState(position=0)
    result = FetchResult(
        CRIMES,
        assignment=_Assignment({CRIMES: state}),
        partition_records=_PartitionRecords([0, 1, 2, 3, 4]),
        backoff=0,
    )
    fetcher = SimpleNamespace(
        _subscriptions=SimpleNamespace(reassignment_in_progress=False, is_assigned=lambda tp: True),
        _records={CRIMES: result},
        _notify=lambda future: None,
        _wait_consume_future=None,
    )
    return fetcher, state


async def test_aiokafka_reads_an_empty_filter_as_no_filter() -> None:
    # The hazard itself: if aiokafka changes this, the guard may go, but not before.
    fetcher, state = buffered_fetch()
    drained = await Fetcher.fetched_records(fetcher, set(), timeout=0)
    assert drained == {CRIMES: [0, 1, 2, 3, 4]}
    assert state.position == 5


async def test_an_empty_fetch_filter_lets_nothing_through_and_keeps_the_position() -> None:
    fetcher, state = buffered_fetch()
    drained = await Fetcher.fetched_records(fetcher, FetchFilter(set()), timeout=0)
    assert drained == {}
    assert state.position == 0
    assert CRIMES in fetcher._records  # still buffered for when the partition is released


async def test_the_fetch_filter_follows_the_live_set_while_a_fetch_waits() -> None:
    active = {LINKS}
    live = FetchFilter(active)
    fetcher, state = buffered_fetch()
    assert await Fetcher.fetched_records(fetcher, live, timeout=0) == {}
    active.add(CRIMES)  # released after the fetch began: its records now come through
    assert await Fetcher.fetched_records(fetcher, live, timeout=0) == {CRIMES: [0, 1, 2, 3, 4]}
    assert state.position == 5
    assert set(live) == {LINKS, CRIMES} and len(live) == 2


async def test_the_safe_seek_consumer_fetches_through_the_filter_over_its_live_set() -> None:
    seen: list[tuple[object, float]] = []

    class _Thread:
        async def getmany(self, active_partitions: object, timeout: float) -> dict[Any, Any]:
            seen.append((active_partitions, timeout))
            return {}

    consumer = object.__new__(SafeSeekConsumer)  # only the fetch path is exercised
    consumer._thread = _Thread()  # type: ignore[assignment]
    active: set[Any] = set()
    assert await consumer._getmany(active, 1.0) == {}
    ((passed, timeout),) = seen
    assert isinstance(passed, FetchFilter) and passed and timeout == 1.0
    active.add(CRIMES)
    assert CRIMES in passed  # the same set, not a copy taken when the fetch began

    seen.clear()
    await consumer._getmany(None, 1.0)  # client-only mode: no filter, as Faust asks
    assert seen == [(None, 1.0)]
