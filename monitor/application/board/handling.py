"""What supervisors did about an incident: their actions, checked, and folded into its handling.

Actions are facts kept for good (``board_actions``); the board shows their
fold: who acknowledged the alert, whom it is assigned to, how many notes it
has, and whether it was reviewed as "no crime" (with the reason). The fold
only adds or overwrites with later actions, so replaying them in their stored
order always gives the same handling.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal, get_args

ActionKind = Literal["acknowledge", "assign", "note", "review_no_crime"]
ACTION_KINDS: tuple[str, ...] = get_args(ActionKind)

MAX_NOTE_CHARS = 2000  # a note or a reason; about a page of text
MAX_ASSIGNEE_CHARS = 64  # a name or collar number
_PRINTABLE_LINE = re.compile(r"^[^\x00-\x1f\x7f]+$")
_CONTROL_BUT_NEWLINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Action:
    """One action by one user on one incident (and its alert, when it has one)."""

    incident_id: str
    kind: ActionKind
    actor: str
    at: datetime
    alert_id: str | None = None
    assignee: str | None = None
    note: str | None = None
    reason: str | None = None
    action_id: int | None = None


@dataclass(frozen=True)
class Handling:
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    assignee: str | None = None
    notes: int = 0
    reviewed_no_crime_by: str | None = None
    review_reason: str | None = None


def fold(handling: Handling, action: Action) -> Handling:
    """The handling after one more action."""
    match action.kind:
        case "acknowledge":
            if handling.acknowledged_by is not None:
                return handling  # the first acknowledgement stands
            return replace(handling, acknowledged_by=action.actor, acknowledged_at=action.at)
        case "assign":
            return replace(handling, assignee=action.assignee)
        case "note":
            return replace(handling, notes=handling.notes + 1)
        case "review_no_crime":
            return replace(handling, reviewed_no_crime_by=action.actor, review_reason=action.reason)
    return handling


class InvalidAction(ValueError):
    """The request does not describe an action; ``errors`` says what is wrong, by field."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class ActionRequest:
    kind: ActionKind
    assignee: str | None = None
    note: str | None = None
    reason: str | None = None


def _text(body: dict[str, Any], name: str, limit: int, errors: dict[str, str]) -> str | None:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        errors[name] = "required, as non-empty text"
        return None
    if len(value) > limit:
        errors[name] = f"too long: {len(value)} characters, at most {limit}"
        return None
    if _CONTROL_BUT_NEWLINES.search(value):
        errors[name] = "must not contain control characters"
        return None
    return value.strip()


def parse_action_request(body: Any) -> ActionRequest:
    """Check a request body (decoded JSON) and return the action it asks for.

    ``kind`` is one of ``ACTION_KINDS``; ``assign`` needs ``assignee`` (one line,
    at most 64 characters); ``note`` needs ``note`` and ``review_no_crime`` needs
    ``reason`` (at most ``MAX_NOTE_CHARS`` characters each). Other fields are refused.
    """
    if not isinstance(body, dict):
        raise InvalidAction({"body": "must be a JSON object"})
    errors: dict[str, str] = {}
    kind = body.get("kind")
    allowed = {"kind"}
    if kind not in ACTION_KINDS:
        raise InvalidAction({"kind": f"must be one of {', '.join(ACTION_KINDS)}"})
    request = ActionRequest(kind=kind)
    if kind == "assign":
        allowed.add("assignee")
        assignee = _text(body, "assignee", MAX_ASSIGNEE_CHARS, errors)
        if assignee is not None and not _PRINTABLE_LINE.match(assignee):
            errors["assignee"] = "must be one line of text"
        request = ActionRequest(kind=kind, assignee=assignee)
    elif kind == "note":
        allowed.add("note")
        request = ActionRequest(kind=kind, note=_text(body, "note", MAX_NOTE_CHARS, errors))
    elif kind == "review_no_crime":
        allowed.add("reason")
        request = ActionRequest(kind=kind, reason=_text(body, "reason", MAX_NOTE_CHARS, errors))
    for extra in sorted(set(body) - allowed):
        errors[extra] = f"not a field of a {kind} action"
    if errors:
        raise InvalidAction(errors)
    return request
