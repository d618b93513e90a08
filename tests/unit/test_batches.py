"""Reading a stream in batches of what is ready: no waiting to fill, acknowledged after handling."""

from __future__ import annotations

import asyncio

import faust

from streams.batches import ready_batches


def app_with(handler, limit: int = 100) -> tuple[faust.App, faust.types.AgentT]:  # type: ignore[no-untyped-def]
    app = faust.App("batches-test", broker="kafka://127.0.0.1:1", store="memory://")
    topic = app.topic("t", key_type=bytes, value_type=bytes, value_serializer="raw")

    @app.agent(topic)
    async def agent(stream: faust.StreamT) -> None:
        async for batch in ready_batches(stream, limit):
            await handler(batch)

    return app, agent


async def test_what_is_buffered_is_handled_as_one_batch_and_acked_after() -> None:
    seen: list[list[bytes]] = []
    acked_while_handled: list[bool] = []
    done = asyncio.Event()

    async def handler(batch):  # type: ignore[no-untyped-def]
        seen.append([event.value for event in batch])
        acked_while_handled.extend(event.message.acked for event in batch)
        await asyncio.sleep(0.05)  # handling takes a while: more arrives meanwhile
        if sum(len(b) for b in seen) == 6:
            done.set()

    _, agent = app_with(handler)
    async with agent.test_context() as ctx:
        events = [await ctx.put(f"m{i}".encode(), wait=False) for i in range(6)]
        await asyncio.wait_for(done.wait(), 5)
        await asyncio.sleep(0.05)
    assert [v for batch in seen for v in batch] == [f"m{i}".encode() for i in range(6)]
    assert len(seen) < 6  # batched, not one by one
    assert acked_while_handled == [False] * 6
    assert all(event.message.acked for event in events)


async def test_a_lone_event_is_handled_at_once_and_a_batch_never_exceeds_the_limit() -> None:
    seen: list[int] = []
    done = asyncio.Event()

    async def handler(batch):  # type: ignore[no-untyped-def]
        seen.append(len(batch))
        if sum(seen) == 7:
            done.set()

    _, agent = app_with(handler, limit=3)
    async with agent.test_context() as ctx:
        await ctx.put(b"alone", wait=False)
        await asyncio.sleep(0.05)
        assert seen == [1]  # nothing waited to fill the batch
        for i in range(6):
            await ctx.put(f"m{i}".encode(), wait=False)
        await asyncio.wait_for(done.wait(), 5)
    assert max(seen) <= 3 and sum(seen) == 7


class _RebalanceOnFirstEvent(faust.Sensor):
    """Starts a rebalance as soon as the stream has taken its first event and the event
    loop turns (the stream returns to it before taking the next), as Faust does it:
    suspend the flow, then clear every buffer (``App.on_partitions_revoked``)."""

    def __init__(self, app: faust.App) -> None:
        super().__init__()
        self.app = app
        self.fired = False

    def on_stream_event_in(self, tp, offset, stream, event):  # type: ignore[no-untyped-def]
        if not self.fired:
            self.fired = True
            asyncio.get_running_loop().call_soon(self.rebalance)
        return None

    def rebalance(self) -> None:
        self.app.flow_control.suspend()
        self.app.flow_control.clear()


async def test_an_event_taken_before_a_rebalance_clears_the_buffer_is_still_handled() -> None:
    # Faust waits, before it gives partitions up, for every event a stream has
    # taken to be acknowledged. An event taken but left out of any batch when
    # the buffer is cleared would hold the rebalance (and a shutdown) for ever.
    seen: list[bytes] = []
    handled = asyncio.Event()

    async def handler(batch):  # type: ignore[no-untyped-def]
        seen.extend(event.value for event in batch)
        handled.set()

    app, agent = app_with(handler)
    app.sensors.add(_RebalanceOnFirstEvent(app))
    async with agent.test_context() as ctx:
        events = [await ctx.put(f"m{i}".encode(), wait=False) for i in range(5)]
        await asyncio.wait_for(handled.wait(), 2)
        await asyncio.sleep(0.05)
    taken = [event for event in events if event.message.tracked]
    assert taken  # the stream did take events before the rebalance
    assert seen == [event.value for event in taken]
    assert all(event.message.acked for event in taken)


async def test_a_held_batch_is_acknowledged_when_its_holder_releases_it() -> None:
    # The clock saves a batch after its turn, while it handles the next: the
    # batch's offsets may be committed only once it is saved.
    releases = []
    handled = asyncio.Event()

    async def handler(batch):  # type: ignore[no-untyped-def]
        releases.append(batch.hold())
        handled.set()

    app = faust.App("held-test", broker="kafka://127.0.0.1:1", store="memory://")
    topic = app.topic("t", key_type=bytes, value_type=bytes, value_serializer="raw")

    @app.agent(topic)
    async def agent(stream: faust.StreamT) -> None:
        async for batch in ready_batches(stream, 100):
            await handler(batch)

    async with agent.test_context() as ctx:
        events = [await ctx.put(f"m{i}".encode(), wait=False) for i in range(3)]
        await asyncio.wait_for(handled.wait(), 2)
        await asyncio.sleep(0.05)
        taken = [event for event in events if event.message.tracked]
        assert taken and not any(event.message.acked for event in taken)  # turn over, held
        for release in releases:
            await release()
        assert all(event.message.acked for event in taken)
