"""The board's store on both databases: the demo's SQLite and production's PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert

from monitor.adapters import security
from monitor.adapters.sql.board_store import BoardStore, NoSuchUser, UserExists
from monitor.adapters.sql.ledger import make_engine
from monitor.adapters.sql.migrate import upgrade
from monitor.adapters.sql.tables import alerts, crime_incidents, crimes, incidents
from monitor.application.board.handling import Action

NOW = datetime(2026, 6, 2, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.integration)])
def store(request: pytest.FixtureRequest, tmp_path) -> Iterator[BoardStore]:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'ledger.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    upgrade(url)
    engine = make_engine(url)
    yield BoardStore(engine)
    engine.dispose()


def test_sessions_last_their_lifetime_and_end_with_the_user(store: BoardStore) -> None:
    store.add_user("sam", "supervisor", security.hash_password("x" * 12), actor="t", now=NOW)
    token = security.new_token()
    store.start_session("sam", token, now=NOW, lifetime=timedelta(hours=12))

    assert store.session_user(token, now=NOW + timedelta(hours=11)) == ("sam", "supervisor")
    assert store.session_user(token, now=NOW + timedelta(hours=12)) is None
    assert store.session_user(security.new_token(), now=NOW) is None
    store.remove_user("sam", actor="t", now=NOW)
    assert store.session_user(token, now=NOW) is None
    with pytest.raises(NoSuchUser):
        store.set_role("sam", "viewer", actor="t", now=NOW)


def test_a_user_is_added_once(store: BoardStore) -> None:
    store.add_user("sam", "viewer", None, actor="t", now=NOW)
    with pytest.raises(UserExists):
        store.add_user("sam", "admin", None, actor="t", now=NOW)
    assert [(u.username, u.role, u.has_password) for u in store.users()] == [
        ("sam", "viewer", False)
    ]


def test_actions_are_kept_in_order_with_who_when_and_what(store: BoardStore) -> None:
    first = store.record_action(Action("LP-1", "acknowledge", "sam", NOW, alert_id="a-1"))
    second = store.record_action(
        Action("LP-1", "note", "kim", NOW + timedelta(minutes=1), alert_id="a-1", note="called")
    )
    store.record_action(Action("LP-2", "assign", "sam", NOW, assignee="DM 1"))

    assert first.action_id is not None and second.action_id is not None
    assert second.action_id > first.action_id
    assert [a.kind for a in store.actions_after(first.action_id)] == ["note", "assign"]
    [ack, note] = store.actions_for("LP-1")
    assert (ack.actor, ack.at, ack.alert_id) == ("sam", NOW, "a-1")
    assert (note.actor, note.note) == ("kim", "called")


def test_the_ledger_history_has_references_and_never_the_victim(store: BoardStore) -> None:
    with store.engine.begin() as c:
        c.execute(
            insert(incidents).values(
                incident_id="LP-1",
                status="recorded_late",
                force="leicestershire",
                division="city",
                channel="999",
                opening_category="violence",
                category="violence",
                reported_at=NOW - timedelta(hours=30),
                deadline=NOW - timedelta(hours=6),
                crime_related=True,
                first_crime_id="CR/1/26",
                recorded_at=NOW,
                elapsed_seconds=30 * 3600.0,
                within_target=False,
                recorded_before_report=False,
            )
        )
        c.execute(
            insert(alerts).values(
                alert_id="a-1",
                incident_id="LP-1",
                state="resolved",
                force="leicestershire",
                category="violence",
                deadline=NOW - timedelta(hours=6),
                overdue_at=NOW - timedelta(hours=6),
                resolved_at=NOW,
                resolution="recorded",
                late=True,
            )
        )
        c.execute(
            insert(crimes).values(
                crime_id="CR/1/26", recorded_at=NOW, victim_ref="V-SECRET", unlinked=False
            )
        )
        c.execute(
            insert(crime_incidents).values(crime_id="CR/1/26", incident_id="LP-1", position=0)
        )

    history = store.ledger_history("LP-1")

    assert history is not None
    assert history["incident"]["status"] == "recorded_late"
    assert [a["alert_id"] for a in history["alerts"]] == ["a-1"]
    assert [c["crime_id"] for c in history["crimes"]] == ["CR/1/26"]
    assert "V-SECRET" not in repr(history) and "victim" not in repr(history)
    assert store.ledger_history("LP-NONE") is None
