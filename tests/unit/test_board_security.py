"""Roles, passwords, tokens, action requests and sign-in throttling of the board."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import monitor.web
from monitor.adapters import security
from monitor.application.board.handling import MAX_NOTE_CHARS, InvalidAction, parse_action_request

CSS = Path(monitor.web.__file__).parent / "static" / "board.css"


@pytest.mark.parametrize(
    ("role", "needed", "allowed"),
    [
        ("viewer", "viewer", True),
        ("viewer", "supervisor", False),
        ("supervisor", "supervisor", True),
        ("supervisor", "admin", False),
        ("admin", "supervisor", True),
        ("root", "viewer", False),
    ],
)
def test_roles_include_the_ones_below_them(role: str, needed: str, allowed: bool) -> None:
    assert security.may(role, needed) is allowed  # type: ignore[arg-type]


def test_a_password_is_stored_only_as_an_argon2id_hash() -> None:
    hashed = security.hash_password("correct horse battery")

    assert hashed.startswith("$argon2id$")
    assert "correct horse" not in hashed
    assert security.verify_password(hashed, "correct horse battery")
    assert not security.verify_password(hashed, "wrong horse battery")
    assert not security.verify_password(None, "correct horse battery")


def test_session_tokens_are_random_and_stored_as_hashes_and_csrf_tokens_bind_to_them() -> None:
    a, b = security.new_token(), security.new_token()

    assert a != b and len(a) >= 43
    assert security.token_hash(a) != a and len(security.token_hash(a)) == 64
    assert security.csrf_valid(a, security.csrf_token(a))
    assert not security.csrf_valid(b, security.csrf_token(a))
    assert not security.csrf_valid(a, None)


def test_a_forged_role_or_username_is_refused() -> None:
    with pytest.raises(ValueError, match="role must be one of"):
        security.check_role("superuser")
    with pytest.raises(ValueError):
        security.check_username("sam; DROP TABLE")
    with pytest.raises(ValueError):
        security.check_password("short")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "delete_everything"}, "kind"),
        ({"kind": "note", "note": "x" * (MAX_NOTE_CHARS + 1)}, "note"),
        ({"kind": "note", "note": "   "}, "note"),
        ({"kind": "assign"}, "assignee"),
        ({"kind": "assign", "assignee": "two\nlines"}, "assignee"),
        ({"kind": "review_no_crime"}, "reason"),
        ({"kind": "acknowledge", "role": "admin"}, "role"),
        ({"kind": "note", "note": "bell\x07"}, "note"),
    ],
)
def test_bad_action_requests_are_refused_naming_the_field(body: dict, field: str) -> None:
    with pytest.raises(InvalidAction) as refused:
        parse_action_request(body)

    assert field in refused.value.errors


def test_a_note_of_the_largest_size_is_accepted() -> None:
    request = parse_action_request({"kind": "note", "note": "x" * MAX_NOTE_CHARS})

    assert request.note is not None and len(request.note) == MAX_NOTE_CHARS


# --- WCAG AA contrast of the board's colours ---


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_contrast_formula_matches_the_wcag_reference_values() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21)
    assert contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)


@pytest.mark.parametrize(
    ("text", "background"),
    [
        ("--fg", "--bg"),
        ("--fg", "--surface"),
        ("--muted", "--bg"),
        ("--muted", "--surface"),
        ("--overdue-fg", "--overdue-bg"),
        ("--due-fg", "--due-bg"),
        ("--button-fg", "--button-bg"),
        ("--error-fg", "--bg"),
        ("--error-fg", "--surface"),
        ("--ok-fg", "--bg"),
        ("--ok-fg", "--surface"),
        ("--focus", "--bg"),
    ],
)
def test_the_board_colours_meet_wcag_aa_for_normal_text(text: str, background: str) -> None:
    colours = dict(re.findall(r"(--[a-z-]+):\s*(#[0-9a-fA-F]{6});", CSS.read_text()))

    assert contrast(colours[text], colours[background]) >= 4.5
