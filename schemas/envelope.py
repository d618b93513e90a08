"""The CloudEvents 1.0 envelope (structured mode: the Kafka value is the whole event)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    StringConstraints,
    model_serializer,
)

from schemas.common import Timestamp

EventId = Annotated[
    str,
    StringConstraints(min_length=1, max_length=128, pattern=r"^[^\x00-\x1f\x7f]+$"),
    Field(description="Unique per event; the key for de-duplication"),
]


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
    subject: Annotated[str, StringConstraints(max_length=256)] | None = None
    dataschema: Annotated[str, StringConstraints(max_length=512)] | None = None
    data: Any

    # Left unannotated: a return annotation would replace the JSON Schema of the envelope.
    @model_serializer(mode="wrap")
    def _omit_absent_attributes(self, handler: SerializerFunctionWrapHandler):
        # CloudEvents leaves an optional attribute out rather than setting it to null.
        out = handler(self)
        for name in ("subject", "dataschema"):
            if out.get(name) is None:
                out.pop(name, None)
        return out


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
