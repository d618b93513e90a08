"""The AsyncAPI document: up to date, complete, and valid for the official AsyncAPI parser.

The parser is ``@asyncapi/parser`` on Node, installed from the committed
lockfile in ``tools/asyncapi`` (``npm ci``, done by ``./test.sh``). Without Node
or the installed parser the validation test is skipped, except under
``CI=true`` where it fails.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest

from monitor.adapters.bank_holidays import EnglandAndWalesWorkingDays
from monitor.adapters.wire.examples import examples
from monitor.settings import Settings
from schemas.asyncapi import CHANNELS, DOCUMENT, document, render, stale
from schemas.envelope import DEFAULT_SCHEMA_BASE
from schemas.export import INPUTS, JSON_DIR, OUTPUTS

ROOT = Path(__file__).resolve().parents[2]
VALIDATOR = ROOT / "tools" / "asyncapi"
EXAMPLES = examples(EnglandAndWalesWorkingDays(), DEFAULT_SCHEMA_BASE)


def test_the_committed_asyncapi_document_is_up_to_date() -> None:
    assert not stale(EXAMPLES), "run `cdi-monitor schemas` and commit docs/asyncapi.json"


def test_every_public_event_type_is_on_exactly_one_channel_with_an_example() -> None:
    on_channels = [t for c in CHANNELS for t in c.event_types]
    assert sorted(on_channels) == sorted({**INPUTS, **OUTPUTS})
    doc = json.loads(DOCUMENT.read_text())
    for message in doc["components"]["messages"].values():
        (example,) = message["examples"]
        assert example["payload"]["type"] == message["name"]
        assert message["bindings"]["kafka"]["key"]["type"] == "string"


def test_the_channels_are_the_topics_the_worker_uses_by_default() -> None:
    settings = Settings()
    defaults = {
        settings.incidents_topic,
        settings.crime_records_topic,
        settings.outcomes_topic,
        settings.alerts_topic,
        settings.dead_letter_topic,
        settings.referrals_topic,
    }
    assert {c.address for c in CHANNELS} == defaults


@pytest.mark.parametrize("event_type", sorted({**INPUTS, **OUTPUTS}))
def test_each_example_validates_against_its_published_schema_and_its_asyncapi_payload(
    event_type: str,
) -> None:
    example = EXAMPLES[event_type]
    published = json.loads((JSON_DIR / f"{event_type}.schema.json").read_text())
    checker = jsonschema.FormatChecker()
    jsonschema.Draft202012Validator(published, format_checker=checker).validate(example)
    payload = document(EXAMPLES)["components"]["messages"][event_type.replace(".", "_")]
    jsonschema.Draft7Validator(payload["payload"], format_checker=checker).validate(example)
    if event_type in OUTPUTS:
        assert example["dataschema"] == f"{DEFAULT_SCHEMA_BASE}{event_type}.schema.json"
        assert example["subject"]


def _parser_command() -> list[str]:
    node = shutil.which("node")
    installed = (VALIDATOR / "node_modules" / "@asyncapi" / "parser").is_dir()
    if node is None or not installed:
        reason = (
            "node is not installed"
            if node is None
            else "the AsyncAPI parser is not installed: run `npm ci` in tools/asyncapi"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (CI=true: the AsyncAPI validation must run)")
        pytest.skip(reason)
    return [node, str(VALIDATOR / "validate.js")]


def _parse(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*_parser_command(), str(path)], capture_output=True, text=True, timeout=120, check=False
    )


def test_the_official_asyncapi_parser_accepts_the_document() -> None:
    result = _parse(DOCUMENT)
    assert result.returncode == 0, result.stdout + result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary == {"valid": True, "version": "3.0.0", "channels": 6, "messages": 15}


def test_the_official_asyncapi_parser_rejects_a_broken_document(tmp_path: Path) -> None:
    doc = json.loads(render(EXAMPLES))
    doc["operations"]["sendVictimReferrals"]["action"] = "publish"  # AsyncAPI 2 wording
    del doc["channels"]["incidents"]["messages"]
    doc["channels"]["deadLetters"]["address"] = 42
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(doc))
    result = _parse(broken)
    assert result.returncode == 1, result.stdout + result.stderr
    assert '"valid":false' in result.stdout
