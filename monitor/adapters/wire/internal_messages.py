"""Messages on the worker's own topics, in compact JSON (msgspec). Not part of the public contract.

- ``<app-id>-links``, co-partitioned with ``incidents``: ``LinksBatch`` (the
  crime links and the misrouted incident events one batch sends to one
  partition) and ``Watermark`` ticks.
- ``<app-id>-ledger``: ``LedgerBatch``, what one batch changed (incident
  states, crimes recorded and cancelled), for the ledger writer.

Both carry domain values as they are (``monitor.adapters.state_codec``
describes the form); msgspec checks every field's type when reading, and its
errors name the field, never the value. Inputs from other systems are
validated strictly elsewhere (``monitor.adapters.wire.inbound``); these are written only by
this worker. Messages written one per change by earlier versions of the
worker (``kind`` ``link``, ``incident``, ``crime_recorded``,
``crime_cancelled``) are still read, so an upgrade can leave a backlog behind.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

import msgspec

from monitor.adapters.state_codec import plain
from monitor.domain.incident import IncidentState
from monitor.domain.inputs import CrimeCancelled, CrimeLinked, CrimeRecorded, CrimeVictim

# Records stay far below Kafka's default 1 MB message limit.
MAX_RECORD_BYTES = 256 * 1024

_encoder = msgspec.json.Encoder()


class Watermark(msgspec.Struct, tag_field="kind", tag="watermark", frozen=True):
    """How far, in event time, each ``crime-records`` partition has been routed.

    Sent every tick to every partition of the links topic by the worker that
    owns those ``crime-records`` partitions. ``marks`` pairs partition and
    watermark.
    """

    source_partitions: int
    marks: list[tuple[int, datetime]]


class LinksBatch(msgspec.Struct, tag_field="kind", tag="batch", frozen=True):
    """Crime links and misrouted incident events (their CloudEvent text) for one partition."""

    links: list[CrimeLinked] = []
    incidents: list[str] = []


class LedgerBatch(msgspec.Struct, tag_field="kind", tag="batch", frozen=True):
    """What one batch changed, for the ledger: incident states and crime events."""

    incidents: list[IncidentState] = []
    recorded: list[CrimeRecorded] = []
    cancelled: list[CrimeCancelled] = []


# Written one per change by earlier versions.
class _LegacyLink(msgspec.Struct, tag_field="kind", tag="link", frozen=True):
    event_id: str
    incident_id: str
    crime_id: str
    recorded_at: datetime
    victim: CrimeVictim | None = None


class _LegacyReroute(msgspec.Struct, tag_field="kind", tag="incident", frozen=True):
    event: str


class _LegacyLedgerIncident(msgspec.Struct, tag_field="kind", tag="incident", frozen=True):
    state: IncidentState


class _LegacyCrimeData(msgspec.Struct, frozen=True):
    crime_id: str
    incident_ids: list[str]
    recorded_at: datetime
    offence_code: str
    offence_group: str
    victim_ref: str | None = None
    victim_consents_to_referral: bool | None = None
    domestic_abuse: bool | None = None
    victim_bereaved_relative: bool | None = None


class _LegacyCrimeRecorded(msgspec.Struct, tag_field="kind", tag="crime_recorded", frozen=True):
    event_id: str
    crime: _LegacyCrimeData


class _LegacyCancellation(msgspec.Struct, frozen=True):
    crime_id: str
    cancelled_at: datetime
    reason: str


class _LegacyCrimeCancelled(msgspec.Struct, tag_field="kind", tag="crime_cancelled", frozen=True):
    event_id: str
    cancellation: _LegacyCancellation


_links = msgspec.json.Decoder(LinksBatch | Watermark | _LegacyLink | _LegacyReroute)
_ledger = msgspec.json.Decoder(
    LedgerBatch | _LegacyLedgerIncident | _LegacyCrimeRecorded | _LegacyCrimeCancelled
)

DecodeError = msgspec.DecodeError
"""Raised for a message that is not JSON or not of a known shape (a ``ValueError``)."""


def decode_links(raw: bytes) -> LinksBatch | Watermark:
    match _links.decode(raw):
        case _LegacyLink() as old:
            link = CrimeLinked(
                old.event_id, old.incident_id, old.crime_id, old.recorded_at, old.victim
            )
            return LinksBatch(links=[link])
        case _LegacyReroute(event=event):
            return LinksBatch(incidents=[event])
        case message:
            return message


def decode_ledger(raw: bytes) -> LedgerBatch:
    match _ledger.decode(raw):
        case _LegacyLedgerIncident(state=state):
            return LedgerBatch(incidents=[state])
        case _LegacyCrimeRecorded(event_id=event_id, crime=c):
            crime = CrimeRecorded(
                event_id,
                c.crime_id,
                tuple(c.incident_ids),
                c.recorded_at,
                c.offence_code,
                c.offence_group,
                c.victim_ref,
                c.victim_consents_to_referral,
                c.domestic_abuse,
                c.victim_bereaved_relative,
            )
            return LedgerBatch(recorded=[crime])
        case _LegacyCrimeCancelled(event_id=event_id, cancellation=c):
            return LedgerBatch(
                cancelled=[CrimeCancelled(event_id, c.crime_id, c.cancelled_at, c.reason)]
            )
        case message:
            return message


def encode_watermark(source_partitions: int, marks: Sequence[tuple[int, datetime]]) -> bytes:
    return _encoder.encode(Watermark(source_partitions, list(marks)))


def encode_links(links: Sequence[CrimeLinked], incidents: Sequence[bytes]) -> Iterator[bytes]:
    """``LinksBatch`` records of at most about ``MAX_RECORD_BYTES`` each."""
    items = [("links", _raw(link)) for link in links]
    items += [("incidents", _raw(raw.decode())) for raw in incidents]
    for chunk in _chunks(items):
        yield _record(chunk)


def encode_ledger(
    states: Iterable[bytes], recorded: Sequence[CrimeRecorded], cancelled: Sequence[CrimeCancelled]
) -> Iterator[bytes]:
    """``LedgerBatch`` records; ``states`` are incident states already encoded (state_codec)."""
    items = [("incidents", msgspec.Raw(raw)) for raw in states]
    items += [("recorded", _raw(crime)) for crime in recorded]
    items += [("cancelled", _raw(crime)) for crime in cancelled]
    for chunk in _chunks(items):
        yield _record(chunk)


def _raw(value: Any) -> msgspec.Raw:
    return msgspec.Raw(_encoder.encode(plain(value)))


def _record(items: list[tuple[str, msgspec.Raw]]) -> bytes:
    fields: dict[str, Any] = {"kind": "batch"}
    for field, item in items:
        fields.setdefault(field, []).append(item)
    return _encoder.encode(fields)


def _chunks(items: list[tuple[str, msgspec.Raw]]) -> Iterator[list[tuple[str, msgspec.Raw]]]:
    chunk: list[tuple[str, msgspec.Raw]] = []
    size = 0
    for field, item in items:
        if chunk and size + len(item) > MAX_RECORD_BYTES:
            yield chunk
            chunk, size = [], 0
        chunk.append((field, item))
        size += len(item) + 1
    if chunk:
        yield chunk
