"""The published schemas are the public contract: a change that would break a subscriber fails.

The first test is the gate; the others show that the checker catches each
kind of break (and lets additive changes through), on real published schemas.
"""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from schemas.compatibility import (
    PUBLISHED_DIR,
    breaking_changes,
    compare_directories,
    publish,
)
from schemas.export import JSON_DIR


def test_the_current_schemas_break_nothing_in_the_published_contract() -> None:
    assert compare_directories() == [], (
        "a change would break existing subscribers or producers: make it additive "
        "(an optional field), or publish a new event type (see the README on versions)"
    )


def test_every_current_event_type_has_been_published() -> None:
    current = {p.name for p in JSON_DIR.glob("*.schema.json")}
    published = {p.name for p in PUBLISHED_DIR.glob("*.schema.json")}
    assert current <= published, (
        "new event types: run `cdi-monitor schemas --publish` once they are released"
    )


def published(event_type: str) -> dict[str, Any]:
    return json.loads((PUBLISHED_DIR / f"{event_type}.schema.json").read_text())


def data_def(schema: dict[str, Any], name: str) -> dict[str, Any]:
    return schema["$defs"][name]


MEASURED = "cdi.recording.measured"


def changed(event_type: str, edit) -> list[str]:  # type: ignore[no-untyped-def]
    old = published(event_type)
    new = copy.deepcopy(old)
    edit(new)
    return breaking_changes(old, new)


def test_an_unchanged_schema_is_compatible() -> None:
    assert changed(MEASURED, lambda s: None) == []


def test_adding_an_optional_field_is_compatible() -> None:
    def add(s: dict) -> None:
        data_def(s, "RecordingMeasuredData")["properties"]["shift"] = {"type": "string"}

    assert changed(MEASURED, add) == []


def test_removing_a_field_breaks() -> None:
    def remove(s: dict) -> None:
        del data_def(s, "RecordingMeasuredData")["properties"]["elapsed_seconds"]

    assert changed(MEASURED, remove) == ["data.elapsed_seconds: field removed"]


def test_retyping_a_field_breaks() -> None:
    def retype(s: dict) -> None:
        data_def(s, "RecordingMeasuredData")["properties"]["within_target"] = {"type": "string"}

    assert changed(MEASURED, retype) == [
        "data.within_target: type changed from ['boolean'] to ['string']"
    ]


def test_making_a_field_nullable_breaks() -> None:
    def nullable(s: dict) -> None:
        props = data_def(s, "RecordingMeasuredData")["properties"]
        props["crime_id"] = {"anyOf": [props["crime_id"], {"type": "null"}]}

    assert changed(MEASURED, nullable) == [
        "data.crime_id: type changed from ['string'] to ['null', 'string']"
    ]


def test_adding_a_required_field_breaks() -> None:
    def require(s: dict) -> None:
        data = data_def(s, "RecordingMeasuredData")
        data["properties"]["shift"] = {"type": "string"}
        data["required"].append("shift")

    assert changed(MEASURED, require) == ["data.shift: required field added"]


def test_making_an_optional_field_required_breaks() -> None:
    def require(s: dict) -> None:
        data_def(s, "RecordingMeasuredData")["required"].append("division")

    assert changed(MEASURED, require) == ["data.division: field became required"]


def test_narrowing_an_enumeration_breaks_and_widening_it_does_not() -> None:
    def narrow(s: dict) -> None:
        data_def(s, "Channel")["enum"].remove("third_party")

    def widen(s: dict) -> None:
        data_def(s, "Channel")["enum"].append("social_media")

    assert changed(MEASURED, narrow) == ["data.channel: values no longer allowed: ['third_party']"]
    assert changed(MEASURED, widen) == []


def test_changing_the_event_type_constant_breaks() -> None:
    def rename(s: dict) -> None:
        s["properties"]["type"]["const"] = "cdi.recording.measured.v2"

    assert changed(MEASURED, rename) == [
        "type: fixed value changed from ['cdi.recording.measured'] to ['cdi.recording.measured.v2']"
    ]


def test_a_change_inside_a_list_of_objects_is_found() -> None:
    def remove(s: dict) -> None:
        del data_def(s, "FieldError")["properties"]["location"]

    assert changed("cdi.input.rejected", remove) == ["data.errors[].location: field removed"]


def test_removing_an_event_type_breaks_and_cannot_be_published(tmp_path: Path) -> None:
    current, baseline = tmp_path / "json", tmp_path / "published"
    shutil.copytree(JSON_DIR, current)
    shutil.copytree(PUBLISHED_DIR, baseline)
    (current / "cdi.victim.referral_at_risk.schema.json").unlink()
    assert compare_directories(baseline, current) == [
        "cdi.victim.referral_at_risk: event type removed"
    ]
    with pytest.raises(ValueError, match="breaking changes cannot be published"):
        publish(baseline, current)


def test_publishing_an_additive_change_moves_the_baseline(tmp_path: Path) -> None:
    current, baseline = tmp_path / "json", tmp_path / "published"
    shutil.copytree(JSON_DIR, current)
    shutil.copytree(PUBLISHED_DIR, baseline)
    path = current / f"{MEASURED}.schema.json"
    schema = json.loads(path.read_text())
    data_def(schema, "RecordingMeasuredData")["properties"]["shift"] = {"type": "string"}
    path.write_text(json.dumps(schema))
    publish(baseline, current)
    assert (
        "shift"
        in json.loads((baseline / path.name).read_text())["$defs"]["RecordingMeasuredData"][
            "properties"
        ]
    )
