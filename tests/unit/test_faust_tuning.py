"""The changes to Faust's per-message path keep what Faust does with a message."""

from __future__ import annotations

import asyncio
import gc
import warnings

import faust
from mode import Service
from mode.utils.locks import Event

from monitor.adapters.faust.tuning import EagerDelivery, QuietMonitor, RawSchema


class Fetcher(EagerDelivery, Service):
    """Stands in for Faust's consumer: the fetch loop calls ``wait_first`` like this."""

    def __init__(self) -> None:
        super().__init__()
        self.suspend_flow = Event()


async def test_a_delivery_that_need_not_wait_runs_inline_and_makes_no_task() -> None:
    fetcher, delivered = Fetcher(), []

    async def deliver() -> str:
        delivered.append("message")
        return "done"

    tasks_before = len(asyncio.all_tasks())
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a suspension left un-awaited would warn
        result = await fetcher.wait_first(deliver(), fetcher.suspend_flow.wait())
        gc.collect()
    assert delivered == ["message"] and result.results == ["done"] and not result.stopped
    assert len(asyncio.all_tasks()) == tasks_before


async def test_a_delivery_that_waits_is_finished_from_where_it_waited() -> None:
    fetcher, room = Fetcher(), asyncio.get_running_loop().create_future()
    steps = []

    async def deliver() -> str:
        steps.append("started")
        await room  # the stream's buffer is full
        steps.append("put")
        return "done"

    waiting = asyncio.ensure_future(fetcher.wait_first(deliver(), fetcher.suspend_flow.wait()))
    await asyncio.sleep(0.01)
    assert steps == ["started"] and not waiting.done()
    room.set_result(None)
    result = await waiting
    assert steps == ["started", "put"] and result.results == ["done"]


async def test_a_waiting_delivery_is_abandoned_when_the_flow_is_suspended() -> None:
    fetcher, room = Fetcher(), asyncio.get_running_loop().create_future()
    cancelled = []

    async def deliver() -> None:
        try:
            await room
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    waiting = asyncio.ensure_future(fetcher.wait_first(deliver(), fetcher.suspend_flow.wait()))
    await asyncio.sleep(0.01)
    fetcher.suspend_flow.set()
    result = await asyncio.wait_for(waiting, 1)
    assert len(result.done) == 1 and cancelled == [True] and room.cancelled()


async def test_a_delivery_that_fails_at_once_raises_as_before() -> None:
    fetcher = Fetcher()

    async def deliver() -> None:
        raise ValueError("cannot decode")

    try:
        await fetcher.wait_first(deliver(), fetcher.suspend_flow.wait())
    except ValueError as exc:
        assert str(exc) == "cannot decode"
    else:
        raise AssertionError("the error was swallowed")


async def test_while_the_flow_is_suspended_faust_s_own_race_is_used() -> None:
    fetcher = Fetcher()
    fetcher.suspend_flow.set()
    ran = []

    async def deliver() -> None:
        ran.append(True)

    result = await fetcher.wait_first(deliver(), fetcher.suspend_flow.wait())
    assert ran == [True] and len(result.done) == 2  # mode's race: both were ready


async def test_the_raw_schema_hands_the_message_over_as_it_is() -> None:
    app = faust.App("raw-schema-test", broker="kafka://127.0.0.1:1", monitor=QuietMonitor())
    topic = app.topic("t", schema=RawSchema())
    message = faust.types.Message("t", 0, 5, 0.0, 0, None, b"\x00key", b"\xffnot json", b"", 0, 0)
    event = await topic.decode(message)
    assert event.key == b"\x00key" and event.value == b"\xffnot json"
    assert event.message is message
