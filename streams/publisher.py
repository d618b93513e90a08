"""Sending to Kafka: announcements, ledger records, internal routing and dead letters."""

from __future__ import annotations

from datetime import datetime

from faust.types import Message, TopicT

from monitor.adapters.state_codec import to_record, victim_record
from monitor.application.recording_clock import Changes
from monitor.domain.inputs import CrimeCancelled, CrimeLinked, CrimeRecorded
from schemas.crimes import CrimeCancelledData, CrimeRecordedData
from schemas.envelope import DEFAULT_SCHEMA_BASE
from schemas.internal import (
    CrimeLinkMessage,
    LedgerCrimeCancelled,
    LedgerCrimeRecorded,
    LedgerIncident,
    RerouteMessage,
    WatermarkMessage,
)
from streams.inbound import Rejected
from streams.metrics import Metrics
from streams.outbound import Stream, encode_dead_letter, encode_fact


class Publisher:
    def __init__(
        self,
        *,
        outputs: dict[Stream, TopicT],
        links: TopicT,
        ledger: TopicT,
        source: str,
        metrics: Metrics,
        schema_base: str = DEFAULT_SCHEMA_BASE,
        raw_dead_letters: bool = False,
    ) -> None:
        self.outputs = outputs
        self.links = links
        self.ledger = ledger
        self.source = source
        self.metrics = metrics
        self.schema_base = schema_base
        self.raw_dead_letters = raw_dead_letters  # copy values byte for byte, victim fields too

    async def announce(self, changes: Changes) -> None:
        """Publish the facts, then the changed states for the ledger."""
        for fact in changes.facts:
            out = encode_fact(fact, source=self.source, schema_base=self.schema_base)
            await self.outputs[out.stream].send(key=out.key.encode(), value=out.value)
            self.metrics.count_fact(fact)
        for state in changes.changed:
            record = LedgerIncident(state=to_record(state))
            await self.ledger.send(
                key=state.incident_id.encode(), value=record.model_dump_json().encode()
            )

    async def link(self, link: CrimeLinked) -> None:
        message = CrimeLinkMessage(
            event_id=link.event_id,
            incident_id=link.incident_id,
            crime_id=link.crime_id,
            recorded_at=link.recorded_at,
            victim=None if link.victim is None else victim_record(link.victim),
        )
        await self.links.send(
            key=link.incident_id.encode(), value=message.model_dump_json().encode()
        )

    async def reroute(self, incident_id: str, raw: bytes) -> None:
        message = RerouteMessage(event=raw.decode())
        await self.links.send(key=incident_id.encode(), value=message.model_dump_json().encode())

    async def watermarks(self, message: WatermarkMessage, partitions: int) -> None:
        value = message.model_dump_json().encode()
        for partition in range(partitions):
            await self.links.send(value=value, partition=partition)

    async def crime(self, crime: CrimeRecorded | CrimeCancelled, key: bytes | None) -> None:
        record: LedgerCrimeRecorded | LedgerCrimeCancelled
        match crime:
            case CrimeRecorded():
                record = LedgerCrimeRecorded(
                    event_id=crime.event_id,
                    crime=CrimeRecordedData(
                        crime_id=crime.crime_id,
                        incident_ids=list(crime.incident_ids),
                        recorded_at=crime.recorded_at,
                        offence_code=crime.offence_code,
                        offence_group=crime.offence_group,
                        victim_ref=crime.victim_ref,
                        victim_consents_to_referral=crime.victim_consents_to_referral,
                        domestic_abuse=crime.domestic_abuse,
                        victim_bereaved_relative=crime.victim_bereaved_relative,
                    ),
                )
            case CrimeCancelled():
                record = LedgerCrimeCancelled(
                    event_id=crime.event_id,
                    cancellation=CrimeCancelledData(
                        crime_id=crime.crime_id,
                        cancelled_at=crime.cancelled_at,
                        reason=crime.reason,
                    ),
                )
        await self.ledger.send(key=crime.crime_id.encode(), value=record.model_dump_json().encode())

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
        await self.outputs[Stream.DEAD_LETTERS].send(key=out.key.encode(), value=out.value)
        self.metrics.events_rejected.labels(message.topic, rejected.kind.value).inc()
