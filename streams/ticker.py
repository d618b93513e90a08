"""Every tick, tell each partition of the clock how far ``crime-records`` has been read.

A partition's clock may only pass a moment once every crime record up to it
has been applied, wherever that record was read. The worker that owns a
``crime-records`` partition knows how far it has read it; every tick it sends
those watermarks to every partition of the links topic, behind any links it
has already queued there. The tick is also what moves a quiet partition's
clock, so an overdue alert comes within about a tick of its deadline.
"""

from __future__ import annotations

from monitor.adapters.clock import Clock
from monitor.adapters.kafka.publisher import Publisher
from monitor.adapters.kafka.topology import Topology
from monitor.adapters.wire.internal_messages import encode_watermark
from streams.progress import ConsumerProgress


class WatermarkTicker:
    def __init__(
        self, *, topology: Topology, progress: ConsumerProgress, publisher: Publisher, clock: Clock
    ) -> None:
        self.topology = topology
        self.progress = progress
        self.publisher = publisher
        self.clock = clock

    async def tick(self) -> None:
        now = self.clock.now()
        marks = []
        for tp in self.progress.assigned(self.topology.crime_records):
            mark = self.progress.watermark(tp, now)
            if mark is not None:
                marks.append((tp.partition, mark))
        if marks:
            value = encode_watermark(self.topology.crime_partitions, marks)
            for partition in range(self.topology.partitions):
                await self.publisher.send(self.topology.links, value, partition=partition)
            await self.publisher.delivered()
