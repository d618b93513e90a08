"""The board's Audit and Audit figures views: the sample, each incident's story, answers.

Auditors (and admins) answer; an answer is stored with who and when, and also
goes to the board's audit trail (``board_audit``). Only an admin may change an
answer, with a reason; every version is kept. The figures are for every
signed-in user. Victims' details are never read.
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

from aiohttp import web

from monitor.adapters.security import may
from monitor.adapters.sql.audit import SqlAudit
from monitor.application.audit import AnswerRefused, Sample, record_answer
from monitor.application.board.handling import MAX_NOTE_CHARS
from monitor.domain.audit_answer import OFFENCE_GROUPS, Answer, AuditedIncident, ShouldRecord
from monitor.domain.period import last_days, parse_period
from monitor.report.figures import figures_json, gather
from monitor.web.context import (
    BOARD,
    Board,
    api_error,
    json_body,
    json_response,
    require_role,
)

_INCIDENT_ID = re.compile(r"^[^\x00-\x1f\x7f]{1,64}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_FIELDS = {"should_record", "offence_group", "recorded_correctly", "note", "reason"}
FIGURES_CACHE_S = 5.0


def _audit(board: Board) -> SqlAudit:
    return SqlAudit(board.store.engine)


def _sample_id(request: web.Request) -> int:
    try:
        return int(request.match_info["sample_id"])
    except ValueError:
        raise api_error(404, "no such sample") from None


def _progress(sample: Sample, audited: list[AuditedIncident]) -> list[dict[str, Any]]:
    done: dict[str, int] = {}
    for item in audited:
        done[item.stratum] = done.get(item.stratum, 0) + (item.answer is not None)
    return [
        {
            "stratum": s.stratum,
            "population": s.population,
            "size": s.size,
            "priority": s.priority,
            "done": done.get(s.stratum, 0),
            "to_do": s.size - done.get(s.stratum, 0),
        }
        for s in sample.strata
    ]


def _answer_json(answer: Answer | None) -> dict[str, Any] | None:
    if answer is None:
        return None
    return {
        "should_record": answer.should_record.value,
        "offence_group": answer.offence_group,
        "recorded_correctly": answer.recorded_correctly,
        "note": answer.note,
    }


def _sample_json(sample: Sample, audited: list[AuditedIncident]) -> dict[str, Any]:
    return {
        "sample_id": sample.sample_id,
        "period": sample.period.label,
        "seed": sample.seed,
        "sizing": sample.sizing,
        "drawn_at": sample.drawn_at,
        "drawn_by": sample.drawn_by,
        "progress": _progress(sample, audited),
        "done": sum(a.answer is not None for a in audited),
        "size": len(audited),
    }


def _read(board: Board, sample_id: int | None = None) -> dict[str, Any]:
    audit = _audit(board)
    if sample_id is None:
        samples = audit.samples()
        return {"samples": [_sample_json(s, audit.audited(s.sample_id)) for s in reversed(samples)]}
    sample = audit.sample(sample_id)
    if sample is None:
        raise LookupError(sample_id)
    audited = audit.audited(sample_id)
    body = _sample_json(sample, audited)
    body["incidents"] = [
        {
            "incident_id": a.incident_id,
            "stratum": a.stratum,
            "recorded": a.recorded,
            "answer": _answer_json(a.answer),
        }
        for a in audited
    ]
    body["offence_groups"] = list(OFFENCE_GROUPS)
    return body


async def samples(request: web.Request) -> web.StreamResponse:
    board = request.app[BOARD]
    require_role(request, "auditor")
    return json_response(await asyncio.to_thread(_read, board))


async def sample(request: web.Request) -> web.StreamResponse:
    board = request.app[BOARD]
    require_role(request, "auditor")
    try:
        return json_response(await asyncio.to_thread(_read, board, _sample_id(request)))
    except LookupError:
        raise api_error(404, "no such sample") from None


def _incident_id(request: web.Request) -> str:
    incident_id = request.match_info["incident_id"]
    if not _INCIDENT_ID.match(incident_id):
        raise api_error(404, "no such incident")
    return incident_id


def _story(board: Board, sample_id: int, incident_id: str) -> dict[str, Any] | None:
    audit = _audit(board)
    item = next((a for a in audit.audited(sample_id) if a.incident_id == incident_id), None)
    if item is None:
        return None
    story = audit.story(incident_id) or {
        "incident": None,
        "crimes": [],
        "alerts": [],
        "actions": [],
    }
    history = audit.answers_for(sample_id, incident_id)
    return {
        "sample_id": sample_id,
        "incident_id": incident_id,
        "stratum": item.stratum,
        "recorded": item.recorded,
        **story,
        "answers": [
            {
                **(_answer_json(a.answer) or {}),
                "version": n,
                "auditor": a.auditor,
                "answered_at": a.answered_at,
                "change_reason": a.change_reason,
            }
            for n, a in enumerate(history, start=1)
        ],
    }


async def incident(request: web.Request) -> web.StreamResponse:
    board = request.app[BOARD]
    require_role(request, "auditor")
    sample_id, incident_id = _sample_id(request), _incident_id(request)
    story = await asyncio.to_thread(_story, board, sample_id, incident_id)
    if story is None:
        raise api_error(404, f"{incident_id} is not in sample {sample_id}")
    return json_response(story)


def parse_answer(body: Any) -> tuple[Answer, str | None]:
    """The answer a request body gives, and a change's reason; 422 with the fields at fault."""
    if not isinstance(body, dict):
        raise api_error(422, "not a valid answer", {"body": "must be a JSON object"})
    errors = {name: "not a field of an answer" for name in sorted(set(body) - _FIELDS)}
    try:
        should = ShouldRecord(str(body.get("should_record")))
    except ValueError:
        errors["should_record"] = "one of yes, no, cannot_tell"
        should = ShouldRecord.CANNOT_TELL
    group = body.get("offence_group")
    if group is not None and group not in OFFENCE_GROUPS:
        errors["offence_group"] = "a Home Office offence group"
    correct = body.get("recorded_correctly")
    if correct is not None and not isinstance(correct, bool):
        errors["recorded_correctly"] = "true or false"
    texts: dict[str, str | None] = {}
    for name in ("note", "reason"):
        value = body.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            texts[name] = None
        elif not isinstance(value, str) or len(value) > MAX_NOTE_CHARS or _CONTROL.search(value):
            errors[name] = f"text of at most {MAX_NOTE_CHARS} characters, no control characters"
        else:
            texts[name] = value.strip()
    if errors:
        raise api_error(422, "not a valid answer", errors)
    return Answer(should, group, correct, texts.get("note")), texts.get("reason")


async def answer(request: web.Request) -> web.StreamResponse:
    board = request.app[BOARD]
    caller = require_role(request, "auditor")
    sample_id, incident_id = _sample_id(request), _incident_id(request)
    given, reason = parse_answer(await json_body(request))
    now = board.wall.now()

    def store() -> Any:
        audit = _audit(board)
        stored = record_answer(
            audit,
            sample_id=sample_id,
            incident_id=incident_id,
            answer=given,
            auditor=caller.username,
            is_admin=may(caller.role, "admin"),
            now=now,
            reason=reason,
        )
        detail = {"sample_id": sample_id, **(_answer_json(given) or {})}
        if reason:
            detail["reason"] = reason
        event = "audit_answer_changed" if reason else "audit_answered"
        board.store.audit(caller.username, event, incident_id, detail, now)
        return stored

    try:
        stored = await asyncio.to_thread(store)
    except AnswerRefused as exc:
        raise api_error(exc.status, str(exc), exc.errors or None) from None
    _FIGURES.clear()
    return json_response(
        {
            "incident_id": incident_id,
            **(_answer_json(stored.answer) or {}),
            "auditor": stored.auditor,
            "answered_at": stored.answered_at,
            "change_reason": stored.change_reason,
        },
        status=201,
    )


_FIGURES: dict[tuple[int, str], tuple[float, dict[str, Any]]] = {}
"""(board, period) to (when read, figures): one process may serve several boards (tests)."""


def _figures(board: Board, period_text: str | None) -> dict[str, Any]:
    audit = _audit(board)
    now = board.clock.now()
    if period_text:
        period = parse_period(period_text, board.zone)
        chosen = audit.sample_for(period.label)
    else:
        listed = audit.samples()
        chosen = audit.sample(listed[-1].sample_id) if listed else None
        period = chosen.period if chosen is not None else last_days(now, board.zone)
    body = figures_json(gather(audit, period, now=now, zone=board.zone, sample=chosen))
    body["periods"] = [s.period.label for s in reversed(audit.samples())]
    return body


async def figures(request: web.Request) -> web.StreamResponse:
    """The report's figures; a few seconds' cache keeps many open browsers cheap."""
    board = request.app[BOARD]
    period = request.query.get("period") or None
    key = (id(board), period or "")
    cached = _FIGURES.get(key)
    if cached is not None and time.monotonic() - cached[0] < FIGURES_CACHE_S:
        return json_response(cached[1])
    try:
        body = await asyncio.to_thread(_figures, board, period)
    except ValueError as exc:
        raise api_error(400, str(exc)) from None
    _FIGURES[key] = (time.monotonic(), body)
    return json_response(body)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/audit/samples", samples)
    app.router.add_get("/api/audit/samples/{sample_id}", sample)
    app.router.add_get("/api/audit/samples/{sample_id}/incidents/{incident_id}", incident)
    app.router.add_post("/api/audit/samples/{sample_id}/incidents/{incident_id}/answers", answer)
    app.router.add_get("/api/audit/figures", figures)
