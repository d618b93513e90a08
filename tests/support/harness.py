"""A worker built as the CLI builds it, with every send captured instead of going to Kafka.

No broker and no database: the ledger is the in-memory fake, the consumer
says which partitions this worker owns, and each test hands the clock's
handler a batch of messages as Faust would, then reads what was sent.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from faust.types import TP, Message

from monitor.adapters.clock import Clock, SystemClock
from monitor.adapters.kafka.topology import Topology
from monitor.adapters.sql.ledger_writer import ThreadLedgerWriter
from monitor.application.ledger import InMemoryLedger
from monitor.settings import Settings
from streams.app import Monitor, build


@dataclass
class Sent:
    topic: str
    key: bytes | None
    value: bytes | None
    partition: int | None

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.value or b"null")


@dataclass
class FakeEvent:
    """What the clock's handler reads of a Faust event: its message."""

    message: Message


@dataclass
class Harness:
    monitor: Monitor
    ledger: InMemoryLedger
    sent: list[Sent] = field(default_factory=list)
    offsets: dict[tuple[str, int], int] = field(default_factory=dict)
    failing: bool = False
    """While true, every send is handed over but its delivery fails (a broker that refuses)."""
    slow: bool = False
    """While true, deliveries wait in ``undelivered`` until ``deliver`` (a broker that lags)."""
    undelivered: list[asyncio.Future[Any]] = field(default_factory=list)

    def deliver(self) -> int:
        """The broker acknowledges every send waiting so far; how many there were."""
        waiting, self.undelivered = self.undelivered, []
        for future in waiting:
            future.set_result(None)
        return len(waiting)

    @property
    def topology(self) -> Topology:
        return self.monitor.topology

    def on(self, topic: str) -> list[Sent]:
        return [s for s in self.sent if s.topic == topic]

    def message(
        self, topic: str, value: bytes | None, key: bytes | None = None, partition: int = 0
    ) -> FakeEvent:
        offset = self.offsets.get((topic, partition), 0)
        self.offsets[(topic, partition)] = offset + 1
        message = Message(
            topic=topic,
            partition=partition,
            offset=offset,
            timestamp=1_700_000_000.0,
            timestamp_type=0,
            headers=None,
            key=key,
            value=value,
            checksum=b"",
            serialized_key_size=0,
            serialized_value_size=0,
        )
        return FakeEvent(message)

    async def batch(self, *events: FakeEvent) -> None:
        await self.monitor.clock_handler.on_batch(list(events))
        await self.monitor.clock_handler.settled()

    def state(self, incident_id: str) -> dict[str, Any] | None:
        raw = self.monitor.clock_handler.table.table.data.get(incident_id.encode())
        return None if raw is None else json.loads(raw)

    def catch_up(self, highwater: int | None) -> None:
        """Say every input partition's end is at ``highwater`` (None: unknown)."""
        self.monitor.progress.highwater = lambda tp: highwater  # type: ignore[method-assign]


def harness(
    partitions: int = 1,
    *,
    owned: set[int] | None = None,
    clock: Clock | None = None,
    settings: Settings | None = None,
) -> Harness:
    """A worker of ``partitions`` partitions that owns ``owned`` (default: all) of them."""
    settings = settings or Settings(kafka_bootstrap_servers="127.0.0.1:1", app_id="unit")
    ledger = InMemoryLedger()
    holder: list[Harness] = []

    async def send(
        topic: str, key: bytes | None, value: bytes | None, partition: int | None
    ) -> Awaitable[Any]:
        h = holder[0]
        h.sent.append(Sent(topic, key, value, partition))
        delivered: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if h.failing:
            delivered.set_exception(ConnectionError("the broker refused it"))
        elif h.slow:
            h.undelivered.append(delivered)
        else:
            delivered.set_result(None)
        return delivered

    topology = Topology.from_settings(settings, partitions, 1)
    monitor = build(
        settings,
        topology,
        clock=clock or SystemClock(),
        ledger=ThreadLedgerWriter(ledger, settings.policy),
        send=send,
    )
    h = Harness(monitor, ledger)
    holder.append(h)
    owned = set(range(partitions)) if owned is None else owned
    assignment = [TP(topology.incidents, p) for p in sorted(owned)]
    assignment += [TP(topology.crime_records, 0)]
    monitor.progress.assigned = lambda topic: [  # type: ignore[method-assign]
        tp for tp in assignment if tp.topic == topic
    ]
    h.catch_up(None)
    return h


def stamp(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
