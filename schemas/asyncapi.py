"""The AsyncAPI 3.0 document of the public topics, generated from the event models.

``docs/asyncapi.json`` describes every topic the monitor reads and writes,
with its Kafka key, its messages (the JSON Schema of each CloudEvent, with
``$ref`` resolved so each payload stands alone) and one example of each.
The document is written by ``cdi-monitor schemas`` and a test fails when it
is stale, like the JSON Schemas in ``schemas/json``. The monitor's internal
topics (``<app-id>-links``, ``<app-id>-ledger``, the table changelog) are not
part of the contract and are not described.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from schemas.event_types import EventType
from schemas.export import INPUTS, OUTPUTS

CONTRACT_VERSION = "1.2.0"
"""The version of the public event contract (semantic versioning; see the README)."""

DOCUMENT = Path(__file__).resolve().parent.parent / "docs" / "asyncapi.json"
_KAFKA_BINDING = "0.5.0"


@dataclass(frozen=True)
class Channel:
    """A public topic: its default name, the setting that renames it and its key."""

    id: str
    address: str
    setting: str
    key: str
    description: str
    event_types: tuple[str, ...]
    action: str  # what the monitor does: "receive" (an input) or "send" (an output)


CHANNELS = (
    Channel(
        "incidents", "incidents", "CDI_INCIDENTS_TOPIC", "incident_id",
        "Incidents from the command-and-control system. An event keyed by anything else is "
        "still handled (the worker re-routes it).",
        (EventType.INCIDENT_REPORTED, EventType.INCIDENT_UPDATED, EventType.INCIDENT_CLOSED),
        "receive",
    ),
    Channel(
        "crimeRecords", "crime-records", "CDI_CRIME_RECORDS_TOPIC",
        "the first linked incident_id, else crime_id",
        "Crime records from the records management system.",
        (EventType.CRIME_RECORDED, EventType.CRIME_CANCELLED), "receive",
    ),
    Channel(
        "recordingOutcomes", "recording-outcomes", "CDI_OUTCOMES_TOPIC", "incident_id",
        "Each incident's recording measured against the 24-hour rule, and incidents closed "
        "without a crime record.",
        (EventType.RECORDING_MEASURED, EventType.CLOSED_WITHOUT_CRIME), "send",
    ),
    Channel(
        "recordingAlerts", "recording-alerts", "CDI_ALERTS_TOPIC", "incident_id",
        "One alert per incident not recorded in time: raised due soon, escalated to overdue, "
        "resolved. alert_id identifies it.",
        (EventType.DUE_SOON, EventType.OVERDUE, EventType.RESOLVED), "send",
    ),
    Channel(
        "victimReferrals", "victim-referrals", "CDI_REFERRALS_TOPIC",
        "incident_id (the crime's first-named incident)",
        "Victim-support referrals: one referral_due or referral_withheld per crime with a "
        "victim reference, then referral_at_risk or referral_window_missed when recording "
        "delay spent half or all of the 2-working-day window.",
        (EventType.REFERRAL_DUE, EventType.REFERRAL_WITHHELD,
         EventType.REFERRAL_AT_RISK, EventType.REFERRAL_WINDOW_MISSED), "send",
    ),
    Channel(
        "deadLetters", "cdi-dead-letters", "CDI_DEAD_LETTER_TOPIC",
        "source topic/partition (e.g. incidents/3)",
        "Every input that could not be accepted, with why and the original bytes.",
        (EventType.INPUT_REJECTED,), "send",
    ),
)  # fmt: skip


def _resolve(schema: Any, definitions: dict[str, Any]) -> Any:
    """The schema with every local ``$ref`` replaced by its definition (no recursion occurs)."""
    if isinstance(schema, dict):
        if "$ref" in schema:
            name = schema["$ref"].removeprefix("#/$defs/")
            merged = {**_resolve(definitions[name], definitions)}
            merged.update({k: _resolve(v, definitions) for k, v in schema.items() if k != "$ref"})
            return merged
        return {k: _resolve(v, definitions) for k, v in schema.items() if k != "$defs"}
    if isinstance(schema, list):
        return [_resolve(item, definitions) for item in schema]
    return schema


def payload_schema(event_type: str) -> dict[str, Any]:
    """The JSON Schema of one event type, self-contained, as published in ``schemas/json``."""
    model = {**INPUTS, **OUTPUTS}[event_type]
    schema = model.model_json_schema(mode="validation" if event_type in INPUTS else "serialization")
    return _resolve(copy.deepcopy(schema), schema.get("$defs", {}))


def _message_id(event_type: str) -> str:
    return event_type.replace(".", "_")


def document(examples: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The AsyncAPI 3.0.0 document, with ``examples`` (event type to event) in each message."""
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for channel in CHANNELS:
        refs = {}
        for event_type in channel.event_types:
            message_id = _message_id(event_type)
            model = {**INPUTS, **OUTPUTS}[event_type]
            messages[message_id] = {
                "name": event_type,
                "title": event_type,
                "summary": (model.__doc__ or event_type).strip().splitlines()[0],
                "contentType": "application/json",
                "payload": payload_schema(event_type),
                "bindings": {
                    "kafka": {
                        "key": {"type": "string", "description": channel.key},
                        "bindingVersion": _KAFKA_BINDING,
                    }
                },
                "examples": [{"name": event_type, "payload": examples[event_type]}],
            }
            refs[message_id] = {"$ref": f"#/components/messages/{message_id}"}
        channels[channel.id] = {
            "address": channel.address,
            "title": channel.address,
            "description": f"{channel.description} Kafka key: {channel.key}. "
            f"Topic name set by {channel.setting}.",
            "messages": refs,
            "bindings": {"kafka": {"topic": channel.address, "bindingVersion": _KAFKA_BINDING}},
        }
        verb = "receive" if channel.action == "receive" else "send"
        operations[f"{verb}{channel.id[0].upper()}{channel.id[1:]}"] = {
            "action": channel.action,
            "channel": {"$ref": f"#/channels/{channel.id}"},
            "summary": (
                f"The monitor reads {channel.address}"
                if channel.action == "receive"
                else f"The monitor publishes to {channel.address}; subscribe to it"
            ),
            "messages": [{"$ref": f"#/channels/{channel.id}/messages/{ref}"} for ref in refs],
        }
    return {
        "asyncapi": "3.0.0",
        "id": "urn:cdi-monitor",
        "info": {
            "title": "cdi-monitor event contract",
            "version": CONTRACT_VERSION,
            "description": (
                "Crime-recording timeliness (the NCRS 24-hour rule) and victim-support "
                "referrals (the Victims' Code, 2 working days), as CloudEvents 1.0 in "
                "structured mode: each Kafka value is one JSON CloudEvent. Events about one "
                "incident share its key and so stay in order. Every output carries a "
                "deterministic id (drop one you have seen), subject (the incident) and "
                "dataschema (the JSON Schema file in schemas/json/). See the README, "
                "'For partners: subscribing'."
            ),
            "license": {"name": "Apache-2.0"},
        },
        "defaultContentType": "application/json",
        "servers": {
            "kafka": {
                "host": "localhost:9092",
                "protocol": "kafka",
                "description": "The force's Kafka cluster (CDI_KAFKA_BOOTSTRAP_SERVERS)",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }


def render(examples: dict[str, dict[str, Any]]) -> str:
    return json.dumps(document(examples), indent=2, sort_keys=False) + "\n"


def stale(examples: dict[str, dict[str, Any]], path: Path = DOCUMENT) -> bool:
    return not path.exists() or path.read_text() != render(examples)


def write(examples: dict[str, dict[str, Any]], path: Path = DOCUMENT) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(examples))
    return path
