"""A stream read in batches of what is ready, acknowledged only once the batch is done.

Handling events in batches lets a handler write each changed key once and
send one record where it would have sent one per event. Unlike Faust's
``take``, this never waits to fill a batch: a batch is the event the stream
hands over plus whatever else is buffered at that moment (at most ``limit``
events), so a lone live event is handled at once and a backlog is handled in
large batches.

The stream's own acknowledgement is turned off while batching and each event
is acknowledged after its batch has been handled, so a committed offset never
passes an event whose effects were not yet handed to the producer (Faust
flushes the producer before it commits). A handler whose work goes on after
its turn (the clock saves a batch while it handles the next) holds the batch
(``Batch.hold``) and acknowledges it itself when that work is done.

A batch is taken from the buffer in one go, without returning to the event
loop, and goes straight to the handler. That is what keeps a rebalance or a
shutdown from hanging: Faust clears the buffers and then waits for every
event a stream has taken to be acknowledged. A batch gathered one
``async for`` step at a time could be left half-gathered by the clearing,
its events taken but never handled, and Faust would wait for them for ever
(seen: a worker reading a backlog did not stop on SIGTERM within a minute).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any

from faust.types import EventT, StreamT

Release = Callable[[], Awaitable[None]]
"""Acknowledge a held batch's events."""


class Batch(list[EventT]):
    """One batch of events, acknowledged after its turn unless its handler holds it."""

    def __init__(self, stream: StreamT, events: Iterable[EventT]) -> None:
        super().__init__(events)
        self._stream = stream
        self.held = False

    def hold(self) -> Release:
        """Acknowledge later, by awaiting the function returned, instead of after the turn.

        The holder must call it once, on failure too: Faust waits at a rebalance or
        a shutdown until every event it handed over is acknowledged.
        """
        self.held = True
        return self._ack

    async def _ack(self) -> None:
        for event in self:
            await self._stream.ack(event)


async def ready_batches(stream: StreamT, limit: int) -> AsyncIterator[Batch]:
    """Yield batches of at most ``limit`` events; acknowledge each after its turn (unless held)."""
    app = stream.app
    queue = stream.channel.queue  # type: ignore[attr-defined]
    acks_were = stream.enable_acks
    stream.enable_acks = False
    try:
        async for _ in stream:
            first = stream.current_event
            if first is None:
                continue
            batch = Batch(stream, [first])
            while len(batch) < limit and not queue.empty() and _flowing(app, queue):
                batch.append(_take(stream, queue.get_nowait()))
            try:
                yield batch
            finally:
                if not batch.held:
                    await batch._ack()
    finally:
        stream.enable_acks = acks_were


def _flowing(app: Any, queue: Any) -> bool:
    """Whether the next buffered event is one the stream itself would hand over now.

    Faust's stream skips events while the flow is suspended (a rebalance or a
    shutdown has begun) and events from before the last rebalance; those are
    left in the buffer for the stream to skip as it always does.
    """
    if not app.flow_control.is_active():
        return False
    event = queue._queue[0]  # the next, without taking it
    return isinstance(event, EventT) and event.message.generation_id == app.consumer_generation_id


def _take(stream: StreamT, event: EventT) -> EventT:
    """What Faust's stream does with an event it takes (``Stream._py_aiter``), but yield it.

    The message is tracked as taken, so a rebalance waits for its
    acknowledgement, and the sensors hear of it as they would.
    """
    message = event.message
    if message.topic in stream.app.topics.acking_topics and not message.tracked:
        message.tracked = True
        stream.app.consumer.track_message(message)
    stream._on_stream_event_in(message.tp, message.offset, stream, event)  # type: ignore[attr-defined]
    stream.events_total += 1  # type: ignore[attr-defined]
    return event
