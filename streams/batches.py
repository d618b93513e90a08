"""A stream read in batches of what is ready now, acknowledged only once the batch is done.

Handling events in batches lets a handler write each changed key once and
send one record where it would have sent one per event. Unlike Faust's
``take``, this never waits to fill a batch: a batch ends as soon as nothing
more is buffered (or at ``limit`` events), so a lone live event is handled
at once and a backlog is handled in large batches.

The stream's own acknowledgement is turned off while batching and each event
is acknowledged after its batch has been handled, so a committed offset never
passes an event whose effects were not yet handed to the producer (Faust
flushes the producer before it commits). The batch is never held while
waiting for the next event, so a rebalance, which waits for every delivered
event to be acknowledged, is never held up by it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from faust.types import EventT, StreamT


async def ready_batches(stream: StreamT, limit: int) -> AsyncIterator[list[EventT]]:
    """Yield lists of at most ``limit`` events; acknowledge each list after its turn."""
    queue = stream.channel.queue  # type: ignore[attr-defined]
    acks_were = stream.enable_acks
    stream.enable_acks = False
    batch: list[EventT] = []
    try:
        async for _ in stream:
            event = stream.current_event
            if event is None:
                continue
            batch.append(event)
            if len(batch) < limit and not queue.empty():
                continue
            try:
                yield batch
            finally:
                for done in batch:
                    await stream.ack(done)
                batch = []
    finally:
        stream.enable_acks = acks_were
