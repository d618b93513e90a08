"""The live board in headless Chromium, fed by Kafka, backed by PostgreSQL.

A supervisor signs in, sees an overdue incident appear when its alert event is
produced, acknowledges it, and sees its recording take it off the board; the
page survives a restart of the board and catches up; a viewer is refused.
"""

from __future__ import annotations

import os
import re
import secrets
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from kafka.admin import KafkaAdminClient, NewTopic
from sqlalchemy import create_engine, text

from monitor.adapters.kafka.embedded_broker import free_port
from monitor.adapters.sql.migrate import upgrade
from tests.support.board_events import measured, overdue, resolved
from tests.support.browser import BoardProcess, chromium, run_users, sign_in
from tests.support.kafka import Topics

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

SUPERVISOR_PASSWORD = "supervisor password 1"  # noqa: S105 - test users only
VIEWER_PASSWORD = "viewer password 12"  # noqa: S105
PUSH_WITHIN_S = 2.0  # the bound for a change to reach the page


@pytest.fixture
def board_env(broker: str, postgres_url: str) -> dict[str, str]:
    name = f"b{secrets.token_hex(4)}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDI_")}
    env.update(
        CDI_KAFKA_BOOTSTRAP_SERVERS=broker,
        CDI_DATABASE_URL=postgres_url,
        CDI_ALERTS_TOPIC=f"{name}-recording-alerts",
        CDI_OUTCOMES_TOPIC=f"{name}-recording-outcomes",
        CDI_BOARD_HOST="127.0.0.1",
        CDI_BOARD_PORT=str(free_port()),
        CDI_LOG_LEVEL="info",
    )
    admin = KafkaAdminClient(bootstrap_servers=broker)
    try:  # several partitions: the board must read them all
        admin.create_topics(
            [
                NewTopic(env["CDI_ALERTS_TOPIC"], 3, 1),
                NewTopic(env["CDI_OUTCOMES_TOPIC"], 3, 1),
            ]
        )
    finally:
        admin.close()
    upgrade(postgres_url)
    run_users(
        env, "add", "sam", "--role", "supervisor", "--password-stdin", password=SUPERVISOR_PASSWORD
    )
    run_users(env, "add", "vic", "--role", "viewer", "--password-stdin", password=VIEWER_PASSWORD)
    return env


@pytest.fixture
def board(board_env: dict[str, str], log_dir: Path) -> Iterator[BoardProcess]:
    process = BoardProcess(board_env, log_dir / f"board-{board_env['CDI_BOARD_PORT']}.log")
    process.start()
    yield process
    process.stop()


def produce(topics: Topics, topic: str, key: str, event: dict) -> None:
    topics.send(topic, key, event)
    topics.flush()


def seconds_until_visible(locator, timeout_s: float = 20.0) -> float:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    locator.wait_for(state="visible", timeout=timeout_s * 1000)
    return time.monotonic() - started


def test_a_supervisor_works_the_board_and_a_viewer_is_refused(
    board: BoardProcess, board_env: dict[str, str], topics: Topics, postgres_url: str
) -> None:
    from playwright.sync_api import expect

    alerts_topic = board_env["CDI_ALERTS_TOPIC"]
    outcomes_topic = board_env["CDI_OUTCOMES_TOPIC"]
    reported = datetime.now(UTC) - timedelta(hours=26)
    with chromium() as browser:
        page = browser.new_page()
        sign_in(page, board.url, "sam", SUPERVISOR_PASSWORD)
        expect(page.locator("#connection")).to_have_text("live", timeout=15000)
        expect(page.locator("#who")).to_have_text("sam (supervisor)")

        # An overdue alert produced to Kafka appears by push, without a reload.
        produce(topics, alerts_topic, "LP-E2E-1", overdue("LP-E2E-1", reported))
        row = page.locator('tr[data-incident="LP-E2E-1"]')
        took = seconds_until_visible(row)
        print(f"overdue alert on the page {took:.2f} s after it was produced")
        assert took < PUSH_WITHIN_S * 2, f"took {took:.2f}s"  # margin for a loaded machine
        expect(row).to_contain_text("Overdue")
        # The time overdue, ticking in the browser.
        expect(row.locator(".left")).to_have_text(re.compile(r"^2h \d\dm over$"))
        expect(page.locator("#count-overdue")).to_have_text("1")

        # Acknowledge it, by keyboard: focus the button and press Enter.
        button = row.get_by_role("button", name="Acknowledge: LP-E2E-1")
        button.focus()
        page.keyboard.press("Enter")
        expect(row.locator(".handling")).to_have_text("acknowledged by sam", timeout=10000)
        expect(page.locator("#count-unacknowledged")).to_have_text("0")

        # Assign it and add a note through the dialog.
        row.get_by_role("button", name="Assign: LP-E2E-1").click()
        page.get_by_label("Name or collar number").fill("DM 4021")
        page.get_by_role("button", name="Save").click()
        row.get_by_role("button", name="Note: LP-E2E-1").click()
        page.get_by_role("textbox", name="Note").fill("OIC informed; victim called back")
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")  # Save, by keyboard
        expect(row.locator(".handling")).to_have_text(
            "acknowledged by sam; assigned to DM 4021; 1 note", timeout=10000
        )

        # Its history is one click away.
        row.get_by_role("button", name="History: LP-E2E-1").click()
        expect(page.locator("#history-body")).to_contain_text("OIC informed; victim called back")
        expect(page.locator("#history-body")).to_contain_text("assign → DM 4021")
        page.keyboard.press("Escape")

        # The recording takes it off the board.
        recorded_at = reported + timedelta(hours=26, minutes=30)
        produce(topics, outcomes_topic, "LP-E2E-1", measured("LP-E2E-1", reported, recorded_at))
        produce(topics, alerts_topic, "LP-E2E-1", resolved("LP-E2E-1", reported, recorded_at))
        started = time.monotonic()
        row.wait_for(state="detached", timeout=20000)
        print(
            f"resolved alert off the page {time.monotonic() - started:.2f} s after it was produced"
        )
        expect(page.locator("#count-overdue")).to_have_text("0")

        # The page survives a restart of the board and catches up without a reload.
        board.stop()
        expect(page.locator("#connection")).to_have_text("reconnecting…", timeout=15000)
        produce(topics, alerts_topic, "LP-E2E-2", overdue("LP-E2E-2", reported))
        board.start()
        expect(page.locator('tr[data-incident="LP-E2E-2"]')).to_be_visible(timeout=30000)
        expect(page.locator('tr[data-incident="LP-E2E-1"]')).to_have_count(0)
        expect(page.locator("#connection")).to_have_text("live")

        # A viewer sees the board but no actions, and the API refuses one.
        viewer = browser.new_context().new_page()
        sign_in(viewer, board.url, "vic", VIEWER_PASSWORD)
        viewer_row = viewer.locator('tr[data-incident="LP-E2E-2"]')
        expect(viewer_row).to_be_visible(timeout=15000)
        expect(viewer_row.get_by_role("button", name="Acknowledge: LP-E2E-2")).to_have_count(0)
        answer = viewer.evaluate(
            """async () => {
                const me = await (await fetch('/api/me')).json();
                const r = await fetch('/api/incidents/LP-E2E-2/actions', {
                    method: 'POST',
                    headers: {'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf_token},
                    body: JSON.stringify({kind: 'acknowledge'}),
                });
                return {status: r.status, body: await r.json()};
            }"""
        )
        assert answer["status"] == 403, answer
        assert "needs the supervisor role" in answer["body"]["error"]

    engine = create_engine(postgres_url)
    with engine.connect() as c:
        actions = c.execute(text("SELECT incident_id, kind, actor FROM board_actions")).all()
    engine.dispose()
    assert [tuple(a) for a in actions] == [
        ("LP-E2E-1", "acknowledge", "sam"),
        ("LP-E2E-1", "assign", "sam"),
        ("LP-E2E-1", "note", "sam"),
    ]
