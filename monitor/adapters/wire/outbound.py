"""Domain facts to the CloudEvents we publish.

Every output is a pure function of its fact: the event ``id`` is derived from
what the event is about, and ``time`` is the event time of the fact, so a
replay or a redelivery publishes byte-identical events that subscribers can
drop by ``id``.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from functools import partial

from monitor.adapters.wire.inbound import Rejected
from monitor.adapters.wire.redaction import dead_letter_copy
from monitor.domain.incident import Report
from monitor.domain.outcomes import (
    AlertKind,
    AlertRaised,
    AlertResolved,
    ClosedWithoutCrime,
    Fact,
    RecordingMeasured,
)
from monitor.domain.referral import (
    Referral,
    ReferralAtRisk,
    ReferralDue,
    ReferralWindowMissed,
    ReferralWithheld,
)
from schemas import alerts, dead_letters, outcomes, referrals
from schemas.envelope import DEFAULT_SCHEMA_BASE, CloudEvent, dataschema_for
from schemas.event_types import EventType
from schemas.incidents import Channel, ClosingCode

# A dead letter copies the rejected value; base64 makes it a third larger. Copy at
# most 512 KiB (683 KiB encoded) so a dead letter fits Kafka's default 1 MB
# message limit even when the input itself was close to it. Keys are short.
DEAD_LETTER_COPY_BYTES = 512 * 1024
_KEY_COPY_BYTES = 16 * 1024

_EVENT_NAMESPACE = uuid.UUID("2b7e8f4c-58a3-5d0e-a1f6-94c3d2e1b0a7")


class Stream(Enum):
    """Which output topic an event belongs on."""

    OUTCOMES = "outcomes"
    ALERTS = "alerts"
    DEAD_LETTERS = "dead_letters"
    REFERRALS = "referrals"


@dataclass(frozen=True, slots=True)
class Outgoing:
    stream: Stream
    key: str
    value: bytes
    event_type: str


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def _event_id(*parts: str) -> str:
    return str(uuid.uuid5(_EVENT_NAMESPACE, "/".join(parts)))


def _incident_facts(incident_id: str, report: Report, deadline: datetime) -> dict:
    return dict(
        incident_id=incident_id,
        force=report.force,
        reported_at=_utc(report.reported_at),
        deadline=_utc(deadline),
        channel=Channel(report.channel),
        category=report.category,
        division=report.division,
    )


def _envelope(
    source: str,
    event_type: str,
    event_id: str,
    time: datetime,
    subject: str,
    schema_base: str = DEFAULT_SCHEMA_BASE,
) -> dict:
    return dict(
        specversion="1.0",
        id=event_id,
        source=source,
        type=event_type,
        time=_utc(time),
        subject=subject,
        dataschema=dataschema_for(event_type, schema_base),
    )


def _dump(event: CloudEvent) -> bytes:
    return event.model_dump_json(exclude_none=False).encode()


def encode_fact(fact: Fact, *, source: str, schema_base: str = DEFAULT_SCHEMA_BASE) -> Outgoing:
    """The CloudEvent announcing one fact, keyed by its incident."""
    if isinstance(fact, ReferralDue | ReferralWithheld | ReferralAtRisk | ReferralWindowMissed):
        return encode_referral(fact, source=source, schema_base=schema_base)
    envelope = partial(_envelope, schema_base=schema_base)
    match fact:
        case RecordingMeasured():
            kind = EventType.RECORDING_MEASURED
            m = fact.measurement
            event: CloudEvent = outcomes.RecordingMeasured(
                **envelope(
                    source,
                    kind,
                    _event_id(kind, fact.incident_id, fact.crime_id),
                    fact.recorded_at,
                    fact.incident_id,
                ),
                data=outcomes.RecordingMeasuredData(
                    **_incident_facts(fact.incident_id, fact.report, fact.deadline),
                    crime_id=fact.crime_id,
                    recorded_at=_utc(fact.recorded_at),
                    elapsed_seconds=m.elapsed_seconds,
                    target_seconds=m.target.total_seconds(),
                    within_target=m.within_target,
                    recorded_before_report=m.recorded_before_report,
                ),
            )
            return Outgoing(Stream.OUTCOMES, fact.incident_id, _dump(event), kind)
        case ClosedWithoutCrime():
            kind = EventType.CLOSED_WITHOUT_CRIME
            event = outcomes.IncidentClosedWithoutCrime(
                **envelope(
                    source,
                    kind,
                    _event_id(kind, fact.incident_id),
                    fact.closure.closed_at,
                    fact.incident_id,
                ),
                data=outcomes.ClosedWithoutCrimeData(
                    **_incident_facts(fact.incident_id, fact.report, fact.deadline),
                    closed_at=_utc(fact.closure.closed_at),
                    closing_code=ClosingCode(fact.closure.closing_code.value),
                    after_deadline=fact.after_deadline,
                ),
            )
            return Outgoing(Stream.OUTCOMES, fact.incident_id, _dump(event), kind)
        case AlertRaised(kind=AlertKind.DUE_SOON):
            kind = EventType.DUE_SOON
            event = alerts.RecordingDueSoon(
                **envelope(
                    source, kind, _event_id(kind, fact.alert_id), fact.raised_at, fact.incident_id
                ),
                data=alerts.RecordingDueSoonData(
                    **_incident_facts(fact.incident_id, fact.report, fact.deadline),
                    alert_id=fact.alert_id,
                    raised_at=_utc(fact.raised_at),
                    remaining_seconds=(fact.deadline - fact.raised_at).total_seconds(),
                ),
            )
            return Outgoing(Stream.ALERTS, fact.incident_id, _dump(event), kind)
        case AlertRaised(kind=AlertKind.OVERDUE):
            kind = EventType.OVERDUE
            event = alerts.RecordingOverdue(
                **envelope(
                    source, kind, _event_id(kind, fact.alert_id), fact.raised_at, fact.incident_id
                ),
                data=alerts.RecordingOverdueData(
                    **_incident_facts(fact.incident_id, fact.report, fact.deadline),
                    alert_id=fact.alert_id,
                    overdue_since=_utc(fact.raised_at),
                ),
            )
            return Outgoing(Stream.ALERTS, fact.incident_id, _dump(event), kind)
        case AlertResolved():
            kind = EventType.RESOLVED
            event = alerts.RecordingResolved(
                **envelope(
                    source, kind, _event_id(kind, fact.alert_id), fact.resolved_at, fact.incident_id
                ),
                data=alerts.RecordingResolvedData(
                    **_incident_facts(fact.incident_id, fact.report, fact.deadline),
                    alert_id=fact.alert_id,
                    resolution=alerts.Resolution(fact.resolution.value),
                    resolved_at=_utc(fact.resolved_at),
                    late=fact.late,
                    crime_id=fact.crime_id,
                    was_overdue=fact.was_overdue,
                ),
            )
            return Outgoing(Stream.ALERTS, fact.incident_id, _dump(event), kind)
    raise TypeError(f"not a fact: {fact!r}")


def encode_dead_letter(
    rejected: Rejected,
    *,
    source: str,
    topic: str,
    partition: int,
    offset: int,
    timestamp: float | None,
    key: bytes | None,
    value: bytes | None,
    received_at: datetime,
    schema_base: str = DEFAULT_SCHEMA_BASE,
    raw_copy: bool = False,
) -> Outgoing:
    """The dead letter for one rejected input: its value, where it came from, and why.

    The value is copied with its victim fields redacted (``monitor.adapters.wire.redaction``)
    unless ``raw_copy`` asks for the original bytes.
    """
    kind = EventType.INPUT_REJECTED
    size = len(value or b"")
    copy, redaction = dead_letter_copy(value or b"", raw_copy=raw_copy)
    event = dead_letters.InputRejected(
        **_envelope(
            source,
            kind,
            _event_id(kind, topic, str(partition), str(offset)),
            received_at,
            f"{topic}/{partition}/{offset}",
            schema_base,
        ),
        data=dead_letters.InputRejectedData(
            reason=rejected.reason,
            kind=rejected.kind,
            errors=[
                dead_letters.FieldError(location=loc, message=msg) for loc, msg in rejected.errors
            ],
            source_topic=topic,
            source_partition=partition,
            source_offset=offset,
            source_timestamp=None if timestamp is None else datetime.fromtimestamp(timestamp, UTC),
            event_id=rejected.event_id,
            event_type=rejected.event_type,
            key_base64=None if key is None else base64.b64encode(key[:_KEY_COPY_BYTES]).decode(),
            value_base64=base64.b64encode(copy[:DEAD_LETTER_COPY_BYTES]).decode(),
            value_redaction=redaction,
            value_size_bytes=size,
            value_truncated=len(copy) > DEAD_LETTER_COPY_BYTES,
        ),
    )
    return Outgoing(Stream.DEAD_LETTERS, f"{topic}/{partition}", _dump(event), kind)


_REFERRAL_TYPES = {
    ReferralDue: EventType.REFERRAL_DUE,
    ReferralWithheld: EventType.REFERRAL_WITHHELD,
    ReferralAtRisk: EventType.REFERRAL_AT_RISK,
    ReferralWindowMissed: EventType.REFERRAL_WINDOW_MISSED,
}


def _referral_facts(r: Referral) -> dict:
    return dict(
        incident_id=r.incident_id,
        crime_id=r.crime_id,
        force=r.report.force,
        division=r.report.division,
        offence_code=r.victim.offence_code,
        offence_group=r.victim.offence_group,
        reported_at=_utc(r.report.reported_at),
        recorded_at=_utc(r.recorded_at),
        referral_due_by=r.due_by,  # keeps its Europe/London offset: "17:00" reads as 17:00
        window_spent=round(r.window_spent, 6),
        remaining_seconds=r.remaining_seconds,
    )


def encode_referral(
    fact: ReferralDue | ReferralWithheld | ReferralAtRisk | ReferralWindowMissed,
    *,
    source: str,
    schema_base: str = DEFAULT_SCHEMA_BASE,
) -> Outgoing:
    """A referral event, keyed and subjected by the crime's first-named incident.

    Its id is derived from the type and the crime (a crime is referred from
    one incident only), and its time is the crime's ``recorded_at``, the
    moment the referral became possible. Only ``referral_due`` carries the
    victim reference.
    """
    r = fact.referral
    kind = _REFERRAL_TYPES[type(fact)]
    envelope = _envelope(
        source, kind, _event_id(kind, r.crime_id), r.recorded_at, r.incident_id, schema_base
    )
    status = (
        referrals.ReferralStatus.DUE if r.withheld is None else referrals.ReferralStatus.WITHHELD
    )
    event: CloudEvent
    match fact:
        case ReferralDue():
            event = referrals.ReferralDue(
                **envelope,
                data=referrals.ReferralDueData(
                    **_referral_facts(r),
                    victim_ref=r.victim.victim_ref,
                    victim_consents_to_referral=r.victim.consents,
                    consent_required_because=list(r.consent_required_because),
                ),
            )
        case ReferralWithheld():
            assert r.withheld is not None  # noqa: S101
            event = referrals.ReferralWithheld(
                **envelope,
                data=referrals.ReferralWithheldData(
                    **_referral_facts(r),
                    reason=referrals.WithheldReason(r.withheld.value),
                    consent_required_because=list(r.consent_required_because),
                ),
            )
        case ReferralAtRisk():
            event = referrals.ReferralAtRisk(
                **envelope, data=referrals.ReferralAtRiskData(**_referral_facts(r), referral=status)
            )
        case ReferralWindowMissed():
            event = referrals.ReferralWindowMissed(
                **envelope,
                data=referrals.ReferralWindowMissedData(
                    **_referral_facts(r),
                    referral=status,
                    missed_by_seconds=-r.remaining_seconds,
                ),
            )
    return Outgoing(Stream.REFERRALS, r.incident_id, _dump(event), kind)
