"""The board against a racing, spoofing or persistent caller (real PostgreSQL, aiohttp's server).

Sign-in guesses are counted before the password is checked; the throttle
believes ``X-Forwarded-For`` only from a trusted proxy; a deeply nested JSON
body is a 400; an event stream ends within 2 s of its session ending, and a
session holds only a few; the last admin can be neither removed nor demoted.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import update

from monitor.adapters import security
from monitor.adapters.sql.board_store import LastAdmin
from monitor.adapters.sql.tables import board_sessions
from monitor.web.web import make_app
from tests.integration.test_board_api import (  # noqa: F401  (setup is a fixture)
    PASSWORD,
    Setup,
    make_board,
    setup,
    sign_in,
)

pytestmark = pytest.mark.integration

DEEP = "[" * 15_000


@pytest.fixture
async def client(setup: Setup) -> AsyncIterator[TestClient]:  # noqa: F811
    async with TestClient(TestServer(make_app(make_board(setup)))) as c:
        yield c


# --- sign-in ---------------------------------------------------------------------------------


async def test_twelve_simultaneous_wrong_passwords_get_at_most_five_password_checks(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked = 0
    verify = security.verify_password

    def slow_verify(stored_hash: str | None, password: str) -> bool:
        nonlocal checked
        checked += 1
        time.sleep(0.3)  # every guess is in flight before the first is refused
        return verify(stored_hash, password)

    monkeypatch.setattr(security, "verify_password", slow_verify)
    guesses = [
        client.post("/api/login", json={"username": "sam", "password": f"guess {i}"})
        for i in range(12)
    ]
    statuses = sorted(r.status for r in await asyncio.gather(*guesses))

    assert checked <= 5
    assert statuses == [401] * checked + [429] * (12 - checked)


async def test_the_forwarded_address_counts_only_behind_a_trusted_proxy(setup: Setup) -> None:  # noqa: F811
    def guess(c: TestClient, forwarded: str) -> Any:
        return c.post(
            "/api/login",
            json={"username": "sam", "password": "wrong"},
            headers={"X-Forwarded-For": forwarded},
        )

    behind = make_board(setup, board_trusted_proxies="127.0.0.1")
    async with TestClient(TestServer(make_app(behind))) as c:
        for _ in range(5):
            assert (await guess(c, "198.51.100.7")).status == 401
        assert (await guess(c, "198.51.100.7")).status == 429
        assert (await guess(c, "203.0.113.1, 198.51.100.8")).status == 401  # another client
    trail = setup.store.audit_trail()
    assert {json.loads(a["detail"])["ip"] for a in trail if a["event"] == "sign_in_refused"} == {
        "198.51.100.7",
        "198.51.100.8",
    }

    direct = make_board(setup, board_trusted_proxies="10.0.0.0/8")
    async with TestClient(TestServer(make_app(direct))) as c:
        for i in range(5):
            assert (await guess(c, f"192.0.2.{i}")).status == 401
        assert (await guess(c, "192.0.2.99")).status == 429  # a spoofed header changes nothing


# --- bodies ----------------------------------------------------------------------------------


async def test_deeply_nested_json_gets_a_400_from_every_endpoint_that_reads_json(
    client: TestClient,
) -> None:
    headers = {"Content-Type": "application/json"}
    login = await client.post("/api/login", data=DEEP, headers=headers)
    assert login.status == 400
    assert (await login.json())["error"] == "the body is nested too deeply"

    csrf = await sign_in(client, "ada")
    headers["X-CSRF-Token"] = csrf
    for method, path in [
        ("POST", "/api/users"),
        ("PUT", "/api/users/sam/role"),
        ("POST", "/api/incidents/LP-1/actions"),
    ]:
        response = await client.request(method, path, data=DEEP, headers=headers)
        assert response.status == 400, path
    for method, path in [
        ("GET", "/api/board"),
        ("GET", "/api/figures"),
        ("GET", "/api/me"),
        ("GET", "/api/users"),
        ("GET", "/api/incidents/LP-1/history"),
        ("DELETE", "/api/users/nobody"),
        ("POST", "/api/logout"),
    ]:
        response = await client.request(method, path, data=DEEP, headers=headers)
        assert response.status < 500, path


# --- event streams ---------------------------------------------------------------------------


async def opened(c: TestClient) -> ClientResponse:
    response = await c.get("/api/events")
    assert response.status == 200
    first = b""
    while b"event: figures" not in first:
        first += await response.content.readany()
    return response


async def seconds_to_the_end(response: ClientResponse) -> tuple[float, bytes]:
    """How long until the server ends the stream, and what it sent meanwhile."""
    started = time.monotonic()
    rest = b""

    async def drain() -> None:
        nonlocal rest
        while chunk := await response.content.readany():
            rest += chunk

    await asyncio.wait_for(drain(), timeout=20)
    return time.monotonic() - started, rest


async def test_signing_out_ends_the_sessions_event_stream_at_once(client: TestClient) -> None:
    csrf = await sign_in(client, "sam")
    stream = await opened(client)
    ending = asyncio.create_task(seconds_to_the_end(stream))
    await client.post("/api/logout", json={}, headers={"X-CSRF-Token": csrf})
    took, rest = await ending
    assert took < 2.0 and b"event: signed_out" in rest


@pytest.mark.parametrize("how", ["removed", "expired", "password changed"])
async def test_a_session_ended_elsewhere_ends_its_event_stream_within_two_seconds(
    client: TestClient,
    setup: Setup,  # noqa: F811
    how: str,
) -> None:
    await sign_in(client, "sam")
    stream = await opened(client)
    ending = asyncio.create_task(seconds_to_the_end(stream))
    now = datetime.now(UTC)
    if how == "removed":  # by an admin on another board, or `cdi-monitor users remove`
        await asyncio.to_thread(setup.store.remove_user, "sam", actor="ada", now=now)
    elif how == "expired":
        with setup.engine.begin() as c:
            c.execute(update(board_sessions).values(expires_at=now))
    else:
        hashed = security.hash_password("another long password")
        await asyncio.to_thread(setup.store.set_password, "sam", hashed, actor="ada", now=now)
    took, rest = await ending
    assert took < 2.0 and b"event: signed_out" in rest


async def test_a_session_holds_at_most_four_event_streams(client: TestClient) -> None:
    await sign_in(client, "vic")
    streams = [await opened(client) for _ in range(4)]
    fifth = await client.get("/api/events")
    assert fifth.status == 429
    assert "too many open event streams" in (await fifth.json())["error"]
    for stream in streams:
        stream.close()


# --- the last admin --------------------------------------------------------------------------


async def test_the_last_admin_can_be_neither_demoted_nor_removed(
    client: TestClient,
    setup: Setup,  # noqa: F811
) -> None:
    csrf = await sign_in(client, "ada")
    headers = {"X-CSRF-Token": csrf}

    demoted = await client.put("/api/users/ada/role", json={"role": "viewer"}, headers=headers)
    assert demoted.status == 409
    assert "last admin" in (await demoted.json())["error"]

    added = await client.post(
        "/api/users",
        json={"username": "bob", "role": "admin", "password": PASSWORD},
        headers=headers,
    )
    assert added.status == 201
    assert (
        await client.put("/api/users/bob/role", json={"role": "viewer"}, headers=headers)
    ).status == 200
    assert (await client.delete("/api/users/bob", headers=headers)).status == 200
    assert {u.username: u.role for u in setup.store.users()}["ada"] == "admin"

    with pytest.raises(LastAdmin):  # the command line goes through the same store
        setup.store.remove_user("ada", actor="cli", now=datetime.now(UTC))
    with pytest.raises(LastAdmin):
        setup.store.set_role("ada", "supervisor", actor="cli", now=datetime.now(UTC))
