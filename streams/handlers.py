"""What each agent does with one message: decode, call the application, publish.

No business rule lives here; these are the adapters between Faust's events
and the application services.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from faust.types import TP, EventT, Message
from pydantic import TypeAdapter

from monitor.adapters.state_codec import from_record, victim_of_record
from monitor.application.ledger import (
    AlertRow,
    CrimeRow,
    IncidentRow,
    Ledger,
    LedgerBatch,
    crime_row_cancelled,
    crime_row_recorded,
    incident_rows,
    merge_crime,
)
from monitor.application.recording_clock import RecordingClock
from monitor.application.watermarks import PartitionClock
from monitor.clock import Clock
from monitor.domain.inputs import (
    CrimeCancelled,
    CrimeLinked,
    CrimeRecorded,
    IncidentInput,
    event_time,
    links_of,
)
from monitor.domain.policy import TimelinessPolicy
from schemas.internal import (
    CrimeLinkMessage,
    LedgerCrimeCancelled,
    LedgerCrimeRecorded,
    LedgerIncident,
    LedgerMessage,
    LinksMessage,
    RerouteMessage,
    WatermarkMessage,
)
from streams.inbound import Rejected, decode_crime_event, decode_incident_event
from streams.internal_inbound import decode_internal
from streams.metrics import Metrics
from streams.partitioning import partition_for
from streams.progress import ConsumerProgress
from streams.publisher import Publisher
from streams.recovery import Reannouncer
from streams.safe_errors import database_error, database_error_for_log
from streams.topology import Topology

log = logging.getLogger(__name__)

_LINKS = TypeAdapter(LinksMessage)
LEDGER = TypeAdapter(LedgerMessage)
_TYPE_NAMES = {
    "IncidentReported": "cdi.incident.reported",
    "IncidentUpdated": "cdi.incident.updated",
    "IncidentClosed": "cdi.incident.closed",
    "CrimeRecorded": "cdi.crime.recorded",
    "CrimeCancelled": "cdi.crime.cancelled",
}


def _type_name(event: object) -> str:
    return _TYPE_NAMES.get(type(event).__name__, type(event).__name__)


class ClockHandler:
    """The incident clock: ``incidents`` and the links topic, one table keyed by incident."""

    def __init__(
        self,
        *,
        topology: Topology,
        service: RecordingClock,
        progress: ConsumerProgress,
        publisher: Publisher,
        metrics: Metrics,
        clock: Clock,
        lateness: timedelta,
        max_event_bytes: int,
    ) -> None:
        self.topology = topology
        self.service = service
        self.progress = progress
        self.publisher = publisher
        self.metrics = metrics
        self.clock = clock
        self.lateness = lateness
        self.max_event_bytes = max_event_bytes
        self.clocks: dict[int, PartitionClock] = defaultdict(PartitionClock)
        self.recovery: Reannouncer | None = None

    async def on_event(self, event: EventT) -> None:
        message = event.message
        if self.recovery is not None and self.recovery.waiting(message.tp):
            await self.publisher.announce(self.recovery.resumed(message.tp, message.offset))
        if message.topic == self.topology.incidents:
            await self._from_incidents(message)
        else:
            await self._from_links(message)
        self.metrics.last_event_timestamp.set(time.time())

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

    async def _from_incidents(self, message: Message) -> None:
        try:
            incident = decode_incident_event(message.value, max_bytes=self.max_event_bytes)
        except Rejected as rejected:
            await self.publisher.dead_letter(rejected, message, self.clock.now())
            self.progress.observe(message.tp, message.offset, None)
            return
        self.metrics.events_consumed.labels(message.topic, _type_name(incident)).inc()
        if partition_for(incident.incident_id, self.topology.partitions) != message.partition:
            # Keyed by something other than the incident id: send it to the
            # partition that holds this incident, or the join would split it.
            # (It decoded, so its value is not None.)
            await self.publisher.reroute(incident.incident_id, message.value or b"")
            self.metrics.events_rerouted.inc()
        else:
            await self._apply(incident, message.partition)
        self.progress.observe(message.tp, message.offset, event_time(incident))

    async def _from_links(self, message: Message) -> None:
        try:
            routed = decode_internal(_LINKS, message.value)
        except Rejected as rejected:
            log.error("unreadable message on %s: %s", message.topic, rejected.reason)
            await self.publisher.dead_letter(rejected, message, self.clock.now())
            return
        match routed:
            case CrimeLinkMessage():
                link = CrimeLinked(
                    event_id=routed.event_id,
                    incident_id=routed.incident_id,
                    crime_id=routed.crime_id,
                    recorded_at=routed.recorded_at,
                    victim=None if routed.victim is None else victim_of_record(routed.victim),
                )
                await self._apply(link, message.partition)
            case RerouteMessage():
                incident = decode_incident_event(routed.event.encode(), max_bytes=1 << 30)
                await self._apply(incident, message.partition)
            case WatermarkMessage():
                marks = dict(routed.marks)
                self.clocks[message.partition].observe_crime_marks(routed.source_partitions, marks)
                now = self.now(message.partition)
                if now is not None:
                    await self.publisher.announce(
                        self.service.tick(partition=message.partition, now=now)
                    )

    async def _apply(self, incident: IncidentInput, partition: int) -> None:
        changes = self.service.handle(incident, partition=partition, now=self.now(partition))
        await self.publisher.announce(changes)


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


class CrimeRouter:
    """``crime-records``: fan each crime out to the incidents it names, and to the ledger."""

    def __init__(
        self,
        *,
        publisher: Publisher,
        progress: ConsumerProgress,
        metrics: Metrics,
        clock: Clock,
        max_event_bytes: int,
    ) -> None:
        self.publisher = publisher
        self.progress = progress
        self.metrics = metrics
        self.clock = clock
        self.max_event_bytes = max_event_bytes
        self.recent = RecentIds()

    async def on_event(self, event: EventT) -> None:
        message = event.message
        try:
            crime = decode_crime_event(message.value, max_bytes=self.max_event_bytes)
        except Rejected as rejected:
            await self.publisher.dead_letter(rejected, message, self.clock.now())
            self.progress.observe(message.tp, message.offset, None)
            return
        self.metrics.events_consumed.labels(message.topic, _type_name(crime)).inc()
        if not self.recent.seen(crime.event_id):
            await self._route(crime, message.key)
        # Only now may this partition's watermark move past the crime: every
        # link it produced is already queued ahead of the next watermark tick.
        self.progress.observe(message.tp, message.offset, event_time(crime))
        self.metrics.last_event_timestamp.set(time.time())

    async def _route(self, crime: CrimeRecorded | CrimeCancelled, key: bytes | None) -> None:
        if isinstance(crime, CrimeRecorded):
            links = links_of(crime)
            for link in links:
                await self.publisher.link(link)
            if not links:
                self.metrics.crimes_unlinked.inc()
        await self.publisher.crime(crime, key)


class WatermarkTicker:
    """Every tick, tell each partition of the clock how far ``crime-records`` has been routed."""

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
            message = WatermarkMessage(
                source_partitions=self.topology.crime_partitions, marks=marks
            )
            await self.publisher.watermarks(message, self.topology.partitions)


class LedgerSink:
    """Writes ledger messages to the database in batches, retrying until it can.

    Writing happens in a thread so the event loop never waits on the database.
    While the database is unreachable the sink holds its batch and retries;
    the stream keeps its place in Kafka, so nothing is lost and, because every
    write is an upsert, nothing is written twice.
    """

    def __init__(
        self,
        *,
        ledger_factory: Callable[[], Ledger],
        policy: TimelinessPolicy,
        metrics: Metrics,
    ) -> None:
        self._ledger_factory = ledger_factory
        self._ledger: Ledger | None = None
        self.policy = policy
        self.metrics = metrics
        self.degraded_since: float | None = None
        self.last_error: str | None = None

    @property
    def ledger(self) -> Ledger:
        if self._ledger is None:
            self._ledger = self._ledger_factory()
        return self._ledger

    def batch(self, messages: Sequence[LedgerMessage]) -> LedgerBatch:
        incidents: dict[str, IncidentRow] = {}
        alerts: dict[str, AlertRow] = {}
        crimes: dict[str, CrimeRow] = {}
        for message in messages:
            match message:
                case LedgerIncident(state=record):
                    incident_row, alert = incident_rows(from_record(record), self.policy)
                    incidents[incident_row.incident_id] = incident_row
                    if alert is not None:
                        alerts[alert.alert_id] = alert
                case LedgerCrimeRecorded(event_id=event_id, crime=data):
                    crime_row = crime_row_recorded(
                        CrimeRecorded(
                            event_id=event_id,
                            crime_id=data.crime_id,
                            incident_ids=tuple(data.incident_ids),
                            recorded_at=data.recorded_at,
                            offence_code=data.offence_code,
                            offence_group=data.offence_group,
                            victim_ref=data.victim_ref,
                            victim_consents_to_referral=data.victim_consents_to_referral,
                            domestic_abuse=data.domestic_abuse,
                            victim_bereaved_relative=data.victim_bereaved_relative,
                        )
                    )
                    crimes[crime_row.crime_id] = merge_crime(
                        crimes.get(crime_row.crime_id), crime_row
                    )
                case LedgerCrimeCancelled(event_id=event_id, cancellation=data):
                    cancelled = crime_row_cancelled(
                        CrimeCancelled(
                            event_id, data.crime_id, data.cancelled_at, data.reason.value
                        )
                    )
                    crimes[cancelled.crime_id] = merge_crime(
                        crimes.get(cancelled.crime_id), cancelled
                    )
        return LedgerBatch(
            incidents=list(incidents.values()),
            alerts=list(alerts.values()),
            crimes=list(crimes.values()),
        )

    async def write(self, messages: Sequence[LedgerMessage]) -> None:
        batch = self.batch(messages)
        delay = 0.5
        while True:
            try:
                await asyncio.to_thread(self.ledger.write, batch)
            except Exception as exc:
                self.metrics.ledger_errors.inc()
                self.last_error = database_error(exc)  # its class: the text may quote a row
                if self.degraded_since is None:
                    self.degraded_since = time.time()
                    log.error("ledger write failed, retrying: %s", database_error_for_log(exc))
                self.metrics.ledger_degraded.set(1)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
                continue
            if self.degraded_since is not None:
                log.warning(
                    "ledger writes recovered after %.1fs", time.time() - self.degraded_since
                )
            self.degraded_since = None
            self.last_error = None
            self.metrics.ledger_degraded.set(0)
            self.metrics.ledger_rows.inc(len(batch))
            return
