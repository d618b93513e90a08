"""The worker end to end: events into Kafka; outcomes, alerts, dead letters and ledger rows out.

One worker process runs against the broker and a fresh PostgreSQL database.
A corpus of scenarios is produced once; each test checks one rule on what
came out.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from monitor.adapters.sql.ledger import SqlLedger, make_engine
from monitor.adapters.sql.migrate import upgrade
from monitor.adapters.sql.tables import incidents as incidents_table
from monitor.domain.outcomes import alert_id_for
from tests.support import events as ev
from tests.support.kafka import Record, Topics
from tests.support.postgres import fresh_postgres_database
from tests.support.worker import Deployment, WorkerProcess

pytestmark = pytest.mark.integration

H = timedelta(hours=1)
NOW = datetime.now(UTC).replace(microsecond=0)


@dataclass
class Run:
    deployment: Deployment
    worker: WorkerProcess
    topics: Topics
    ledger: SqlLedger

    def outputs(self, topic: str) -> list[Record]:
        return self.topics.read(topic)

    def of(self, topic: str, incident_id: str, event_type: str | None = None) -> list[dict]:
        return [
            r.value
            for r in self.outputs(topic)
            if r.value.get("subject") == incident_id
            and (event_type is None or r.type == event_type)
        ]


def corpus(d: Deployment) -> list[tuple[str, str | None, bytes | dict]]:
    """(topic, key, value) in the order they are produced."""
    inc, crm = d.incidents, d.crime_records
    bad_time = ev.reported("INC-E2", NOW - 2 * H)
    bad_time["data"]["reported_at"] = "2024-05-01T10:00:00"  # no offset
    unknown = ev.envelope("cdi.crime.reclassified", {"crime_id": "X"}, NOW)
    duplicate_report = ev.reported("INC-D", NOW - 3 * H, event_id="dup-report-D")
    duplicate_crime = ev.recorded("CR-D", ["INC-D"], NOW - 2 * H, event_id="dup-crime-D")
    return [
        # A: recorded an hour after the report.
        (inc, "INC-A", ev.reported("INC-A", NOW - 2 * H)),
        (crm, "INC-A", ev.recorded("CR-A", ["INC-A"], NOW - 1 * H)),
        # B: reported 30 hours ago, never recorded (yet).
        (inc, "INC-B", ev.reported("INC-B", NOW - 30 * H, division="charnwood")),
        # C: the crime record arrives before its report.
        (crm, "INC-C", ev.recorded("CR-C", ["INC-C"], NOW - 4 * H)),
        # E: malformed inputs, among valid ones.
        (inc, "INC-E1", b"this is not json"),
        (inc, "INC-E2", bad_time),
        (crm, "X", unknown),
        (inc, "INC-E4", b"[1, 2, 3]"),
        (inc, "INC-C", ev.reported("INC-C", NOW - 5 * H)),
        # D: the same report and record delivered twice.
        (inc, "INC-D", duplicate_report),
        (inc, "INC-D", duplicate_report),
        (crm, "INC-D", duplicate_crime),
        (crm, "INC-D", duplicate_crime),
        # F: one crime for two incidents.
        (inc, "INC-F1", ev.reported("INC-F1", NOW - 3 * H)),
        (inc, "INC-F2", ev.reported("INC-F2", NOW - 3 * H, division="blaby")),
        (crm, "INC-F1", ev.recorded("CR-F", ["INC-F1", "INC-F2"], NOW - 1 * H)),
        # G: a crime that names no incident.
        (crm, "CR-G", ev.recorded("CR-G", [], NOW - 1 * H)),
        # H: closed as no crime before any recording.
        (inc, "INC-H", ev.reported("INC-H", NOW - 5 * H)),
        (inc, "INC-H", ev.closed("INC-H", NOW - 4 * H, "no_crime")),
        # I: produced with the wrong key, so it lands on the wrong partition.
        (inc, "not-the-incident-id", ev.reported("INC-I", NOW - 3 * H)),
        (crm, "INC-I", ev.recorded("CR-I", ["INC-I"], NOW - 2 * H)),
        # J: found to be crime-related 25 hours after a non-crime report.
        (inc, "INC-J", ev.reported("INC-J", NOW - 26 * H, crime_related=False, category="asb")),
        (
            inc,
            "INC-J",
            ev.updated("INC-J", NOW - 25 * H, crime_related=True, category="harassment"),
        ),
        # K: two crimes for one incident; the earlier-recorded one arrives second.
        (inc, "INC-K", ev.reported("INC-K", NOW - 10 * H)),
        (crm, "INC-K", ev.recorded("CR-K1", ["INC-K"], NOW - 8 * H)),
        (crm, "INC-K", ev.recorded("CR-K2", ["INC-K"], NOW - 9 * H)),
        # L: a record stamped before its report (a data-quality error).
        (inc, "INC-L", ev.reported("INC-L", NOW - 3 * H)),
        (crm, "INC-L", ev.recorded("CR-L", ["INC-L"], NOW - 3 * H - 5 * timedelta(minutes=1))),
        # M: a recorded crime later cancelled.
        (crm, "INC-A", ev.cancelled("CR-A", NOW - 30 * timedelta(minutes=1))),
    ]


EXPECTED_MEASURED = {"INC-A", "INC-C", "INC-D", "INC-F1", "INC-F2", "INC-I", "INC-K", "INC-L"}


@pytest.fixture(scope="module")
def run(broker: str, topics: Topics, log_dir: Path) -> Iterator[Run]:
    with fresh_postgres_database() as url:
        upgrade(url)
        deployment = Deployment(bootstrap=broker, database_url=url, partitions=4)
        worker = WorkerProcess(deployment, log_dir).start()
        try:
            for topic, key, value in corpus(deployment):
                topics.send(topic, key, value)
            topics.flush()
            topics.wait_for(
                deployment.outcomes,
                lambda rs: (
                    {r.value["subject"] for r in rs if r.type == "cdi.recording.measured"}
                    >= EXPECTED_MEASURED
                    and any(r.type == "cdi.incident.closed_without_crime" for r in rs)
                ),
                what="every measurement",
            )
            topics.wait_for(
                deployment.alerts,
                lambda rs: sum(r.type == "cdi.recording.overdue" for r in rs) >= 2,
                what="the overdue alerts",
            )
            topics.wait_for(deployment.dead_letters, lambda rs: len(rs) >= 4, what="4 dead letters")
            engine = make_engine(url)
            ledger = SqlLedger(engine)
            _wait(
                lambda: (
                    ledger.incident("INC-L") is not None
                    and ledger.crime("CR-A") is not None
                    and (ledger.crime("CR-A").cancelled_at is not None)
                ),
                "the ledger",
            )
            yield Run(deployment, worker, topics, ledger)
        except BaseException:
            print(worker.log())
            raise
        finally:
            worker.stop()


def _wait(predicate, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_report_and_its_recording_are_measured_within_target(run: Run) -> None:
    (measured,) = run.of(run.deployment.outcomes, "INC-A", "cdi.recording.measured")
    data = measured["data"]
    assert data["crime_id"] == "CR-A"
    assert data["elapsed_seconds"] == 3600.0 and data["within_target"] is True
    assert data["target_seconds"] == 86400.0
    assert data["category"] == "violence" and data["division"] == "city"
    assert run.of(run.deployment.alerts, "INC-A") == []
    row = run.ledger.incident("INC-A")
    assert row.status == "recorded" and row.first_crime_id == "CR-A"
    assert row.elapsed_seconds == 3600.0 and row.within_target is True


def test_an_incident_past_its_deadline_is_alerted_due_soon_then_overdue(run: Run) -> None:
    alerts = run.of(run.deployment.alerts, "INC-B")
    assert [a["type"] for a in alerts] == ["cdi.recording.due_soon", "cdi.recording.overdue"]
    due, over = (a["data"] for a in alerts)
    assert due["alert_id"] == over["alert_id"] == alert_id_for("INC-B")
    assert due["raised_at"] == ev.stamp(NOW - 30 * H + 20 * H)
    assert over["overdue_since"] == ev.stamp(NOW - 6 * H)
    assert over["division"] == "charnwood"
    _wait(lambda: run.ledger.alert(alert_id_for("INC-B")) is not None, "the alert row")
    assert run.ledger.alert(alert_id_for("INC-B")).state == "overdue"
    assert run.ledger.incident("INC-B").status == "overdue"


def test_a_crime_record_that_arrives_before_its_report_is_measured_when_the_report_comes(
    run: Run,
) -> None:
    (measured,) = run.of(run.deployment.outcomes, "INC-C", "cdi.recording.measured")
    assert measured["data"]["crime_id"] == "CR-C"
    assert measured["data"]["elapsed_seconds"] == 3600.0


def test_redelivered_events_change_nothing(run: Run) -> None:
    assert len(run.of(run.deployment.outcomes, "INC-D")) == 1
    assert run.worker.metric("cdi_recordings_total") == len(
        [r for r in run.outputs(run.deployment.outcomes) if r.type == "cdi.recording.measured"]
    )


def test_malformed_inputs_are_dead_lettered_with_a_reason_and_their_original_bytes(
    run: Run,
) -> None:
    letters = [r.value["data"] for r in run.outputs(run.deployment.dead_letters)]
    assert len(letters) == 4
    by_value = {base64.b64decode(d["value_base64"]): d for d in letters}
    not_json = by_value[b"this is not json"]
    assert not_json["kind"] == "not_json" and not_json["source_topic"] == run.deployment.incidents
    assert base64.b64decode(not_json["key_base64"]) == b"INC-E1"
    naive = next(d for d in letters if d["event_type"] == "cdi.incident.reported")
    assert naive["kind"] == "invalid"
    assert "data.reported_at" in naive["reason"] and "offset" in naive["reason"]
    unknown = next(d for d in letters if d["kind"] == "unknown_type")
    assert "cdi.crime.reclassified" in unknown["reason"]
    assert unknown["source_topic"] == run.deployment.crime_records
    assert by_value[b"[1, 2, 3]"]["kind"] == "not_an_event"
    assert run.worker.metric("cdi_events_rejected_total") == 4
    assert run.worker.health()["status"] == "ok"


def test_one_crime_naming_two_incidents_measures_each(run: Run) -> None:
    for incident in ("INC-F1", "INC-F2"):
        (m,) = run.of(run.deployment.outcomes, incident, "cdi.recording.measured")
        assert m["data"]["crime_id"] == "CR-F" and m["data"]["elapsed_seconds"] == 7200.0
    assert run.ledger.crime("CR-F").incident_ids == ("INC-F1", "INC-F2")


def test_a_crime_that_names_no_incident_is_counted_as_unlinked(run: Run) -> None:
    crime = run.ledger.crime("CR-G")
    assert crime.unlinked and crime.incident_ids == ()
    assert run.worker.metric("cdi_crimes_unlinked_total") == 1


def test_closing_without_a_crime_stops_the_clock_and_is_announced(run: Run) -> None:
    (closed,) = run.of(run.deployment.outcomes, "INC-H")
    assert closed["type"] == "cdi.incident.closed_without_crime"
    assert closed["data"]["closing_code"] == "no_crime" and not closed["data"]["after_deadline"]
    assert run.of(run.deployment.alerts, "INC-H") == []
    assert run.ledger.incident("INC-H").status == "closed_without_crime"


def test_an_incident_event_on_the_wrong_partition_is_still_joined(run: Run) -> None:
    (measured,) = run.of(run.deployment.outcomes, "INC-I", "cdi.recording.measured")
    assert measured["data"]["crime_id"] == "CR-I"
    assert run.worker.metric("cdi_events_rerouted_total") == 1


def test_an_incident_found_crime_related_later_keeps_its_original_deadline(run: Run) -> None:
    alerts = run.of(run.deployment.alerts, "INC-J")
    assert [a["type"] for a in alerts] == ["cdi.recording.due_soon", "cdi.recording.overdue"]
    assert alerts[1]["data"]["overdue_since"] == ev.stamp(NOW - 2 * H)
    row = run.ledger.incident("INC-J")
    assert row.opening_category == "asb" and row.category == "harassment"
    assert row.crime_related_since == NOW - 25 * H


def test_the_earliest_recording_counts_when_two_crimes_name_one_incident(run: Run) -> None:
    measured = run.of(run.deployment.outcomes, "INC-K", "cdi.recording.measured")
    assert [m["data"]["crime_id"] for m in measured] == ["CR-K1", "CR-K2"]
    assert run.ledger.incident("INC-K").first_crime_id == "CR-K2"
    assert run.ledger.incident("INC-K").elapsed_seconds == 3600.0


def test_a_record_stamped_before_its_report_is_measured_as_zero_and_flagged(run: Run) -> None:
    (m,) = run.of(run.deployment.outcomes, "INC-L", "cdi.recording.measured")
    assert m["data"]["elapsed_seconds"] == 0.0 and m["data"]["recorded_before_report"] is True
    assert run.ledger.incident("INC-L").recorded_before_report is True
    assert run.worker.metric("cdi_recordings_before_report_total") == 1


def test_a_cancelled_crime_is_kept_with_its_cancellation(run: Run) -> None:
    crime = run.ledger.crime("CR-A")
    assert crime.recorded_at == NOW - 1 * H
    assert crime.cancellation_reason == "recorded_in_error"


def test_the_worker_serves_health_and_metrics_but_never_its_table(run: Run) -> None:
    health = run.worker.health()
    assert health["status"] == "ok" and health["ledger"]["status"] == "ok"
    assert run.worker.get("/ready")[0] == 200
    assert run.worker.metric("cdi_recordings_total") > 0
    for path in ("/table/incidents/", "/table/", "/router/", "/graph/", "/stats/"):
        assert run.worker.get(path)[0] == 404, path


def test_outputs_are_keyed_by_incident_so_one_incidents_events_stay_in_order(run: Run) -> None:
    for record in run.outputs(run.deployment.alerts) + run.outputs(run.deployment.outcomes):
        assert record.key.decode() == record.value["subject"]


def test_the_ledger_holds_every_valid_incident_and_none_of_the_rejected(run: Run) -> None:
    with run.ledger.engine.connect() as connection:
        ids = set(connection.execute(select(incidents_table.c.incident_id)).scalars())
    assert ids == {f"INC-{x}" for x in ("A", "B", "C", "D", "F1", "F2", "H", "I", "J", "K", "L")}


def test_a_recording_after_the_overdue_alert_resolves_it_as_late(run: Run) -> None:
    d = run.deployment
    run.topics.send(d.crime_records, "INC-B", ev.recorded("CR-B", ["INC-B"], datetime.now(UTC)))
    run.topics.flush()
    alerts = run.topics.wait_for(
        d.alerts,
        lambda rs: any(
            r.type == "cdi.recording.resolved" and r.value["subject"] == "INC-B" for r in rs
        ),
        timeout=30,
        what="the resolution of INC-B",
    )
    resolved = next(r.value["data"] for r in alerts if r.type == "cdi.recording.resolved")
    assert resolved["alert_id"] == alert_id_for("INC-B")
    assert resolved["late"] is True and resolved["was_overdue"] is True
    assert resolved["resolution"] == "recorded" and resolved["crime_id"] == "CR-B"
    (measured,) = run.of(d.outcomes, "INC-B", "cdi.recording.measured")
    assert measured["data"]["within_target"] is False
    _wait(lambda: run.ledger.alert(alert_id_for("INC-B")).state == "resolved", "the resolved row")
    alert = run.ledger.alert(alert_id_for("INC-B"))
    assert alert.late is True and alert.resolution == "recorded"
    assert alert.overdue_at == NOW - 6 * H
    assert run.ledger.incident("INC-B").status == "recorded_late"
