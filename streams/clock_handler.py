"""The recording clock's agent: one batch of messages from its three topics at a time.

The agent reads ``incidents``, ``crime-records`` and its own links topic
(co-partitioned with ``incidents``). For each batch it:

1. decodes every message; an unreadable one becomes a dead letter;
2. folds each incident event into its incident's state. A crime record is
   fanned out to the incidents it names: straight into the state when this
   worker owns the incident's partition, else in one links record per
   partition. A misrouted incident event goes the same way. A watermark
   tick on the links topic advances that partition's clock and announces
   what fell due;
3. hands every announcement, dead letter, links record and one ledger record
   (the batch's changed states, encoded once, and its crime events) to the
   producer, then records how far each input has been read;
4. waits until the broker has all of it, and only then saves each changed
   state once (the table's store and its changelog, ``monitor.adapters.faust.table_store``)
   and acknowledges the batch's messages.

Saving last is what makes a crash safe: if the worker stops before the save,
the batch is read again (its offsets were not committed) and announces the
same events, with the same ids, which subscribers drop; if it stops after,
everything the states say was announced is on the broker.

Step 4 runs while the next batch is handled (steps 1 to 3), which reads the
states waiting to be saved: on a backlog the wait for the broker overlaps
the next batch's work instead of adding to it. One batch at a time waits;
batches are saved and acknowledged in the order they were read.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict, defaultdict
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from faust.types import TP, EventT, Message

from monitor.adapters.clock import Clock
from monitor.adapters.faust.table_store import TableIncidentStore
from monitor.adapters.kafka.partitioning import partition_for
from monitor.adapters.kafka.publisher import Publisher
from monitor.adapters.kafka.topology import Topology
from monitor.adapters.prometheus.metrics import Metrics
from monitor.adapters.safe_errors import describe, log_failure
from monitor.adapters.state_codec import encode_state
from monitor.adapters.wire.inbound import Rejected, decode_crime_event, decode_incident_event
from monitor.adapters.wire.internal_messages import (
    DecodeError,
    LinksBatch,
    decode_links,
    encode_ledger,
    encode_links,
)
from monitor.application.held_writes import HeldWrites
from monitor.application.recording_clock import RecordingClock
from monitor.application.watermarks import PartitionClock
from monitor.domain.inputs import (
    CrimeCancelled,
    CrimeLinked,
    CrimeRecorded,
    IncidentInput,
    event_time,
    links_of,
)
from monitor.domain.outcomes import Fact
from schemas.dead_letters import RejectionKind
from schemas.event_types import type_of
from streams.batches import Release
from streams.progress import ConsumerProgress

log = logging.getLogger(__name__)


class RecentIds:
    """The last N event ids seen, to drop a redelivered event before it has effects."""

    def __init__(self, capacity: int = 100_000) -> None:
        self.capacity = capacity
        self._ids: OrderedDict[str, None] = OrderedDict()

    def seen(self, event_id: str) -> bool:
        if event_id in self._ids:
            self._ids.move_to_end(event_id)
            return True
        self._ids[event_id] = None
        if len(self._ids) > self.capacity:
            self._ids.popitem(last=False)
        return False


@dataclass
class _Batch:
    """What one batch has to send, and how far it read each input."""

    owned: frozenset[int]
    facts: list[Fact] = field(default_factory=list)
    dead_letters: list[tuple[Rejected, Message]] = field(default_factory=list)
    links: dict[int, list[CrimeLinked]] = field(default_factory=lambda: defaultdict(list))
    rerouted: dict[int, list[bytes]] = field(default_factory=lambda: defaultdict(list))
    recorded: list[CrimeRecorded] = field(default_factory=list)
    cancelled: list[CrimeCancelled] = field(default_factory=list)
    read: list[tuple[TP, int, datetime | None]] = field(default_factory=list)
    clocks: dict[int, datetime | None] = field(default_factory=dict)


class ClockHandler:
    def __init__(
        self,
        *,
        topology: Topology,
        service: RecordingClock,
        writes: HeldWrites,
        table: TableIncidentStore,
        progress: ConsumerProgress,
        publisher: Publisher,
        metrics: Metrics,
        clock: Clock,
        lateness: timedelta,
        max_event_bytes: int,
    ) -> None:
        self.topology = topology
        self.service = service
        self.writes = writes
        self.table = table
        self.progress = progress
        self.publisher = publisher
        self.metrics = metrics
        self.clock = clock
        self.lateness = lateness
        self.max_event_bytes = max_event_bytes
        self.clocks: dict[int, PartitionClock] = defaultdict(PartitionClock)
        self.recent = RecentIds()
        self._batches = 0
        self._saving: asyncio.Task[None] | None = None

    async def on_batch(self, events: Sequence[EventT], release: Release | None = None) -> None:
        """Handle a batch and hand its records to the producer; its save goes on after.

        ``release`` acknowledges the batch's messages; it is called once the batch
        is saved, or at once if handling fails. ``settled`` waits for the save.
        """
        try:
            await self._handle_batch(events, release)
        except BaseException:
            if release is not None:
                await release()
            raise

    async def settled(self) -> None:
        """Wait until the last batch is saved (and raise what its save raised)."""
        saving, self._saving = self._saving, None
        if saving is not None:
            await saving

    async def _handle_batch(self, events: Sequence[EventT], release: Release | None) -> None:
        owned = frozenset(tp.partition for tp in self.progress.assigned(self.topology.incidents))
        batch = _Batch(owned)
        # A batch's incident events are applied before the crimes and links read with
        # them (each partition's own order kept), as when every crime took a hop
        # through the links topic: a report and its record read together measure
        # the record as it arrives.
        incidents = self.topology.incidents
        for event in sorted(events, key=lambda e: e.message.topic != incidents):
            message = event.message
            try:
                self._handle(message, batch)
            except Exception as exc:
                # A bug must not stop the worker or lose the message: dead-letter it with the
                # cause, told by its class and where it was raised, never by its text (that
                # may quote the input).
                log_failure(log, "failed to process %s", message.tp, exc=exc)
                reason = Rejected(RejectionKind.INTERNAL_ERROR, describe(exc))
                batch.dead_letters.append((reason, message))
        await self._finish(batch, release)

    def now(self, partition: int) -> datetime | None:
        """This partition's clock: the least watermark of everything it joins."""
        incidents_mark = self.progress.watermark(
            TP(self.topology.incidents, partition), self.clock.now()
        )
        now = self.clocks[partition].advance(incidents_mark, self.lateness)
        if now is not None:
            lag = (self.clock.now() - now).total_seconds()
            self.metrics.partition_clock_lag.labels(str(partition)).set(max(lag, 0.0))
        return now

    def forget(self, partitions: set[int]) -> None:
        for partition in partitions:
            self.clocks.pop(partition, None)

    def _handle(self, message: Message, batch: _Batch) -> None:
        topic = message.topic
        if topic == self.topology.links:
            self._from_links(message, batch)
            return
        incidents = topic == self.topology.incidents
        decode = decode_incident_event if incidents else decode_crime_event
        try:
            event = decode(message.value, max_bytes=self.max_event_bytes)
        except Rejected as rejected:
            batch.dead_letters.append((rejected, message))
            batch.read.append((message.tp, message.offset, None))
            return
        self.metrics.consumed(topic, type_of(event))
        if incidents:
            self._incident(event, message, batch)  # type: ignore[arg-type]
        else:
            self._crime(event, batch)  # type: ignore[arg-type]
        batch.read.append((message.tp, message.offset, event_time(event)))

    def _incident(self, incident: IncidentInput, message: Message, batch: _Batch) -> None:
        partition = partition_for(incident.incident_id, self.topology.partitions)
        if partition != message.partition:
            # Keyed by something other than the incident id: it belongs with the
            # partition that holds this incident, or the join would split it.
            self.metrics.events_rerouted.inc()
            if partition not in batch.owned:
                batch.rerouted[partition].append(message.value or b"")
                return
        self._apply(incident, partition, batch)

    def _crime(self, crime: CrimeRecorded | CrimeCancelled, batch: _Batch) -> None:
        if self.recent.seen(crime.event_id):
            return
        if isinstance(crime, CrimeCancelled):
            batch.cancelled.append(crime)
            return
        links = links_of(crime)
        for link in links:
            partition = partition_for(link.incident_id, self.topology.partitions)
            if partition in batch.owned:
                self._apply(link, partition, batch)
            else:
                batch.links[partition].append(link)
        if not links:
            self.metrics.crimes_unlinked.inc()
        batch.recorded.append(crime)

    def _from_links(self, message: Message, batch: _Batch) -> None:
        try:
            routed = decode_links(message.value or b"")  # a tombstone is unreadable
        except DecodeError as exc:
            log.error("unreadable message on %s: %s", message.topic, exc)
            reason = f"unreadable internal message: {exc}"
            batch.dead_letters.append((Rejected(RejectionKind.INVALID, reason), message))
            return
        partition = message.partition
        if isinstance(routed, LinksBatch):
            for link in routed.links:
                self._apply(link, partition, batch)
            for raw in routed.incidents:
                # It was checked when first read; no size limit the second time.
                self._apply(
                    decode_incident_event(raw.encode(), max_bytes=1 << 30), partition, batch
                )
            return
        self.clocks[partition].observe_crime_marks(routed.source_partitions, dict(routed.marks))
        now = batch.clocks[partition] = self.now(partition)
        if now is not None:
            batch.facts.extend(self.service.tick(partition=partition, now=now).facts)

    def _apply(self, incident: IncidentInput, partition: int, batch: _Batch) -> None:
        if partition not in batch.clocks:
            batch.clocks[partition] = self.now(partition)
        changes = self.service.handle(incident, partition=partition, now=batch.clocks[partition])
        batch.facts.extend(changes.facts)

    async def _finish(self, batch: _Batch, release: Release | None) -> None:
        held = self.writes.take()
        encoded = {key: encode_state(state) for key, state in held.items() if state is not None}
        publisher = self.publisher
        for fact in batch.facts:
            await publisher.fact(fact)
        received_at = self.clock.now()
        for rejected, message in batch.dead_letters:
            await publisher.dead_letter(rejected, message, received_at)
        for partition in sorted(batch.links.keys() | batch.rerouted.keys()):
            records = encode_links(
                batch.links.get(partition, ()), batch.rerouted.get(partition, ())
            )
            await publisher.links(partition, records)
        if encoded or batch.recorded or batch.cancelled:
            await publisher.ledger(encode_ledger(encoded.values(), batch.recorded, batch.cancelled))
        # Only now may an input's watermark move past what was read: every link
        # it produced is queued ahead of the next watermark tick.
        for tp, offset, at in batch.read:
            self.progress.observe(tp, offset, at)
        self._batches += 1
        number, changes = self._batches, {key: encoded.get(key) for key in held}
        self.table.hold(number, changes)  # the next batch reads them before they are saved
        deliveries = publisher.take_pending()
        try:
            await self.settled()  # the last batch: its wait overlapped this one's work
        except BaseException:
            self.table.drop(number)
            raise
        self._saving = asyncio.create_task(
            self._save(number, changes, deliveries, bool(batch.read), release)
        )
        # One turn of the event loop: the save starts now, and the web server, the
        # consumer and the timers get a turn at least once a batch even when nothing
        # else makes the worker wait (a backlog read from the buffer).
        await asyncio.sleep(0)

    async def _save(
        self,
        number: int,
        changes: dict[str, bytes | None],
        deliveries: list[Awaitable[Any]],
        read: bool,
        release: Release | None,
    ) -> None:
        """Once the broker has the batch's records, save its states; then acknowledge it."""
        try:
            if deliveries:
                await asyncio.gather(*deliveries)
            await self.table.save(changes, self.publisher, number)
        except BaseException:
            self.table.drop(number)
            raise
        finally:
            if release is not None:
                await release()
        if read:
            self.metrics.last_event_timestamp.set(time.time())
