"""No victim detail outside the referral topic, end to end: a real worker and a real board.

A distinctive victim reference is planted in malformed inputs of every kind:
the external topics (incidents, crime-records), the worker's own links and
ledger topics, and requests to the board. It must then appear in no log file,
no dead letter, not on ``/health`` or ``/metrics`` and in no answer of the
board. As a control, a valid crime record carries the same reference, which
must reach ``victim-referrals``: the search would find it if it were there.
"""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from monitor.adapters.kafka.embedded_broker import free_port
from monitor.adapters.sql.migrate import upgrade
from tests.support import events as ev
from tests.support.browser import BoardProcess, run_users
from tests.support.kafka import Topics
from tests.support.postgres import fresh_postgres_database
from tests.support.worker import Deployment, WorkerProcess

pytestmark = pytest.mark.integration

PLANTED = f"V-PLANTED-{secrets.token_hex(4).upper()}"
NOW = datetime.now(UTC).replace(microsecond=0)
H = timedelta(hours=1)
PASSWORD = "a long enough password"  # noqa: S105 - test users only


def traces(text: str | bytes) -> bool:
    """Whether the planted reference is in ``text``, as it is or in base64."""
    raw = text if isinstance(text, bytes) else text.encode(errors="replace")
    if PLANTED.encode() in raw:
        return True
    for shift in range(3):  # base64 of any alignment of the reference
        chunk = base64.b64encode(b"x" * shift + PLANTED.encode())[4:16]
        if chunk in raw:
            return True
    return False


def a_crime(victim_ref: str, **changes: Any) -> dict[str, Any]:
    event = ev.recorded("CR-V1", ["INC-V1"], NOW - H, victim_ref=victim_ref)
    event["data"].update(changes)
    return event


def malformed_inputs(d: Deployment) -> list[tuple[str, str, bytes]]:
    """(topic, key, value): each is rejected, and each holds the planted reference."""
    incident = ev.reported("INC-V2", NOW - 2 * H)
    incident["data"].update(reported_at="2024-05-01T10:00:00", victim_ref=PLANTED)
    crime = json.dumps(a_crime(PLANTED)).encode()
    link = {
        "kind": "link",
        "event_id": "e-v",
        "incident_id": "INC-V3",
        "crime_id": "CR-V3",
        "recorded_at": ev.stamp(NOW),
        "victim": {"victim_ref": PLANTED},  # the rest of the record is missing
    }
    ledger_crime = {
        "kind": "crime_recorded",
        "event_id": "e-l",
        "crime": {"crime_id": "CR-V4", "victim_ref": PLANTED},
    }
    return [
        (d.incidents, "INC-V2", json.dumps(incident).encode()),
        (d.incidents, "INC-V2", b'{"data": {"victim_ref": "' + PLANTED.encode() + b'", "inc'),
        (d.crime_records, "INC-V1", json.dumps(a_crime(PLANTED, recorded_at="no")).encode()),
        (d.crime_records, "INC-V1", json.dumps(a_crime(f"{PLANTED} has spaces")).encode()),
        (d.crime_records, "INC-V1", crime[: crime.index(PLANTED.encode()) + len(PLANTED) + 3]),
        (f"{d.name}-links", "INC-V3", json.dumps(link).encode()),
        (f"{d.name}-ledger", "CR-V4", json.dumps(ledger_crime).encode()),
    ]


async def board_answers(url: str) -> list[tuple[str, int, str]]:
    """Malformed requests carrying the reference, as a stranger, a supervisor and an admin."""
    answers: list[tuple[str, int, str]] = []

    async def call(s: aiohttp.ClientSession, method: str, path: str, **kw: Any) -> None:
        async with s.request(method, url + path, **kw) as r:
            body = await r.read()
            headers = "\n".join(f"{k}: {v}" for k, v in r.headers.items())
            answers.append((f"{method} {path}", r.status, f"{headers}\n{body.decode()}"))

    deep = "[" * 15_000 + json.dumps({"victim_ref": PLANTED}) + "]" * 15_000
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as s:
        await call(s, "POST", "/api/login", json={"username": PLANTED, "password": PLANTED})
        await call(s, "POST", "/api/login", json={"username": f"{PLANTED} x", "password": 1})
        await call(s, "POST", "/api/login", data=deep, headers={"Content-Type": "application/json"})
        await call(s, "POST", "/api/login", data=PLANTED, headers={"Content-Type": "text/plain"})
        await call(s, "GET", f"/api/incidents/{PLANTED}/history")
    for user in ("sam", "ada"):
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as s:
            credentials = {"username": user, "password": PASSWORD}
            async with s.post(url + "/api/login", json=credentials) as signed:
                assert signed.status == 200
            async with s.get(url + "/api/me") as me:
                csrf = (await me.json())["csrf_token"]
            h = {"X-CSRF-Token": csrf, "Origin": url}
            act = f"/api/incidents/{PLANTED}/actions"
            await call(s, "POST", act, json={"kind": "note", "note": PLANTED}, headers=h)
            on_lp = "/api/incidents/LP-NONE/actions"
            for body in (
                {"kind": "note", "note": PLANTED * 200},
                {"kind": "assign", "assignee": f"{PLANTED}\nline two"},
                {"kind": PLANTED},
                {"kind": "note", "note": "fine", "victim_ref": PLANTED},
                {"kind": "note", "note": f"{PLANTED}\x00"},
            ):
                await call(s, "POST", on_lp, json=body, headers=h)
            await call(
                s, "POST", on_lp, data=deep, headers={**h, "Content-Type": "application/json"}
            )
            await call(s, "GET", f"/api/incidents/{PLANTED}/history")
            await call(s, "GET", f"/api/board?state={PLANTED}")
            await call(s, "GET", f"/api/events?state={PLANTED}")
            await call(s, "PUT", f"/api/users/{PLANTED}/role", json={"role": PLANTED}, headers=h)
            await call(s, "PUT", f"/api/users/{PLANTED}/role", json={"role": "viewer"}, headers=h)
            await call(s, "DELETE", f"/api/users/{PLANTED}", headers=h)
            await call(
                s,
                "POST",
                "/api/users",
                json={"username": f"{PLANTED} x", "role": PLANTED, "password": PLANTED},
                headers=h,
            )
    return answers


@pytest.fixture(scope="module")
def deployment(broker: str) -> Iterator[Deployment]:
    with fresh_postgres_database() as url:
        upgrade(url)
        yield Deployment(bootstrap=broker, database_url=url, partitions=2)


def test_no_victim_detail_leaves_by_any_other_way(
    deployment: Deployment, topics: Topics, log_dir: Path
) -> None:
    d = deployment
    worker_logs = log_dir / f"victim-{d.name}"
    worker_logs.mkdir()
    worker = WorkerProcess(d, worker_logs).start()
    board_env = {
        **d.env(worker.port),
        "CDI_BOARD_HOST": "127.0.0.1",
        "CDI_BOARD_PORT": str(free_port()),
        "CDI_BOARD_SECURE_COOKIES": "false",
    }
    run_users(
        board_env, "add", "sam", "--role", "supervisor", "--password-stdin", password=PASSWORD
    )
    run_users(board_env, "add", "ada", "--role", "admin", "--password-stdin", password=PASSWORD)
    board = BoardProcess(board_env, worker_logs / "board.log").start()
    try:
        topics.send(d.incidents, "INC-V1", ev.reported("INC-V1", NOW - 2 * H))
        topics.send(d.crime_records, "INC-V1", a_crime(PLANTED))  # valid: the control
        for topic, key, value in malformed_inputs(d):
            topics.send(topic, key, value)
        topics.flush()
        letters = topics.wait_for(
            d.dead_letters, lambda rs: len(rs) >= 7, timeout=90, what="7 dead letters"
        )
        referrals = topics.wait_for(d.referrals, bool, what="the referral of the valid crime")
        answers = asyncio.run(board_answers(board.url))
        health = worker.get("/health")[1]
        metrics = worker.get("/metrics")[1]
    finally:
        board.stop()
        worker.stop()

    assert any(traces(r.raw) for r in referrals), "the control: the reference is searchable"
    sources = {json.loads(r.raw)["data"]["source_topic"] for r in letters}
    assert sources == {d.incidents, d.crime_records, f"{d.name}-links", f"{d.name}-ledger"}
    assert [r.offset for r in letters if traces(r.raw)] == []
    assert [p for p, _, body in answers if traces(body)] == []
    assert all(status < 500 for _, status, _ in answers), answers
    assert not traces(health) and not traces(metrics)
    logs = sorted(worker_logs.iterdir())
    assert {p.name for p in logs} >= {"board.log", worker.log_path.name}
    assert [p.name for p in logs if traces(p.read_bytes())] == []
