"""The CloudEvents 1.0 envelope (structured mode: the Kafka value is the whole event)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
)

from schemas.common import Timestamp

EventId = Annotated[
    str,
    StringConstraints(min_length=1, max_length=128, pattern=r"^[^\x00-\x1f\x7f]+$"),
    Field(description="Unique per event; the key for de-duplication"),
]


def _absent(value: object) -> bool:
    return value is None


class CloudEvent(BaseModel):
    """Attributes every event carries. Subclasses fix ``type`` and ``data``.

    Unknown attributes are CloudEvents extensions and are allowed.
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    specversion: Literal["1.0"]
    id: EventId
    source: Annotated[str, StringConstraints(min_length=1, max_length=512)] = Field(
        description="URI-reference of the system that produced the event",
        examples=["urn:force:leicestershire:storm"],
    )
    type: str
    time: Timestamp
    datacontenttype: Literal["application/json"] = "application/json"
    # CloudEvents leaves an optional attribute out rather than setting it to null.
    subject: Annotated[str, StringConstraints(max_length=256)] | None = Field(
        default=None, exclude_if=_absent
    )
    dataschema: Annotated[str, StringConstraints(max_length=512)] | None = Field(
        default=None, exclude_if=_absent
    )
    data: Any


class Data(BaseModel):
    """Event payloads: unknown fields are ignored so producers can add fields safely."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class OutputData(BaseModel):
    """Payloads we publish: exactly the documented fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)


DEFAULT_SCHEMA_BASE = "urn:cdi-monitor:schemas:"
"""Where published schemas live unless ``CDI_SCHEMA_BASE_URL`` says otherwise.

``dataschema`` is this base followed by the schema's file name in
``schemas/json/``; an operator serving that folder over HTTP sets the base to
its URL so that ``dataschema`` resolves.
"""


def dataschema_for(event_type: str, base: str = DEFAULT_SCHEMA_BASE) -> str:
    """The ``dataschema`` of an event type: its JSON Schema's file name under ``base``."""
    return f"{base}{event_type}.schema.json"
