"""The committed JSON Schemas are the contract: they must match the models."""

from __future__ import annotations

import json

from schemas.export import INPUTS, JSON_DIR, OUTPUTS, render, stale


def test_the_committed_json_schemas_are_up_to_date() -> None:
    assert stale() == [], "run `cdi-monitor schemas` and commit schemas/json"


def test_there_is_one_schema_per_public_event_type() -> None:
    names = {p.name for p in JSON_DIR.glob("*.schema.json")}
    assert names == {f"{t}.schema.json" for t in {**INPUTS, **OUTPUTS}}


def test_a_changed_model_makes_the_committed_schemas_stale(tmp_path) -> None:
    for name, text in render().items():
        (tmp_path / name).write_text(text)
    assert stale(tmp_path) == []
    victim = tmp_path / "cdi.recording.measured.schema.json"
    schema = json.loads(victim.read_text())
    schema["properties"]["type"]["const"] = "something.else"
    victim.write_text(json.dumps(schema))
    assert stale(tmp_path) == ["cdi.recording.measured.schema.json"]


def test_input_timestamps_are_documented_as_date_times_with_an_offset() -> None:
    schema = json.loads((JSON_DIR / "cdi.incident.reported.schema.json").read_text())
    reported_at = schema["$defs"]["IncidentReportedData"]["properties"]["reported_at"]
    assert reported_at["format"] == "date-time"
    assert reported_at["pattern"].endswith("([Zz]|[+-]\\d{2}:\\d{2})$")
