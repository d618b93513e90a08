"""The internal audit end to end: simulator -> worker -> ledger -> `audit sample` -> auditors
on the board in Chromium -> `report`, whose figures match the ledger and the answers.

A small simulated stream (a force of 40,000 incidents a year, three days) keeps it
quick. The auditor answers from the simulator's ground truth, by keyboard.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, text

from monitor.adapters.kafka.embedded_broker import free_port
from monitor.adapters.sql.migrate import upgrade
from monitor.devtools.simulate import ForceProfile, Simulation
from monitor.devtools.simulate.truth import IncidentTruth
from monitor.domain.audit_estimate import StratumTally, stratified_rate
from tests.support.browser import BoardProcess, chromium, run_users, sign_in
from tests.support.kafka import Topics
from tests.support.worker import Deployment, WorkerProcess

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

LONDON = ZoneInfo("Europe/London")
AUDITOR_PASSWORD = "auditor password 1"  # noqa: S105 - test users only
ADMIN_PASSWORD = "admin password 123"  # noqa: S105
PROFILE = replace(ForceProfile(), incidents_per_year=40_000)


def cdi(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def until(what: str, check, timeout: float = 120.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.5)


def test_an_audit_from_the_stream_to_the_report(
    broker: str, topics: Topics, postgres_url: str, log_dir: Path, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    # --- the stream: three simulated days, the last one for records and closings ---
    today = datetime.now(UTC).astimezone(LONDON).date()
    first, last = today - timedelta(days=3), today - timedelta(days=2)
    period = f"{first.isoformat()}..{last.isoformat()}"
    start = datetime.combine(first, datetime.min.time(), tzinfo=LONDON).astimezone(UTC)
    truth: dict[str, IncidentTruth] = {}
    events = list(Simulation(PROFILE, seed=5).events(start, datetime.now(UTC), truth=truth))
    upgrade(postgres_url)
    deployment = Deployment(
        bootstrap=broker,
        database_url=postgres_url,
        partitions=2,
        extra={"CDI_AUDIT_METRICS_REFRESH": "1s"},
    )
    deployment.create_topics()
    worker = WorkerProcess(deployment, log_dir).start()
    engine = create_engine(postgres_url)
    board = None
    try:
        names = {"incidents": deployment.incidents, "crime-records": deployment.crime_records}
        for e in events:
            topics.send(names[e.topic], e.key, e.to_bytes())
        topics.flush()
        reported = {
            e.value["data"]["incident_id"]
            for e in events
            if e.event_type == "cdi.incident.reported"
        }
        closes = sum(e.event_type == "cdi.incident.closed" and not e.redelivered for e in events)

        def ledger_caught_up() -> bool:
            with engine.connect() as c:
                n = c.scalar(text("SELECT count(*) FROM incidents WHERE reported_at IS NOT NULL"))
                closed = c.scalar(
                    text("SELECT count(*) FROM incidents WHERE closed_at IS NOT NULL")
                )
            return n == len(reported) and closed == closes

        until("the ledger to hold every incident and closing", ledger_caught_up, timeout=180)

        env = deployment.env(free_port())
        env.update(
            CDI_BOARD_HOST="127.0.0.1",
            CDI_BOARD_PORT=str(free_port()),
            CDI_ALERTS_TOPIC=deployment.alerts,
            CDI_OUTCOMES_TOPIC=deployment.outcomes,
        )

        # --- the sample: seeded, stored, the same when drawn again, refused otherwise ---
        drawn = cdi(env, "audit", "sample", "--period", period, "--seed", "11", "--size", "3",
                    "--by", "registrar")  # fmt: skip
        assert drawn.returncode == 0, drawn.stdout + drawn.stderr
        assert "--seed 11 --size 3" in drawn.stdout and "drawn now" in drawn.stdout
        again = cdi(env, "audit", "sample", "--period", period, "--seed", "11", "--size", "3")
        assert again.returncode == 0 and "already drawn" in again.stdout
        other = cdi(env, "audit", "sample", "--period", period, "--seed", "12", "--size", "3")
        assert other.returncode == 1 and "already has a sample" in other.stdout
        with engine.connect() as c:
            items = c.execute(
                text("SELECT incident_id, stratum FROM audit_items ORDER BY position")
            ).all()
            strata = dict(c.execute(text("SELECT stratum, population FROM audit_strata")).all())
        assert len(items) == len({i for i, _ in items}) > 10
        with engine.connect() as c:
            frame = dict(
                c.execute(
                    text(
                        "SELECT category, count(*) FROM incidents WHERE reported_at >= :s "
                        "AND reported_at < :e AND (first_crime_id IS NOT NULL "
                        "OR closed_at IS NOT NULL OR crime_related) GROUP BY category"
                    ),
                    {"s": start, "e": start + timedelta(days=2)},
                ).all()
            )
        assert strata == frame  # the populations stored with the sample are the ledger's

        # --- the board: an auditor answers by keyboard, from the truth ---
        run_users(env, "add", "ann", "--role", "auditor", "--password-stdin",
                  password=AUDITOR_PASSWORD)  # fmt: skip
        run_users(env, "add", "adam", "--role", "admin", "--password-stdin",
                  password=ADMIN_PASSWORD)  # fmt: skip
        board = BoardProcess(env, log_dir / f"board-{env['CDI_BOARD_PORT']}.log").start()
        answered: list[str] = []
        with chromium() as browser:
            page = browser.new_page()
            sign_in(page, board.url, "ann", AUDITOR_PASSWORD)
            page.get_by_role("button", name="Audit", exact=True).focus()
            page.keyboard.press("Enter")
            title = page.locator("#audit-item-title")
            expect(title).to_have_text(re.compile(r"^Incident "), timeout=15000)
            while len(answered) < 3 or not any(truth[i].should_record for i in answered):
                assert len(answered) < 15, "no crime among the first 15 incidents"
                incident_id = title.inner_text().removeprefix("Incident ")
                answer_by_keyboard(page, engine, incident_id, truth[incident_id])
                answered.append(incident_id)
                expect(page.locator("#audit-message")).to_have_text(
                    f"Answer saved for {incident_id}", timeout=10000
                )
                expect(title).not_to_have_text(f"Incident {incident_id}", timeout=10000)
            done = page.locator("#audit-progress-rows td.done").all_inner_texts()
            assert sum(int(n) for n in done) == len(answered)
            # An auditor may not change an answer; the page says so and the API refuses.
            page.get_by_role("button", name="Previous").click()
            expect(title).to_have_text(f"Incident {answered[-1]}")
            expect(page.locator("#audit-message")).to_contain_text("only an admin can change it")
            assert page.locator("#audit-save").is_disabled()
            refused = post_answer(page, answered[-1], {"should_record": "cannot_tell"})
            assert refused["status"] == 409, refused

            # An admin changes one, with a reason (without one: refused).
            admin = browser.new_context().new_page()
            sign_in(admin, board.url, "adam", ADMIN_PASSWORD)
            changed = answered[0]
            no_reason = post_answer(admin, changed, {"should_record": "cannot_tell"})
            assert no_reason["status"] == 422 and "reason" in no_reason["body"]["fields"]
            ok = post_answer(
                admin, changed, {"should_record": "cannot_tell", "reason": "log unreadable"}
            )
            assert ok["status"] == 201, ok

            # The Audit figures view shows the same headline as the report (below).
            page.get_by_role("button", name="Audit figures").click()
            expect(page.locator("#af-headline")).to_contain_text("audited incidents", timeout=15000)
            headline_on_board = page.locator("#af-headline").inner_text()

        with engine.connect() as c:
            rows = c.execute(
                text(
                    "SELECT incident_id, version, auditor, answered_at, change_reason "
                    "FROM audit_answers ORDER BY answer_id"
                )
            ).all()
            trail = c.execute(
                text("SELECT actor, event, subject FROM board_audit WHERE event LIKE 'audit%'")
            ).all()
        assert [(r.incident_id, r.version, r.auditor) for r in rows] == [
            *[(i, 1, "ann") for i in answered],
            (changed, 2, "adam"),
        ]
        assert all(r.answered_at is not None for r in rows) and rows[-1].change_reason
        assert sorted(map(tuple, trail)) == sorted(
            [*[("ann", "audit_answered", i) for i in answered],
             ("adam", "audit_answer_changed", changed)]
        )  # fmt: skip

        # --- the report: HTML and PDF, figures as the ledger and the answers say ---
        out = tmp_path / "report"
        report = cdi(env, "report", "--period", period, "--out", str(out))
        assert report.returncode == 0, report.stdout + report.stderr
        page_html = (out / f"cdi-report-{period.replace('..', '_to_')}.html").read_text()
        pdf_path = out / f"cdi-report-{period.replace('..', '_to_')}.pdf"
        figures = json.loads(
            re.search(r'<script type="application/json" id="figures">(.*?)</script>', page_html,
                      re.S).group(1)  # type: ignore[union-attr]
        )  # fmt: skip
        check_timeliness_against_the_ledger(engine, figures, start)
        expected = estimate_from_the_database(engine, strata)
        force = figures["audit"]["force"]
        assert force["estimate"] == pytest.approx(expected.estimate)
        assert (force["lower"], force["upper"]) == pytest.approx((expected.lower, expected.upper))
        assert figures["audit"]["answered"] == len(answered)
        headline = f"{force['estimate'] * 100:.1f}%"
        assert f'<span class="big" id="headline-rate">{headline}</span>' in page_html
        assert headline in headline_on_board

        from pypdf import PdfReader

        pdf_text = " ".join(p.extract_text() for p in PdfReader(pdf_path).pages)
        assert f"recorded {headline}" in " ".join(pdf_text.split())
        share = figures["timeliness"]["all"]["share_within_target"]
        assert f"{share * 100:.1f}%" in pdf_text

        # --- the worker exports the same rate ---
        rate = until(
            "the audit gauge",
            lambda: worker.metric("cdi_audit_recording_rate", stratum="all"),
            timeout=30,
        )
        assert rate == pytest.approx(force["estimate"])
    finally:
        if board is not None:
            board.stop()
        worker.stop()
        engine.dispose()


def answer_by_keyboard(page, engine, incident_id: str, truth: IncidentTruth) -> None:  # type: ignore[no-untyped-def]
    """Answer as the truth says, with the keyboard only: Tab, arrow keys, Space and Enter."""
    with engine.connect() as c:
        group = c.scalar(
            text(
                "SELECT c.offence_group FROM incidents i JOIN crimes c "
                "ON c.crime_id = i.first_crime_id WHERE i.incident_id = :i"
            ),
            {"i": incident_id},
        )
    should = page.get_by_role("group", name="Should a crime have been recorded?")
    # Exact names: "No" is also a part of "Cannot tell".
    should.get_by_role("radio", name="Yes" if truth.should_record else "No", exact=True).focus()
    page.keyboard.press("Space")
    if truth.should_record:
        select = page.get_by_label("Offence group it should have been")
        select.focus()
        select.select_option(truth.offence_group)
        if group is not None:
            correct = page.get_by_role("group", name="Was it recorded correctly?")
            correct.get_by_role(
                "radio", name="Yes" if group == truth.offence_group else "No", exact=True
            ).focus()
            page.keyboard.press("Space")
    page.get_by_label("Note").focus()
    page.keyboard.type("checked against the command-and-control log")
    page.get_by_role("button", name=re.compile("^Save")).focus()
    page.keyboard.press("Enter")


def post_answer(page, incident_id: str, body: dict) -> dict:  # type: ignore[no-untyped-def]
    return page.evaluate(
        """async ([incident, body]) => {
            const me = await (await fetch('/api/me')).json();
            const samples = await (await fetch('/api/audit/samples')).json();
            const id = samples.samples[0].sample_id;
            const path = `/api/audit/samples/${id}/incidents/${encodeURIComponent(incident)}`;
            const r = await fetch(`${path}/answers`, {
                method: 'POST',
                headers: {'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf_token},
                body: JSON.stringify(body),
            });
            return {status: r.status, body: await r.json()};
        }""",
        [incident_id, body],
    )


def check_timeliness_against_the_ledger(engine, figures: dict, start: datetime) -> None:  # type: ignore[no-untyped-def]
    """The census, recomputed in SQL: counts, the share in 24 h, percentile_cont."""
    with engine.connect() as c:
        rows = c.execute(
            text(
                "SELECT division, count(*) AS recorded, "
                "sum(CASE WHEN within_target THEN 1 ELSE 0 END) AS within, "
                "percentile_cont(0.5) WITHIN GROUP (ORDER BY elapsed_seconds) AS median, "
                "percentile_cont(0.9) WITHIN GROUP (ORDER BY elapsed_seconds) AS p90 "
                "FROM incidents WHERE reported_at >= :s AND reported_at < :e "
                "AND first_crime_id IS NOT NULL GROUP BY ROLLUP (division)"
            ),
            {"s": start, "e": start + timedelta(days=2)},
        ).all()
    ours = {d["group"]: d for d in figures["timeliness"]["by_division"]}
    ours["all"] = figures["timeliness"]["all"]
    for r in rows:
        mine = ours[r.division or "all"]
        assert (mine["recorded"], mine["within_target"]) == (r.recorded, r.within)
        assert mine["median_seconds"] == pytest.approx(r.median)
        assert mine["p90_seconds"] == pytest.approx(r.p90)
    assert figures["timeliness"]["all"]["recorded"] > 20


def estimate_from_the_database(engine, population: dict[str, int]):  # type: ignore[no-untyped-def]
    """The force's rate from the stored answers and the ledger, by the estimator's formula."""
    with engine.connect() as c:
        rows = c.execute(
            text(
                "SELECT x.stratum, a.should_record, i.first_crime_id IS NOT NULL AS recorded "
                "FROM audit_items x JOIN incidents i ON i.incident_id = x.incident_id "
                "JOIN audit_answers a "
                "ON a.sample_id = x.sample_id AND a.incident_id = x.incident_id "
                "WHERE a.version = (SELECT max(version) FROM audit_answers b "
                "WHERE b.sample_id = a.sample_id AND b.incident_id = a.incident_id)"
            )
        ).all()
        sampled = dict(
            c.execute(text("SELECT stratum, count(*) FROM audit_items GROUP BY stratum")).all()
        )
    tallies = []
    for stratum, n in population.items():
        mine = [r for r in rows if r.stratum == stratum]
        judged = [r for r in mine if r.should_record != "cannot_tell"]
        crimes = [r for r in judged if r.should_record == "yes"]
        tallies.append(
            StratumTally(
                stratum,
                n,
                sampled.get(stratum, 0),
                len(mine),
                len(judged),
                len(crimes),
                sum(r.recorded for r in crimes),
            )
        )
    result = stratified_rate(tallies)
    assert result is not None
    return result
