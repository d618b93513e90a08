"""Sending to Kafka: announcements, dead letters and the worker's own records.

Every send is handed to the producer at once; ``delivered`` waits until the
broker has acknowledged all of them. The clock saves a batch's states only
after that, so a saved state never stands for an announcement that was lost.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from typing import Any

import faust
from faust.types import Message

from monitor.adapters.kafka.topology import Topology
from monitor.adapters.prometheus.metrics import Metrics
from monitor.adapters.wire.inbound import Rejected
from monitor.adapters.wire.outbound import Stream, encode_dead_letter, encode_fact
from monitor.domain.outcomes import Fact
from schemas.envelope import DEFAULT_SCHEMA_BASE

Send = Callable[[str, bytes | None, bytes | None, int | None], Awaitable[Awaitable[Any]]]
"""``send(topic, key, value, partition)``: hand a record to the producer (a None value is
a tombstone); the result is awaited for its delivery."""


def producer_send(app: faust.App) -> Send:
    """Faust's producer, without its per-message bookkeeping (the worker tracks deliveries)."""

    async def send(
        topic: str, key: bytes | None, value: bytes | None, partition: int | None
    ) -> Awaitable[Any]:
        return await app.producer.send(topic, key, value, partition, None, None)

    return send


class Publisher:
    def __init__(
        self,
        *,
        send: Send,
        topology: Topology,
        source: str,
        metrics: Metrics,
        schema_base: str = DEFAULT_SCHEMA_BASE,
        raw_dead_letters: bool = False,
    ) -> None:
        self._send = send
        self.raw_dead_letters = raw_dead_letters  # copy values byte for byte, victim fields too
        self.topology = topology
        self.source = source
        self.metrics = metrics
        self.schema_base = schema_base
        self._topics = {
            Stream.OUTCOMES: topology.outcomes,
            Stream.ALERTS: topology.alerts,
            Stream.DEAD_LETTERS: topology.dead_letters,
            Stream.REFERRALS: topology.referrals,
        }
        self._pending: list[Awaitable[Any]] = []

    async def send(
        self,
        topic: str,
        value: bytes | None,
        *,
        key: bytes | None = None,
        partition: int | None = None,
        tracked: bool = True,
    ) -> Awaitable[Any]:
        """Hand a record to the producer; the result is awaited for its delivery (metadata).

        ``tracked``: counted among the sends ``delivered`` and ``take_pending`` wait for;
        a caller that awaits the result itself may leave it out.
        """
        delivery = await self._send(topic, key, value, partition)
        if tracked:
            self._pending.append(delivery)
        return delivery

    def take_pending(self) -> list[Awaitable[Any]]:
        """Every tracked send so far, to be awaited by the caller, who then owns them."""
        pending, self._pending = self._pending, []
        return pending

    async def delivered(self) -> None:
        """Wait until the broker has every record sent so far (raise if one failed)."""
        pending = self.take_pending()
        if pending:
            await asyncio.gather(*pending)

    async def fact(self, fact: Fact) -> None:
        out = encode_fact(fact, source=self.source, schema_base=self.schema_base)
        await self.send(self._topics[out.stream], out.value, key=out.key.encode())
        self.metrics.count_fact(fact)

    async def links(self, partition: int, records: Iterable[bytes]) -> None:
        for record in records:
            await self.send(self.topology.links, record, partition=partition)

    async def ledger(self, records: Iterable[bytes]) -> None:
        for record in records:
            await self.send(self.topology.ledger, record)

    async def dead_letter(
        self, rejected: Rejected, message: Message, received_at: datetime
    ) -> None:
        out = encode_dead_letter(
            rejected,
            source=self.source,
            topic=message.topic,
            partition=message.partition,
            offset=message.offset,
            timestamp=message.timestamp,
            key=message.key if isinstance(message.key, bytes | None) else None,
            value=message.value if isinstance(message.value, bytes) else None,
            received_at=received_at,
            schema_base=self.schema_base,
            raw_copy=self.raw_dead_letters,
        )
        await self.send(self._topics[Stream.DEAD_LETTERS], out.value, key=out.key.encode())
        self.metrics.events_rejected.labels(message.topic, rejected.kind.value).inc()
