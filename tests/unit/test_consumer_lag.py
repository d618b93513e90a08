"""Consumer lag per partition: what the broker holds beyond what this worker has read."""

from __future__ import annotations

from typing import Any

from faust.types import TP

from streams.progress import ConsumerProgress

TP0 = TP("incidents", 0)


class FakeConsumer:
    def __init__(self, highwater: int | None, read: int | None, committed: int | None) -> None:
        self._highwater = highwater
        self._read_offset = {} if read is None else {TP0: read}
        self._committed_offset = {} if committed is None else {TP0: committed}

    def highwater(self, tp: TP) -> int:
        if self._highwater is None:
            raise KeyError(tp)
        return self._highwater


class FakeApp:
    def __init__(self, consumer: FakeConsumer) -> None:
        self.consumer = consumer


def lag(**kwargs: Any) -> int | None:
    return ConsumerProgress(FakeApp(FakeConsumer(**kwargs))).lag(TP0)  # type: ignore[arg-type]


def test_lag_is_what_lies_beyond_the_last_message_read() -> None:
    assert lag(highwater=100, read=89, committed=50) == 10
    assert lag(highwater=100, read=99, committed=50) == 0


def test_before_reading_anything_the_committed_offset_is_the_position() -> None:
    assert lag(highwater=100, read=None, committed=40) == 60
    assert lag(highwater=100, read=None, committed=None) == 100


def test_no_lag_is_reported_until_the_broker_has_told_the_highwater() -> None:
    assert lag(highwater=None, read=None, committed=None) is None
