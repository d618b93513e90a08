"""Topic ``cdi-dead-letters``: every input that could not be accepted, with why."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import Field

from schemas.common import Timestamp
from schemas.envelope import CloudEvent, OutputData
from schemas.event_types import EventType


class RejectionKind(StrEnum):
    NOT_JSON = "not_json"
    NOT_AN_EVENT = "not_an_event"
    UNKNOWN_TYPE = "unknown_type"
    INVALID = "invalid"
    TOO_LARGE = "too_large"
    INTERNAL_ERROR = "internal_error"


class ValueRedaction(StrEnum):
    """What the dead letter's copy of the value is (see ``value_redaction``)."""

    NONE = "none"
    VICTIM_FIELDS = "victim_fields"
    WITHHELD = "withheld"


class FieldError(OutputData):
    location: str = Field(description="Where in the event, e.g. data.reported_at")
    message: str


class InputRejectedData(OutputData):
    reason: str = Field(description="A readable account of what is wrong")
    kind: RejectionKind
    errors: list[FieldError] = Field(default_factory=list, max_length=20)
    source_topic: str
    source_partition: int
    source_offset: int
    source_timestamp: Timestamp | None = None
    event_id: str | None = Field(default=None, description="The event's id, when it had one")
    event_type: str | None = None
    key_base64: str | None = Field(default=None, description="The original Kafka key")
    value_base64: str = Field(
        description="The original Kafka value, byte for byte unless value_redaction says "
        "otherwise (its first 512 KiB if larger)"
    )
    value_redaction: ValueRedaction = Field(
        default=ValueRedaction.NONE,
        description="none: value_base64 is the original value byte for byte. victim_fields: "
        'every field named victim... (at any depth) is replaced by "[redacted]", so the copy '
        "is not byte for byte; victims' details are published only on the referral topic. "
        "withheld: the value was not JSON and mentions a victim in a way that cannot be "
        "redacted, so no copy is kept (value_base64 is empty). Operators may ask for "
        "byte-for-byte copies with CDI_DEAD_LETTER_RAW_COPY=true. Optional; added in contract 1.2",
    )
    value_size_bytes: int | None = Field(
        default=None, description="Size of the original value in bytes"
    )
    value_truncated: bool = Field(
        default=False,
        description="True when the value was larger than 512 KiB and only its start is kept, "
        "so that the dead letter itself stays under Kafka's 1 MB message limit",
    )


class InputRejected(CloudEvent):
    type: Literal[EventType.INPUT_REJECTED]
    data: InputRejectedData
