"""The board's HTTP API against real PostgreSQL: sign-in, roles, CSRF, actions, history, errors.

The board is served by aiohttp's test server; its view is fed directly with
the facts a Kafka feed would give it (the browser tests cover the feed).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import Engine, func, insert, select

from monitor.adapters import security
from monitor.adapters.kafka.board_feed import Feed
from monitor.adapters.sql.board_store import BoardStore
from monitor.adapters.sql.ledger import make_engine
from monitor.adapters.sql.migrate import upgrade
from monitor.adapters.sql.tables import board_actions, board_users, crime_incidents, crimes
from monitor.application.board.view import BoardView
from monitor.settings import Settings
from monitor.web.context import COOKIE, Board
from monitor.web.web import make_app
from schemas.output_events import decode
from tests.support.board_events import overdue

pytestmark = pytest.mark.integration

NOW = datetime(2026, 6, 2, 12, 0, tzinfo=UTC)
PASSWORD = "a long enough password"  # noqa: S105 - test users only


class FixedClock:
    def now(self) -> datetime:
        return NOW

    def seconds_until(self, moment: datetime) -> float:
        return 0.0


@dataclass
class Setup:
    engine: Engine
    store: BoardStore
    database_url: str


@pytest.fixture
def setup(postgres_url: str) -> Iterator[Setup]:
    upgrade(postgres_url)
    engine = make_engine(postgres_url)
    store = BoardStore(engine)
    hashed = security.hash_password(PASSWORD)
    for name, role in [("sam", "supervisor"), ("vic", "viewer"), ("ada", "admin")]:
        store.add_user(name, role, hashed, actor="test", now=NOW)
    yield Setup(engine, store, postgres_url)
    engine.dispose()


def make_board(setup: Setup, **settings: Any) -> Board:
    values = {"database_url": setup.database_url, "board_secure_cookies": False, **settings}
    board = Board(
        settings=Settings(**values), store=setup.store, view=BoardView(), clock=FixedClock()
    )
    board.view.apply(decode(json.dumps(overdue("LP-1", NOW - timedelta(hours=30))).encode()))
    feed = Feed(board.settings, board.view, setup.store, board.clock, board.changes.changed)
    board.poll_actions = feed.poll_actions
    return board


@pytest.fixture
async def client(setup: Setup) -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(make_app(make_board(setup)))) as c:
        yield c


async def sign_in(client: TestClient, name: str) -> str:
    """Sign in; returns the CSRF token the page would use."""
    response = await client.post("/api/login", json={"username": name, "password": PASSWORD})
    assert response.status == 200, await response.text()
    me = await (await client.get("/api/me")).json()
    return str(me["csrf_token"])


def stored_actions(setup: Setup) -> int:
    with setup.engine.connect() as c:
        return int(c.execute(select(func.count()).select_from(board_actions)).scalar_one())


async def test_nothing_answers_without_a_signed_in_user(client: TestClient) -> None:
    for path in [
        "/api/board",
        "/api/me",
        "/api/events",
        "/api/figures",
        "/api/users",
        "/api/incidents/LP-1/history",
    ]:
        response = await client.get(path)
        assert response.status == 401, path
        assert (await response.json())["error"] == "sign in first"
    page = await client.get("/", allow_redirects=False)
    assert page.status == 302 and page.headers["Location"] == "/login"
    refused = await client.post("/api/incidents/LP-1/actions", json={"kind": "acknowledge"})
    assert refused.status == 401


async def test_a_wrong_password_is_refused_and_a_right_one_gives_a_strict_httponly_cookie(
    setup: Setup,
) -> None:
    async with TestClient(TestServer(make_app(make_board(setup, board_secure_cookies=True)))) as c:
        wrong = await c.post("/api/login", json={"username": "sam", "password": "nope"})
        assert wrong.status == 401
        assert (await wrong.json())["error"] == "unknown username or wrong password"

        right = await c.post("/api/login", json={"username": "sam", "password": PASSWORD})
        assert right.status == 200
        cookie = right.headers["Set-Cookie"]
        assert cookie.startswith(f"{COOKIE}=")
        for attribute in ("HttpOnly", "Secure", "SameSite=Strict", "Path=/"):
            assert attribute in cookie
    token = cookie.split("=", 1)[1].split(";", 1)[0]
    with setup.engine.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(board_users)).scalar_one()
        assert stored == 3
    assert setup.store.session_user(token, now=NOW) is not None  # stored as a hash, found by it


async def test_a_supervisor_acknowledges_and_it_is_stored_with_who_when_and_what(
    client: TestClient, setup: Setup
) -> None:
    csrf = await sign_in(client, "sam")

    response = await client.post(
        "/api/incidents/LP-1/actions",
        json={"kind": "acknowledge"},
        headers={"X-CSRF-Token": csrf},
    )

    assert response.status == 201, await response.text()
    [action] = setup.store.actions_for("LP-1")
    assert (action.kind, action.actor, action.alert_id) == ("acknowledge", "sam", "alert-LP-1")
    assert abs((action.at - datetime.now(UTC)).total_seconds()) < 60  # the real time of the act
    board = await (await client.get("/api/board")).json()
    assert board["rows"][0]["acknowledged_by"] == "sam"


async def test_assign_note_and_review_are_stored_and_shown_in_the_history(
    client: TestClient, setup: Setup
) -> None:
    csrf = await sign_in(client, "sam")
    for body in [
        {"kind": "assign", "assignee": "DM 4021"},
        {"kind": "note", "note": "victim called back; OIC informed"},
        {"kind": "review_no_crime", "reason": "AVI: CCTV shows no offence"},
    ]:
        response = await client.post(
            "/api/incidents/LP-1/actions", json=body, headers={"X-CSRF-Token": csrf}
        )
        assert response.status == 201, await response.text()

    history = await (await client.get("/api/incidents/LP-1/history")).json()

    assert [a["kind"] for a in history["actions"]] == ["assign", "note", "review_no_crime"]
    assert history["actions"][0]["assignee"] == "DM 4021"
    assert history["alert"]["state"] == "overdue"
    assert history["report"]["incident_id"] == "LP-1"
    row = (await (await client.get("/api/board")).json())["rows"][0]
    assert (row["assignee"], row["notes"], row["reviewed_no_crime"]) == ("DM 4021", 1, True)


async def test_a_missing_or_wrong_csrf_token_is_refused_and_nothing_changes(
    client: TestClient, setup: Setup
) -> None:
    await sign_in(client, "sam")

    missing = await client.post("/api/incidents/LP-1/actions", json={"kind": "acknowledge"})
    wrong = await client.post(
        "/api/incidents/LP-1/actions",
        json={"kind": "acknowledge"},
        headers={"X-CSRF-Token": "0" * 64},
    )

    for response in (missing, wrong):
        assert response.status == 403
        assert "CSRF" in (await response.json())["error"]
    assert stored_actions(setup) == 0


async def test_a_request_from_another_origin_is_refused(client: TestClient, setup: Setup) -> None:
    csrf = await sign_in(client, "sam")

    response = await client.post(
        "/api/incidents/LP-1/actions",
        json={"kind": "acknowledge"},
        headers={"X-CSRF-Token": csrf, "Origin": "https://evil.example"},
    )

    assert response.status == 403
    assert stored_actions(setup) == 0


async def test_bad_requests_get_a_clear_4xx_and_change_nothing(
    client: TestClient, setup: Setup
) -> None:
    csrf = await sign_in(client, "sam")
    headers = {"X-CSRF-Token": csrf}

    unknown = await client.post(
        "/api/incidents/LP-NOPE/actions", json={"kind": "acknowledge"}, headers=headers
    )
    too_long = await client.post(
        "/api/incidents/LP-1/actions", json={"kind": "note", "note": "x" * 2001}, headers=headers
    )
    a_megabyte = await client.post(
        "/api/incidents/LP-1/actions",
        data=json.dumps({"kind": "note", "note": "x" * 1_000_000}),
        headers={**headers, "Content-Type": "application/json"},
    )
    not_json = await client.post(
        "/api/incidents/LP-1/actions",
        data="kind=acknowledge",
        headers={**headers, "Content-Type": "application/x-www-form-urlencoded"},
    )
    bad_kind = await client.post(
        "/api/incidents/LP-1/actions", json={"kind": "delete"}, headers=headers
    )
    bad_filter = await client.get("/api/board?state=everything")
    no_history = await client.get("/api/incidents/LP-NOPE/history")

    assert unknown.status == 404
    assert (await unknown.json())["error"] == "no such incident on the board or in the ledger"
    assert too_long.status == 422
    assert (await too_long.json())["fields"]["note"].startswith("too long: 2001 characters")
    assert a_megabyte.status == 413
    assert "too large" in (await a_megabyte.json())["error"]
    assert not_json.status == 415
    assert bad_kind.status == 422
    assert bad_filter.status == 400
    assert no_history.status == 404
    assert stored_actions(setup) == 0


async def test_a_viewer_reads_but_is_refused_every_action(client: TestClient, setup: Setup) -> None:
    csrf = await sign_in(client, "vic")

    board = await client.get("/api/board")
    refused = await client.post(
        "/api/incidents/LP-1/actions", json={"kind": "acknowledge"}, headers={"X-CSRF-Token": csrf}
    )

    assert board.status == 200
    assert refused.status == 403
    assert (await refused.json())["error"] == "viewer may not do this: it needs the supervisor role"
    assert stored_actions(setup) == 0


async def test_a_forged_role_is_refused_and_changes_nothing(
    client: TestClient, setup: Setup
) -> None:
    viewer_csrf = await sign_in(client, "vic")
    promote_self = await client.put(
        "/api/users/vic/role", json={"role": "admin"}, headers={"X-CSRF-Token": viewer_csrf}
    )
    add_admin = await client.post(
        "/api/users",
        json={"username": "mallory", "role": "admin", "password": PASSWORD},
        headers={"X-CSRF-Token": viewer_csrf},
    )
    admin_csrf = await sign_in(client, "ada")
    made_up_role = await client.post(
        "/api/users",
        json={"username": "mallory", "role": "superuser", "password": PASSWORD},
        headers={"X-CSRF-Token": admin_csrf},
    )
    made_up_set = await client.put(
        "/api/users/vic/role", json={"role": "root"}, headers={"X-CSRF-Token": admin_csrf}
    )

    assert promote_self.status == 403 and add_admin.status == 403
    assert made_up_role.status == 422 and made_up_set.status == 422
    assert (
        "role must be one of viewer, supervisor, auditor, admin"
        in (await made_up_role.json())["error"]
    )
    roles = {u.username: u.role for u in setup.store.users()}
    assert roles == {"ada": "admin", "sam": "supervisor", "vic": "viewer"}


async def test_an_admin_manages_users(client: TestClient, setup: Setup) -> None:
    csrf = await sign_in(client, "ada")
    headers = {"X-CSRF-Token": csrf}

    added = await client.post(
        "/api/users",
        json={"username": "kim", "role": "viewer", "password": PASSWORD},
        headers=headers,
    )
    promoted = await client.put("/api/users/kim/role", json={"role": "supervisor"}, headers=headers)
    listed = await (await client.get("/api/users")).json()
    removed = await client.delete("/api/users/sam", headers=headers)

    assert (added.status, promoted.status, removed.status) == (201, 200, 200)
    assert {u["username"]: u["role"] for u in listed["users"]}["kim"] == "supervisor"
    assert "password_hash" not in json.dumps(listed)
    assert {u.username for u in setup.store.users()} == {"ada", "kim", "vic"}
    trail = [(a["event"], a["subject"]) for a in setup.store.audit_trail()]
    assert ("user_added", "kim") in trail and ("user_removed", "sam") in trail


async def test_the_history_joins_the_ledger_and_never_shows_victims(
    client: TestClient, setup: Setup
) -> None:
    with setup.engine.begin() as c:
        c.execute(
            insert(crimes).values(
                crime_id="CR/77/26",
                recorded_at=NOW,
                offence_code="8N",
                offence_group="violence_against_the_person",
                victim_ref="V-SECRET1",
                victim_consents_to_referral=True,
                unlinked=False,
            )
        )
        c.execute(
            insert(crime_incidents).values(crime_id="CR/77/26", incident_id="LP-1", position=0)
        )
    await sign_in(client, "vic")

    response = await client.get("/api/incidents/LP-1/history")

    text = await response.text()
    assert response.status == 200
    assert "CR/77/26" in text
    assert "V-SECRET1" not in text and "victim" not in text


async def test_repeated_failed_sign_ins_are_throttled(client: TestClient) -> None:
    for _ in range(5):
        await client.post("/api/login", json={"username": "sam", "password": "guess"})

    blocked = await client.post("/api/login", json={"username": "sam", "password": PASSWORD})

    assert blocked.status == 429
    assert int(blocked.headers["Retry-After"]) > 0


async def test_signing_out_ends_the_session(client: TestClient) -> None:
    csrf = await sign_in(client, "sam")

    out = await client.post("/api/logout", json={}, headers={"X-CSRF-Token": csrf})
    after = await client.get("/api/board")

    assert out.status == 200 and after.status == 401


async def test_the_event_stream_starts_with_the_board(client: TestClient) -> None:
    await sign_in(client, "vic")

    response = await client.get("/api/events")

    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/event-stream")
    first = b""
    while b"event: figures" not in first:
        first += await response.content.readany()
    assert b"event: board" in first and b"LP-1" in first
    response.close()


async def test_the_sso_header_is_trusted_only_from_the_configured_proxy(setup: Setup) -> None:
    trusted = make_board(setup, board_sso_header="X-Remote-User", board_trusted_proxies="127.0.0.1")
    async with TestClient(TestServer(make_app(trusted))) as c:
        me = await c.get("/api/me", headers={"X-Remote-User": "vic"})
        assert me.status == 200 and (await me.json())["username"] == "vic"
        unknown = await c.get("/api/me", headers={"X-Remote-User": "nobody"})
        assert unknown.status == 401
    elsewhere = make_board(
        setup, board_sso_header="X-Remote-User", board_trusted_proxies="10.0.0.0/8"
    )
    async with TestClient(TestServer(make_app(elsewhere))) as c:
        refused = await c.get("/api/me", headers={"X-Remote-User": "ada"})
        assert refused.status == 401


async def test_only_auditors_and_admins_reach_the_audit_and_bad_answers_change_nothing(
    setup: Setup, client: TestClient
) -> None:
    from sqlalchemy import text

    setup.store.add_user("ann", "auditor", security.hash_password(PASSWORD), actor="t", now=NOW)
    with setup.engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO audit_samples (period, period_start, period_end, seed, sizing, "
                "drawn_at, drawn_by) VALUES ('2026-11', :s, :e, 1, '--size 1', :s, 'test')"
            ),
            {"s": NOW - timedelta(days=30), "e": NOW},
        )
        c.execute(
            text(
                "INSERT INTO audit_strata (sample_id, stratum, population, size, priority, basis) "
                "VALUES (1, 'violence', 9, 1, true, '--size 1')"
            )
        )
        c.execute(
            text(
                "INSERT INTO audit_items (sample_id, incident_id, position, stratum, route) "
                "VALUES (1, 'LP-1', 1, 'violence', 'no_record')"
            )
        )
    for name in ("vic", "sam"):
        await sign_in(client, name)
        refused = await client.get("/api/audit/samples")
        assert refused.status == 403, name
        assert "needs the auditor role" in (await refused.json())["error"]
        figures = await client.get("/api/audit/figures")  # the figures are for everyone
        assert figures.status == 200
    csrf = await sign_in(client, "ann")
    listed = await (await client.get("/api/audit/samples")).json()
    assert listed["samples"][0]["progress"] == [
        {"stratum": "violence", "population": 9, "size": 1, "priority": True, "done": 0, "to_do": 1}
    ]
    path = "/api/audit/samples/1/incidents/LP-1/answers"
    headers = {"X-CSRF-Token": csrf}
    bad = [
        {"should_record": "maybe"},
        {"should_record": "yes"},  # no offence group
        {"should_record": "no", "offence_group": "burglary"},
        {"should_record": "no", "note": "x" * 2001},
        {"should_record": "no", "victim": "name"},
    ]
    for body in bad:
        response = await client.post(path, json=body, headers=headers)
        assert response.status == 422, (body, await response.text())
    elsewhere = await client.post(
        "/api/audit/samples/1/incidents/LP-404/answers",
        json={"should_record": "no"},
        headers=headers,
    )
    assert elsewhere.status == 404
    with setup.engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM audit_answers")).scalar_one() == 0
    ok = await client.post(path, json={"should_record": "no", "note": "a dispute"}, headers=headers)
    assert ok.status == 201, await ok.text()
    again = await client.post(path, json={"should_record": "cannot_tell"}, headers=headers)
    assert again.status == 409
