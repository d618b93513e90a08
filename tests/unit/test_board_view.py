"""The board's view: which incidents are on it, in what order, with what counts and figures."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from monitor.application.board.figures import daily_figures, today
from monitor.application.board.handling import Action
from monitor.application.board.view import BoardView, Filters, snapshot
from schemas.output_events import NotForTheBoard, decode
from tests.support.board_events import due_soon, measured, overdue, resolved

T0 = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
LONDON = ZoneInfo("Europe/London")


def fact(event: dict) -> object:
    return decode(json.dumps(event).encode())


def view_of(*events: dict) -> BoardView:
    view = BoardView()
    for event in events:
        view.apply(fact(event))  # type: ignore[arg-type]
    return view


def ids(view: BoardView, now: datetime = T0 + timedelta(days=2), **filters: str) -> list[str]:
    return [r["incident_id"] for r in snapshot(view, now, Filters(**filters))["rows"]]


def test_an_overdue_alert_puts_its_incident_on_the_board() -> None:
    view = view_of(overdue("LP-1", T0))

    rows = snapshot(view, T0 + timedelta(hours=25), Filters())["rows"]

    assert [r["incident_id"] for r in rows] == ["LP-1"]
    assert rows[0]["state"] == "overdue"
    assert rows[0]["deadline"] == "2026-06-02T08:00:00Z"
    assert rows[0]["seconds_left"] == -3600


def test_the_resolution_takes_it_off_the_board() -> None:
    view = view_of(overdue("LP-1", T0), resolved("LP-1", T0, T0 + timedelta(hours=30)))

    assert ids(view) == []


@pytest.mark.parametrize("seed", range(20))
def test_any_order_and_any_repetition_of_the_same_events_gives_the_same_board(seed: int) -> None:
    events = [
        due_soon("LP-1", T0),
        overdue("LP-1", T0),
        resolved("LP-1", T0, T0 + timedelta(hours=26)),
        due_soon("LP-2", T0 + timedelta(hours=1)),
        overdue("LP-2", T0 + timedelta(hours=1)),
        due_soon("LP-3", T0 + timedelta(hours=3)),
    ]
    shuffled = events + random.Random(seed).sample(events, k=4)
    random.Random(seed).shuffle(shuffled)

    assert ids(view_of(*shuffled)) == ids(view_of(*events)) == ["LP-2", "LP-3"]


def test_overdue_come_first_then_the_nearest_deadline() -> None:
    view = view_of(
        due_soon("LP-late-due", T0 + timedelta(hours=3)),
        due_soon("LP-early-due", T0 + timedelta(hours=2)),
        overdue("LP-newer-overdue", T0 + timedelta(hours=1)),
        overdue("LP-older-overdue", T0),
    )

    assert ids(view) == ["LP-older-overdue", "LP-newer-overdue", "LP-early-due", "LP-late-due"]


def test_filters_choose_rows_and_counts_ignore_the_state_filter() -> None:
    view = view_of(
        overdue("LP-1", T0, division="city", category="violence"),
        due_soon("LP-2", T0, division="city", category="theft"),
        overdue("LP-3", T0, division="melton", category="violence"),
        due_soon("LP-4", T0, division=None, category="violence"),
    )

    assert ids(view, division="city") == ["LP-1", "LP-2"]
    assert ids(view, category="violence") == ["LP-1", "LP-3", "LP-4"]
    assert ids(view, division="unknown") == ["LP-4"]
    body = snapshot(view, T0, Filters(division="city", state="due_soon"))
    assert [r["incident_id"] for r in body["rows"]] == ["LP-2"]
    assert body["counts"] == {"overdue": 1, "due_soon": 1, "unacknowledged": 2}
    assert body["divisions"] == ["city", "melton", "unknown"]


def test_an_unknown_state_filter_is_refused() -> None:
    with pytest.raises(ValueError, match="state must be one of"):
        Filters.from_query({"state": "everything"})


def test_actions_show_as_handling_and_are_applied_once_in_id_order() -> None:
    view = view_of(overdue("LP-1", T0))
    at = T0 + timedelta(hours=25)
    actions = [
        Action("LP-1", "acknowledge", "sam", at, action_id=1),
        Action("LP-1", "acknowledge", "kim", at, action_id=2),
        Action("LP-1", "assign", "sam", at, assignee="DM 4021", action_id=3),
        Action("LP-1", "note", "sam", at, note="called the OIC", action_id=4),
    ]
    for action in actions + actions[:2]:
        view.apply_action(action)

    row = snapshot(view, at, Filters())["rows"][0]
    assert row["acknowledged_by"] == "sam"  # the first acknowledgement stands
    assert row["assignee"] == "DM 4021"
    assert row["notes"] == 1
    assert snapshot(view, at, Filters())["counts"]["unacknowledged"] == 0


def test_rows_carry_references_only() -> None:
    row = snapshot(view_of(overdue("LP-1", T0)), T0, Filters())["rows"][0]

    assert set(row) == {
        "incident_id",
        "alert_id",
        "state",
        "category",
        "division",
        "channel",
        "reported_at",
        "deadline",
        "seconds_left",
        "acknowledged_by",
        "assignee",
        "notes",
        "reviewed_no_crime",
    }


def test_events_the_board_does_not_show_are_skipped_with_a_reason() -> None:
    with pytest.raises(NotForTheBoard):
        decode(b"not json")
    with pytest.raises(NotForTheBoard):
        decode(json.dumps({"type": "cdi.input.rejected"}).encode())
    broken = overdue("LP-1", T0)
    del broken["data"]["deadline"]
    with pytest.raises(NotForTheBoard, match=r"invalid cdi\.recording\.overdue"):
        decode(json.dumps(broken).encode())


def test_pruning_forgets_old_resolutions_and_measurements_but_not_open_alerts() -> None:
    view = view_of(
        overdue("LP-open", T0),
        overdue("LP-done", T0),
        resolved("LP-done", T0, T0 + timedelta(hours=30)),
        measured("LP-done", T0, T0 + timedelta(hours=30)),
    )

    view.prune(T0 + timedelta(days=5))

    assert set(view.alerts) == {"LP-open"}
    assert view.measured == {}


# --- today's figures ---


def test_today_is_the_calendar_day_in_london_with_summer_time() -> None:
    start, end = today(datetime(2026, 6, 1, 23, 30, tzinfo=UTC), LONDON)  # 00:30 BST on 2 June

    assert start == datetime(2026, 6, 1, 23, 0, tzinfo=UTC)
    assert end - start == timedelta(hours=24)
    spring = today(datetime(2026, 3, 29, 12, 0, tzinfo=UTC), LONDON)
    assert spring[1] - spring[0] == timedelta(hours=23)


def test_figures_per_division_count_todays_recordings_once_per_incident() -> None:
    now = datetime(2026, 6, 2, 15, 0, tzinfo=UTC)
    reported = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)
    view = view_of(
        # city: two in time (1 h and 3 h), one late (30 h); one recorded yesterday
        measured("LP-1", now - timedelta(hours=1), now, division="city"),
        measured("LP-2", now - timedelta(hours=5), now - timedelta(hours=2), division="city"),
        measured("LP-3", reported, reported + timedelta(hours=30), division="city"),
        measured("LP-4", reported, reported + timedelta(hours=2), division="city"),
        # a second, later-stamped record of LP-1 does not count again
        measured("LP-1", now - timedelta(hours=1), now, division="city", crime_id="CR/9/26"),
        measured("LP-5", now - timedelta(hours=2), now - timedelta(hours=1), division=None),
        overdue("LP-6", reported, division="melton"),
        overdue("LP-7", reported, division="city"),
    )

    figures = {
        f.division: f for f in daily_figures(view.measured.values(), view.open_lines(), now, LONDON)
    }

    city = figures["city"]
    assert (city.recorded_within_target, city.recorded_late, city.overdue_now) == (2, 1, 1)
    assert city.median_delay_seconds == 3 * 3600
    assert figures["melton"].recorded_within_target == 0
    assert figures["melton"].overdue_now == 1
    assert figures["melton"].median_delay_seconds is None
    assert figures["unknown"].recorded_within_target == 1
    total = figures["all"]
    assert (total.recorded_within_target, total.recorded_late, total.overdue_now) == (3, 1, 2)
