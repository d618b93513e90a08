"""The public contract, checked on what a real worker publishes.

One worker runs against the broker and PostgreSQL; a corpus that provokes
every output event type is produced once. Then every event on every output
topic is validated against its published JSON Schema (``schemas/json``, read
from disk: not a hand-written copy), referral due dates are checked against
the England and Wales calendar, and ``cdi-monitor subscribe`` is run as a
partner would run it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jsonschema
import pytest

from monitor.adapters.bank_holidays import EnglandAndWalesWorkingDays
from monitor.adapters.sql.migrate import upgrade
from monitor.domain.referral import ReferralPolicy, referral_due_by
from schemas.envelope import DEFAULT_SCHEMA_BASE
from schemas.export import JSON_DIR, OUTPUTS
from tests.support import events as ev
from tests.support.kafka import Record, Topics
from tests.support.postgres import fresh_postgres_database
from tests.support.worker import Deployment, WorkerProcess

pytestmark = pytest.mark.integration

H = timedelta(hours=1)
NOW = datetime.now(UTC).replace(microsecond=0)
POLICY = ReferralPolicy(calendar=EnglandAndWalesWorkingDays())

# Old enough that every alert point has passed; the referral window of a report
# made then is computed with the real calendar so at-risk and missed are certain.
OLD = NOW - timedelta(days=20)
OLD_DUE = referral_due_by(OLD, POLICY)
AT_RISK_AT = OLD + (OLD_DUE - OLD) * 0.75
MISSED_AT = OLD_DUE + H


def crime(crime_id: str, incidents: list[str], at: datetime, **data: object) -> dict:
    event = ev.recorded(crime_id, incidents, at)
    event["data"].update(data)
    return event


def corpus(d: Deployment) -> list[tuple[str, str | None, bytes | dict]]:
    inc, crm = d.incidents, d.crime_records
    return [
        # A: recorded within the hour: measured; the referral is due, in time.
        (inc, "INC-A", ev.reported("INC-A", NOW - 2 * H)),
        (crm, "INC-A", crime("CR-A", ["INC-A"], NOW - H, victim_consents_to_referral=None)),
        # B: never recorded: due soon, then overdue.
        (inc, "INC-B", ev.reported("INC-B", NOW - 30 * H)),
        # R: recorded late, with three quarters of the referral window gone:
        # alerts raised and resolved; a sexual offence without consent is withheld, at risk.
        (inc, "INC-R", ev.reported("INC-R", OLD, category="sexual_offence")),
        (
            crm,
            "INC-R",
            crime(
                "CR-R",
                ["INC-R"],
                AT_RISK_AT,
                offence_group="sexual_offences",
                victim_consents_to_referral=None,
            ),
        ),
        # M: the crime record arrives first, recorded after the referral was due.
        (crm, "INC-M", crime("CR-M", ["INC-M"], MISSED_AT, offence_group="burglary")),
        (inc, "INC-M", ev.reported("INC-M", OLD)),
        # P: one crime names two incidents: one referral, from the first named.
        (inc, "INC-P2", ev.reported("INC-P2", NOW - 3 * H)),
        (inc, "INC-P1", ev.reported("INC-P1", NOW - 3 * H)),
        (crm, "INC-P2", crime("CR-P", ["INC-P2", "INC-P1"], NOW - 2 * H)),
        # N: a crime with no victim reference: no referral.
        (inc, "INC-N", ev.reported("INC-N", NOW - 3 * H)),
        (crm, "INC-N", crime("CR-N", ["INC-N"], NOW - 2 * H, victim_ref=None)),
        # H: closed as no crime before any recording.
        (inc, "INC-H", ev.reported("INC-H", NOW - 5 * H)),
        (inc, "INC-H", ev.closed("INC-H", NOW - 4 * H, "no_crime")),
        # E: not an event at all.
        (inc, "INC-E", b"this is not json"),
    ]


@dataclass
class Run:
    deployment: Deployment
    topics: Topics

    def outputs(self) -> dict[str, list[Record]]:
        d = self.deployment
        return {t: self.topics.read(t) for t in (d.outcomes, d.alerts, d.referrals, d.dead_letters)}

    def referrals(self) -> list[Record]:
        return self.topics.read(self.deployment.referrals)


EXPECTED_REFERRALS = {
    ("cdi.victim.referral_due", "INC-A"),
    ("cdi.victim.referral_withheld", "INC-R"),
    ("cdi.victim.referral_at_risk", "INC-R"),
    ("cdi.victim.referral_due", "INC-M"),
    ("cdi.victim.referral_window_missed", "INC-M"),
    ("cdi.victim.referral_due", "INC-P2"),
}


@pytest.fixture(scope="module")
def run(broker: str, topics: Topics, log_dir: Path) -> Iterator[Run]:
    with fresh_postgres_database() as url:
        upgrade(url)
        deployment = Deployment(bootstrap=broker, database_url=url, partitions=3)
        worker = WorkerProcess(deployment, log_dir).start()
        try:
            for topic, key, value in corpus(deployment):
                topics.send(topic, key, value)
            topics.flush()
            topics.wait_for(
                deployment.referrals,
                lambda rs: {(r.type, r.value["subject"]) for r in rs} >= EXPECTED_REFERRALS,
                what="every referral",
            )
            topics.wait_for(
                deployment.alerts,
                lambda rs: (
                    {r.type for r in rs}
                    >= {"cdi.recording.due_soon", "cdi.recording.overdue", "cdi.recording.resolved"}
                ),
                what="alerts raised and resolved",
            )
            topics.wait_for(
                deployment.outcomes,
                lambda rs: (
                    {r.type for r in rs}
                    >= {"cdi.recording.measured", "cdi.incident.closed_without_crime"}
                ),
                what="outcomes",
            )
            topics.wait_for(deployment.dead_letters, lambda rs: len(rs) >= 1, what="a dead letter")
            yield Run(deployment, topics)
        except BaseException:
            print(worker.log())
            raise
        finally:
            worker.stop()


def _validator(event_type: str) -> jsonschema.Draft202012Validator:
    schema = json.loads((JSON_DIR / f"{event_type}.schema.json").read_text())
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def test_every_event_the_worker_publishes_validates_against_its_published_schema(run: Run) -> None:
    seen: set[str] = set()
    for topic, records in run.outputs().items():
        for record in records:
            event = record.value
            assert event["type"] in OUTPUTS, f"{topic}: unpublished type {event['type']}"
            errors = [e.message for e in _validator(event["type"]).iter_errors(event)]
            assert errors == [], f"{topic} {event['type']} {event['id']}: {errors}"
            assert event["dataschema"] == f"{DEFAULT_SCHEMA_BASE}{event['type']}.schema.json"
            assert event["subject"]
            if topic != run.deployment.dead_letters:
                assert (
                    record.key == event["subject"].encode() == event["data"]["incident_id"].encode()
                )
            seen.add(event["type"])
    assert seen == set(OUTPUTS), f"not provoked: {sorted(set(OUTPUTS) - seen)}"


def test_referrals_are_due_two_working_days_after_the_report_with_consent_respected(
    run: Run,
) -> None:
    by = {(r.type, r.value["subject"]): r.value["data"] for r in run.referrals()}
    assert set(by) == EXPECTED_REFERRALS  # none for INC-N (no victim) or INC-P1 (not first named)
    due_a = by[("cdi.victim.referral_due", "INC-A")]
    expected = referral_due_by(NOW - 2 * H, POLICY)
    assert datetime.fromisoformat(due_a["referral_due_by"]) == expected
    assert due_a["referral_due_by"].endswith(("+00:00", "+01:00", "Z"))
    assert due_a["victim_ref"] == "V-1A2B3C" and due_a["consent_required_because"] == []
    withheld = by[("cdi.victim.referral_withheld", "INC-R")]
    assert withheld["reason"] == "no_explicit_consent" and "victim_ref" not in withheld
    assert "offence_group:sexual_offences" in withheld["consent_required_because"]
    at_risk = by[("cdi.victim.referral_at_risk", "INC-R")]
    assert at_risk["referral"] == "withheld" and at_risk["window_spent"] == pytest.approx(0.75)
    missed = by[("cdi.victim.referral_window_missed", "INC-M")]
    assert missed["missed_by_seconds"] == 3600.0 and "victim_ref" not in missed
    assert datetime.fromisoformat(missed["referral_due_by"]) == OLD_DUE
    assert by[("cdi.victim.referral_due", "INC-P2")]["crime_id"] == "CR-P"


def test_each_referral_is_published_once_with_a_deterministic_id(run: Run) -> None:
    records = run.referrals()
    ids = [r.value["id"] for r in records]
    assert len(ids) == len(set(ids)) == len(EXPECTED_REFERRALS)


def _subscribe(run: Run, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDI_")}
    env["CDI_KAFKA_BOOTSTRAP_SERVERS"] = run.deployment.bootstrap
    return subprocess.run(
        [sys.executable, "-m", "monitor", "subscribe", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_subscribe_prints_a_topic_s_events_as_json_lines(run: Run) -> None:
    published = {r.value["id"]: r.value for r in run.referrals()}
    result = _subscribe(
        run, run.deployment.referrals, "--json", "--from-beginning",
        "--max", str(len(published)), "--timeout", "30s",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    printed = [json.loads(line) for line in result.stdout.splitlines()]
    assert {e["id"]: e for e in printed} == published


def test_subscribe_prints_readable_events_and_says_when_fewer_came_than_asked(run: Run) -> None:
    result = _subscribe(
        run, run.deployment.referrals, "--from-beginning", "--max", "100", "--timeout", "3s"
    )
    assert result.returncode == 1
    assert f"{len(EXPECTED_REFERRALS)} of 100 events" in result.stderr
    assert "cdi.victim.referral_withheld  key=INC-R  subject=INC-R" in result.stdout
    assert "referral_due_by" in result.stdout


def test_subscribe_names_a_missing_topic(run: Run) -> None:
    result = _subscribe(run, "no-such-topic", "--max", "1", "--timeout", "2s")
    assert result.returncode == 2
    assert "topic 'no-such-topic' does not exist" in result.stderr
