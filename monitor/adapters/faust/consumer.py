"""The worker's Kafka consumer: Faust's, made safe at the end of a rebalance.

Faust ends every rebalance the same way (``Recovery.on_recovery_completed``):
it resumes the stream partitions, seeks them to their committed offsets, then
resumes flow control, which empties every stream queue
(``clear_on_resume``), and resumes the flow. Two faults follow, and together
they lose records:

- a record fetched between resuming the partitions and emptying the queues
  is thrown away after the consumer's position has already passed it;
- the seek leaves alone a partition with no committed offset (or offset 0),
  so nothing ever reads that record again. The partition's acks then have a
  hole at it, which also stops its commits for good.

Seen on the embedded broker when a worker restarted within the session
timeout: the crime records that arrived while it was down were fetched
during that window, a handful were thrown away, those crimes were never
routed, and the partition's committed offset stayed where it was.

So this consumer holds the stream partitions back from fetching while it
seeks and until the flow is resumed (after the queues are emptied), and it
seeks a partition with no committed offset to its beginning, which is what
``auto_offset_reset="earliest"`` promises for it.

A third fault hides in the hold itself. Faust hands aiokafka its live set of
active partitions as the filter of what a fetch may return, and aiokafka
reads an empty filter as "no filter" (``if partitions and tp not in
partitions``). While every partition is held (or paused at the end of
recovery) that set is empty, so a fetch that was already waiting returned
the records of held partitions; Faust then dropped them, since they were not
active, after aiokafka's position had passed them. Seen on the embedded
broker when a worker restarted within the session timeout, in 4 of 15 runs
on a loaded machine: the never-committed crime-records partitions
were reset to their beginning, fetched to their end and dropped in the same
moment, and the worker sat idle with the whole topic as lag. So the filter
this consumer hands aiokafka is never empty in aiokafka's eyes: an empty set
of active partitions lets nothing through.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Set
from typing import Any, cast

import faust
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP

from monitor.adapters.faust.tuning import EagerDelivery


class FetchFilter(Set[TP]):
    """The consumer's live set of active partitions, as aiokafka's fetch filter.

    Membership follows the live set as Faust pauses and resumes partitions while a
    fetch waits; unlike the set, it is true when empty, so aiokafka filters by it
    (and lets nothing through) instead of returning every partition's records.
    """

    __slots__ = ("_active",)

    def __init__(self, active: Set[TP]) -> None:
        self._active = active

    def __contains__(self, tp: object) -> bool:
        return tp in self._active

    def __iter__(self) -> Iterator[TP]:
        return iter(self._active)

    def __len__(self) -> int:
        return len(self._active)

    def __bool__(self) -> bool:
        return True


class SafeSeekConsumer(EagerDelivery, faust_aiokafka.Consumer):
    _held_until_flow: set[TP]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._held_until_flow = set()

    async def _getmany(self, active_partitions: set[TP] | None, timeout: float) -> Any:
        # None is Faust's client-only mode (no filter, by design); any set, even an
        # empty one, must filter.
        if active_partitions is not None:
            active_partitions = cast(set[TP], FetchFilter(active_partitions))
        return await super()._getmany(active_partitions, timeout)

    async def perform_seek(self) -> None:
        if self.flow_active:
            # The end of a rebalance: the queues are emptied after this seek and
            # before resume_flow(); nothing may be fetched for the streams until then.
            streams = {tp for tp in self._get_active_partitions() if not self._is_changelog_tp(tp)}
            self.pause_partitions(streams)
            self._held_until_flow |= streams
            self.log.info("holding %d stream partitions until the flow resumes", len(streams))
        await super().perform_seek()

    async def seek_to_committed(self) -> Mapping[TP, int]:
        committed = await super().seek_to_committed()
        # aiokafka seeks only where a positive offset was committed; elsewhere the
        # position is wherever the last fetch left it, past anything thrown away.
        never_committed = [
            tp for tp, offset in committed.items() if not offset and not self._is_changelog_tp(tp)
        ]
        if never_committed:
            await self._thread.seek_to_beginning(*never_committed)
        return committed

    def resume_flow(self) -> None:
        super().resume_flow()
        held, self._held_until_flow = self._held_until_flow, set()
        if held:
            still_ours = held & self.assignment()
            self.resume_partitions(still_ours)
            self.log.info("released %d stream partitions", len(still_ours))


class SafeSeekTransport(faust_aiokafka.Transport):
    Consumer = SafeSeekConsumer


def use_transport(app: faust.App, transport: type[faust_aiokafka.Transport]) -> None:
    """Build ``app``'s Kafka transport (its consumer and producer) from ``transport``."""

    def new_transport() -> Any:
        return transport(app.conf.broker_consumer, app)

    app._new_transport = new_transport  # type: ignore[method-assign]
