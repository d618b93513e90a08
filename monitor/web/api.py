"""The board's read and act API: snapshots, the event stream, history, actions."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from aiohttp import web

from monitor.adapters.security import token_hash
from monitor.application.board.figures import daily_figures, figures_json
from monitor.application.board.handling import Action, InvalidAction, parse_action_request
from monitor.application.board.view import Filters, snapshot
from monitor.web.context import (
    BOARD,
    CALLER,
    Board,
    Caller,
    api_error,
    json_body,
    json_default,
    json_response,
    require_role,
)
from monitor.web.event_streams import TooManyStreams

PUSH_AT_MOST_EVERY_S = 0.3  # under load, one snapshot per 0.3 s per browser, never a backlog
HEARTBEAT_S = 15.0
_INCIDENT_ID = re.compile(r"^[^\x00-\x1f\x7f]{1,64}$")

# --- the board ---


def _filters(request: web.Request) -> Filters:
    try:
        return Filters.from_query(dict(request.query))
    except ValueError as exc:
        raise api_error(400, str(exc)) from None


def _board_json(board: Board, filters: Filters) -> dict[str, Any]:
    now = board.clock.now()
    body = snapshot(board.view, now, filters)
    body["clock_rate"] = board.settings.clock_rate
    body["feed_connected"] = board.feed_connected()
    return body


def _figures(board: Board) -> dict[str, Any]:
    now = board.clock.now()
    lines = daily_figures(board.view.measured.values(), board.view.open_lines(), now, board.zone)
    return {"now": json_default(now), **figures_json(lines, now, board.zone)}


async def board_snapshot(request: web.Request) -> web.StreamResponse:
    return json_response(_board_json(request.app[BOARD], _filters(request)))


async def figures(request: web.Request) -> web.StreamResponse:
    return json_response(_figures(request.app[BOARD]))


def _event(name: str, body: Any) -> bytes:
    return f"event: {name}\ndata: {json.dumps(body, default=json_default)}\n\n".encode()


async def events(request: web.Request) -> web.StreamResponse:
    """Server-sent events: the board and the figures now, then again whenever they change.

    A browser that loses the stream (a restart, a network blip) reconnects on
    its own after ``retry`` and gets a fresh snapshot first, so it catches up.
    The stream ends with a ``signed_out`` event within 2 s of its session ending,
    and a session may hold only a few streams (``monitor.web.event_streams``).
    """
    board = request.app[BOARD]
    caller: Caller = request[CALLER]
    filters = _filters(request)

    async def live(token_hashes: set[str]) -> set[str]:
        now = board.wall.now()
        return await asyncio.to_thread(board.store.live_sessions, token_hashes, now=now)

    try:
        with board.streams.open(token_hash(caller.token), live) as stream:
            return await _push(request, board, filters, stream.ended)
    except TooManyStreams as exc:
        raise api_error(429, f"too many open event streams: {exc}") from None


async def _push(
    request: web.Request, board: Board, filters: Filters, ended: asyncio.Event
) -> web.StreamResponse:
    """Write the board and the figures whenever they change, until the session ends."""
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "X-Accel-Buffering": "no"}
    )
    await response.prepare(request)
    try:
        await response.write(b"retry: 1000\n\n")
        while not board.changes.closing.is_set() and not ended.is_set():
            seen = board.changes.version
            await response.write(_event("board", _board_json(board, filters)))
            await response.write(_event("figures", _figures(board)))
            await asyncio.sleep(PUSH_AT_MOST_EVERY_S)
            await board.changes.wait(seen, timeout=HEARTBEAT_S, also=ended)
        if ended.is_set():
            await response.write(_event("signed_out", {}))
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    return response


def _incident_id(request: web.Request) -> str:
    incident_id = request.match_info["incident_id"]
    if not _INCIDENT_ID.match(incident_id):
        raise api_error(404, "no such incident")
    return incident_id


async def history(request: web.Request) -> web.StreamResponse:
    """An incident's report, alerts, actions and recording, from the view and the ledger."""
    board = request.app[BOARD]
    incident_id = _incident_id(request)
    ledger = await asyncio.to_thread(board.store.ledger_history, incident_id)
    line = board.view.alerts.get(incident_id)
    measured = board.view.measured.get(incident_id)
    if ledger is None and line is None and measured is None:
        raise api_error(404, "no such incident on the board or in the ledger")
    actions = await asyncio.to_thread(board.store.actions_for, incident_id)
    report = line.report if line is not None else measured.report if measured else None
    return json_response(
        {
            "incident_id": incident_id,
            "report": None if report is None else report.__dict__,
            "alert": None
            if line is None
            else {
                "alert_id": line.alert_id,
                "state": line.state,
                "due_soon_at": line.due_soon_at,
                "overdue_at": line.overdue_at,
                "resolved_at": line.resolved.at if line.resolved else None,
                "resolution": line.resolved.resolution if line.resolved else None,
                "late": line.resolved.late if line.resolved else None,
            },
            "recording": None
            if measured is None
            else {
                "crime_id": measured.crime_id,
                "recorded_at": measured.recorded_at,
                "elapsed_seconds": measured.elapsed_seconds,
                "within_target": measured.within_target,
            },
            "ledger": ledger,
            "actions": [
                {k: v for k, v in a.__dict__.items() if k != "incident_id"} for a in actions
            ],
        }
    )


async def act(request: web.Request) -> web.StreamResponse:
    board = request.app[BOARD]
    caller = require_role(request, "supervisor")
    incident_id = _incident_id(request)
    try:
        wanted = parse_action_request(await json_body(request))
    except InvalidAction as exc:
        raise api_error(422, "not a valid action", exc.errors) from None
    line = board.view.alerts.get(incident_id)
    alert_id = line.alert_id if line is not None else None
    if line is None:
        ledger = await asyncio.to_thread(board.store.ledger_history, incident_id)
        if ledger is None:
            raise api_error(404, "no such incident on the board or in the ledger")
        alert_id = ledger["alerts"][0]["alert_id"] if ledger["alerts"] else None
    stored = await asyncio.to_thread(
        board.store.record_action,
        Action(
            incident_id=incident_id,
            kind=wanted.kind,
            actor=caller.username,
            at=board.wall.now(),
            alert_id=alert_id,
            assignee=wanted.assignee,
            note=wanted.note,
            reason=wanted.reason,
        ),
    )
    if board.poll_actions is not None:
        await board.poll_actions()  # show it now rather than at the next poll
    return json_response({k: v for k, v in stored.__dict__.items()}, status=201)
