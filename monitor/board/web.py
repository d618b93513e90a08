"""The board's web edge (aiohttp): pages, a JSON API and a server-sent event stream.

Every page and API needs a signed-in user (the sign-in page and its static
files excepted). Viewers read; supervisors also act on incidents; admins also
manage users. State-changing requests must be JSON, carry the session's CSRF
token in ``X-CSRF-Token``, and (when the browser says) come from this origin.
Errors are JSON: ``{"error": "...", "fields": {...}}`` with a 4xx status, and a
refused request changes nothing.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from aiohttp import web

from monitor.board import security
from monitor.board.figures import daily_figures, figures_json
from monitor.board.handling import Action, InvalidAction, parse_action_request
from monitor.board.security import Role, SignInThrottle, may
from monitor.board.store import BoardStore, NoSuchUser, UserExists
from monitor.board.view import BoardView, Filters, snapshot
from monitor.clock import Clock, SystemClock
from monitor.settings import Settings

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
COOKIE = "cdi_board_session"
MAX_BODY_BYTES = 16 * 1024  # a note of 2,000 characters fits many times over
PUSH_AT_MOST_EVERY_S = 0.3  # under load, one snapshot per 0.3 s per browser, never a backlog
HEARTBEAT_S = 15.0
RECHECK_SESSION_S = 30.0
_INCIDENT_ID = re.compile(r"^[^\x00-\x1f\x7f]{1,64}$")
_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
_PUBLIC = {"/login", "/api/login"}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Changes:
    """Tells waiting event streams that the board changed; ``close()`` ends them all."""

    def __init__(self) -> None:
        self.version = 0
        self._event = asyncio.Event()
        self.closing = asyncio.Event()

    def changed(self) -> None:
        self.version += 1
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, seen: int, timeout: float) -> None:
        if self.version != seen or self.closing.is_set():
            return
        waiters = {
            asyncio.ensure_future(self._event.wait()),
            asyncio.ensure_future(self.closing.wait()),
        }
        _, pending = await asyncio.wait(waiters, timeout=timeout, return_when="FIRST_COMPLETED")
        for task in pending:
            task.cancel()

    def close(self) -> None:
        self.closing.set()


@dataclass
class Board:
    """Everything the web edge needs; built by ``monitor.board.run``."""

    settings: Settings
    store: BoardStore
    view: BoardView
    clock: Clock  # the monitor's clock (accelerated in the demo): deadlines and "today"
    wall: Clock = field(default_factory=SystemClock)  # real time: sessions and the audit trail
    changes: Changes = field(default_factory=Changes)
    throttle: SignInThrottle = field(default_factory=SignInThrottle)
    poll_actions: Callable[[], Awaitable[None]] | None = None
    feed_connected: Callable[[], bool] = lambda: True

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.settings.board_timezone)

    @property
    def trusted_proxies(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        parts = (p.strip() for p in self.settings.board_trusted_proxies.split(","))
        return [ipaddress.ip_network(p, strict=False) for p in parts if p]


BOARD = web.AppKey("board", Board)


@dataclass(frozen=True)
class Caller:
    username: str
    role: Role
    token: str


CALLER = web.RequestKey("caller", Caller)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"not JSON: {type(value).__name__}")


def _json(body: Any, status: int = 200) -> web.Response:
    return web.json_response(
        body, status=status, dumps=lambda v: json.dumps(v, default=_json_default)
    )


def _error(status: int, message: str, fields: dict[str, str] | None = None) -> web.HTTPException:
    body: dict[str, Any] = {"error": message}
    if fields:
        body["fields"] = fields
    exc = web.HTTPException(text=json.dumps(body), content_type="application/json", headers=None)
    exc.set_status(status)
    return exc


# --- middlewares ---


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """API errors as JSON, whatever raised them (aiohttp's own 404, 405 and 413 included)."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if not request.path.startswith("/api/") or exc.content_type == "application/json":
            raise
        if exc.status < 400:
            raise
        message = {
            404: "not found",
            405: "method not allowed",
            413: f"request body too large: at most {MAX_BODY_BYTES} bytes",
        }.get(exc.status, exc.reason)
        raise _error(exc.status, message) from None


def _session_cookie(response: web.StreamResponse, board: Board, token: str) -> None:
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(board.settings.board_session_lifetime.total_seconds()),
        path="/",
        httponly=True,
        secure=board.settings.board_secure_cookies,
        samesite="Strict",
    )


def _sso_name(request: web.Request, board: Board) -> str | None:
    """The user named by the trusted proxy's header, when configured and sent by that proxy."""
    header = board.settings.board_sso_header
    if not header or header not in request.headers or request.remote is None:
        return None
    try:
        address = ipaddress.ip_address(request.remote)
    except ValueError:
        return None
    if not any(address in network for network in board.trusted_proxies):
        return None  # anyone else sending the header is ignored
    return request.headers[header].strip()


@web.middleware
async def signed_in(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Find the caller from the session cookie (or the SSO header); refuse anyone else.

    Behind the trusted proxy, its header decides who the user is: a session
    cookie of another user (a shared browser) is ignored.
    """
    board = request.app[BOARD]
    if request.path in _PUBLIC or request.path.startswith("/static/"):
        return await handler(request)
    now = board.wall.now()
    token = request.cookies.get(COOKIE)
    found = await asyncio.to_thread(board.store.session_user, token, now=now) if token else None
    sso = _sso_name(request, board)
    new_token = None
    if sso is not None and (found is None or found[0] != sso):
        found = None
        if await asyncio.to_thread(board.store.password_hash, sso) is not None:
            new_token = security.new_token()
            await asyncio.to_thread(
                board.store.start_session,
                sso,
                new_token,
                now=now,
                lifetime=board.settings.board_session_lifetime,
            )
            found = await asyncio.to_thread(board.store.session_user, new_token, now=now)
            token = new_token
    if found is None or token is None:
        if request.path.startswith("/api/"):
            raise _error(401, "sign in first")
        raise web.HTTPFound("/login")
    request[CALLER] = Caller(found[0], found[1], token)
    if request.method in _UNSAFE:
        _check_same_origin(request)
        if new_token is not None or not security.csrf_valid(
            token, request.headers.get("X-CSRF-Token")
        ):
            raise _error(403, "missing or wrong CSRF token (X-CSRF-Token)")
    response = await handler(request)
    if new_token is not None and not response.prepared:
        _session_cookie(response, board, new_token)
    return response


def _check_same_origin(request: web.Request) -> None:
    """Refuse a request a browser says comes from another site.

    Hosts are compared, not schemes: behind a TLS-terminating proxy the board
    sees http while the browser's origin is https.
    """
    origin = request.headers.get("Origin")
    if origin is not None and urlsplit(origin).netloc != request.host:
        raise _error(403, "cross-origin request refused")


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    if request.path.startswith("/api/") or request.path in ("/", "/login"):
        response.headers["Cache-Control"] = "no-store"


def _require(request: web.Request, role: Role) -> Caller:
    caller: Caller = request[CALLER]
    if not may(caller.role, role):
        raise _error(403, f"{caller.role} may not do this: it needs the {role} role")
    return caller


async def _body(request: web.Request) -> Any:
    if request.content_type != "application/json":
        raise _error(415, "send JSON (Content-Type: application/json)")
    try:
        return await request.json()
    except ValueError:
        raise _error(400, "the body is not valid JSON") from None


# --- pages ---


async def page_board(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC / "board.html")


async def page_login(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC / "login.html")


# --- sign-in ---


async def login(request: web.Request) -> web.StreamResponse:
    board = request.app[BOARD]
    body = await _body(request)
    if not isinstance(body, dict):
        raise _error(400, 'send {"username": ..., "password": ...}')
    username, password = body.get("username"), body.get("password")
    if not isinstance(username, str) or not isinstance(password, str):
        raise _error(400, "username and password are required")
    username = username.strip()[:64]
    keys = (f"ip:{request.remote}", f"user:{username.lower()}")
    wait = board.throttle.retry_after(*keys)
    if wait > 0:
        refused = _error(429, f"too many failed sign-ins: try again in {wait:.0f} s")
        refused.headers["Retry-After"] = str(int(wait) + 1)
        raise refused
    known = await asyncio.to_thread(board.store.password_hash, username)
    ok = await asyncio.to_thread(security.verify_password, known[1] if known else None, password)
    now = board.wall.now()
    if not ok or known is None:
        board.throttle.failed(*keys)
        await asyncio.to_thread(
            board.store.audit, username or "?", "sign_in_refused", None, {"ip": request.remote}, now
        )
        raise _error(401, "unknown username or wrong password")
    board.throttle.succeeded(*keys)
    token = security.new_token()
    await asyncio.to_thread(
        board.store.start_session,
        username,
        token,
        now=now,
        lifetime=board.settings.board_session_lifetime,
    )
    response = _json({"username": username, "role": known[0]})
    _session_cookie(response, board, token)
    return response


async def logout(request: web.Request) -> web.StreamResponse:
    board = request.app[BOARD]
    caller: Caller = request[CALLER]
    await asyncio.to_thread(board.store.end_session, caller.token, now=board.wall.now())
    response = _json({"signed_out": True})
    response.del_cookie(COOKIE, path="/")
    return response


async def me(request: web.Request) -> web.StreamResponse:
    caller: Caller = request[CALLER]
    return _json(
        {
            "username": caller.username,
            "role": caller.role,
            "may_act": may(caller.role, "supervisor"),
            "may_manage_users": may(caller.role, "admin"),
            "csrf_token": security.csrf_token(caller.token),
            "time_zone": request.app[BOARD].settings.board_timezone,
        }
    )


# --- the board ---


def _filters(request: web.Request) -> Filters:
    try:
        return Filters.from_query(dict(request.query))
    except ValueError as exc:
        raise _error(400, str(exc)) from None


def _board_json(board: Board, filters: Filters) -> dict[str, Any]:
    now = board.clock.now()
    body = snapshot(board.view, now, filters)
    body["clock_rate"] = board.settings.clock_rate
    body["feed_connected"] = board.feed_connected()
    return body


def _figures(board: Board) -> dict[str, Any]:
    now = board.clock.now()
    lines = daily_figures(board.view.measured.values(), board.view.open_lines(), now, board.zone)
    return {"now": _json_default(now), **figures_json(lines, now, board.zone)}


async def board_snapshot(request: web.Request) -> web.StreamResponse:
    return _json(_board_json(request.app[BOARD], _filters(request)))


async def figures(request: web.Request) -> web.StreamResponse:
    return _json(_figures(request.app[BOARD]))


def _event(name: str, body: Any) -> bytes:
    return f"event: {name}\ndata: {json.dumps(body, default=_json_default)}\n\n".encode()


async def events(request: web.Request) -> web.StreamResponse:
    """Server-sent events: the board and the figures now, then again whenever they change.

    A browser that loses the stream (a restart, a network blip) reconnects on
    its own after ``retry`` and gets a fresh snapshot first, so it catches up.
    """
    board = request.app[BOARD]
    caller: Caller = request[CALLER]
    filters = _filters(request)
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "X-Accel-Buffering": "no"}
    )
    await response.prepare(request)
    loop = asyncio.get_running_loop()
    try:
        await response.write(b"retry: 1000\n\n")
        checked = loop.time()
        while not board.changes.closing.is_set():
            seen = board.changes.version
            await response.write(_event("board", _board_json(board, filters)))
            await response.write(_event("figures", _figures(board)))
            await asyncio.sleep(PUSH_AT_MOST_EVERY_S)
            await board.changes.wait(seen, timeout=HEARTBEAT_S)
            if loop.time() - checked > RECHECK_SESSION_S:
                checked = loop.time()
                if (
                    await asyncio.to_thread(
                        board.store.session_user, caller.token, now=board.wall.now()
                    )
                    is None
                ):
                    await response.write(_event("signed_out", {}))
                    break
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    return response


def _incident_id(request: web.Request) -> str:
    incident_id = request.match_info["incident_id"]
    if not _INCIDENT_ID.match(incident_id):
        raise _error(404, "no such incident")
    return incident_id


async def history(request: web.Request) -> web.StreamResponse:
    """An incident's report, alerts, actions and recording, from the view and the ledger."""
    board = request.app[BOARD]
    incident_id = _incident_id(request)
    ledger = await asyncio.to_thread(board.store.ledger_history, incident_id)
    line = board.view.alerts.get(incident_id)
    measured = board.view.measured.get(incident_id)
    if ledger is None and line is None and measured is None:
        raise _error(404, f"no incident {incident_id} on the board or in the ledger")
    actions = await asyncio.to_thread(board.store.actions_for, incident_id)
    report = line.report if line is not None else measured.report if measured else None
    return _json(
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
    caller = _require(request, "supervisor")
    incident_id = _incident_id(request)
    try:
        wanted = parse_action_request(await _body(request))
    except InvalidAction as exc:
        raise _error(422, "not a valid action", exc.errors) from None
    line = board.view.alerts.get(incident_id)
    alert_id = line.alert_id if line is not None else None
    if line is None:
        ledger = await asyncio.to_thread(board.store.ledger_history, incident_id)
        if ledger is None:
            raise _error(404, f"no incident {incident_id} on the board or in the ledger")
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
    return _json({k: v for k, v in stored.__dict__.items()}, status=201)


# --- users (admin) ---


async def list_users(request: web.Request) -> web.StreamResponse:
    _require(request, "admin")
    users = await asyncio.to_thread(request.app[BOARD].store.users)
    return _json({"users": [u.__dict__ for u in users]})


async def add_user(request: web.Request) -> web.StreamResponse:
    board = request.app[BOARD]
    caller = _require(request, "admin")
    body = await _body(request)
    if not isinstance(body, dict) or set(body) - {"username", "role", "password"}:
        raise _error(400, 'send {"username", "role", "password"}')
    try:
        name = security.check_username(str(body.get("username", "")))
        role = security.check_role(str(body.get("role", "")))
        password = security.check_password(str(body.get("password", "")))
    except ValueError as exc:
        raise _error(422, str(exc)) from None
    hashed = await asyncio.to_thread(security.hash_password, password)
    try:
        user = await asyncio.to_thread(
            board.store.add_user, name, role, hashed, actor=caller.username, now=board.wall.now()
        )
    except UserExists as exc:
        raise _error(409, str(exc)) from None
    return _json(user.__dict__, status=201)


async def set_role(request: web.Request) -> web.StreamResponse:
    board = request.app[BOARD]
    caller = _require(request, "admin")
    body = await _body(request)
    try:
        role = security.check_role(str(body.get("role", "")) if isinstance(body, dict) else "")
    except ValueError as exc:
        raise _error(422, str(exc)) from None
    name = request.match_info["username"]
    try:
        await asyncio.to_thread(
            board.store.set_role, name, role, actor=caller.username, now=board.wall.now()
        )
    except NoSuchUser as exc:
        raise _error(404, str(exc)) from None
    return _json({"username": name, "role": role})


async def remove_user(request: web.Request) -> web.StreamResponse:
    board = request.app[BOARD]
    caller = _require(request, "admin")
    name = request.match_info["username"]
    if name == caller.username:
        raise _error(409, "an admin cannot remove themself")
    try:
        await asyncio.to_thread(
            board.store.remove_user, name, actor=caller.username, now=board.wall.now()
        )
    except NoSuchUser as exc:
        raise _error(404, str(exc)) from None
    return _json({"removed": name})


async def _close_streams(app: web.Application) -> None:
    app[BOARD].changes.close()


def make_app(board: Board) -> web.Application:
    app = web.Application(middlewares=[json_errors, signed_in], client_max_size=MAX_BODY_BYTES)
    app[BOARD] = board
    app.on_response_prepare.append(_security_headers)
    app.on_shutdown.append(_close_streams)
    app.router.add_get("/", page_board)
    app.router.add_get("/login", page_login)
    app.router.add_static("/static/", STATIC, follow_symlinks=False)
    app.router.add_post("/api/login", login)
    app.router.add_post("/api/logout", logout)
    app.router.add_get("/api/me", me)
    app.router.add_get("/api/board", board_snapshot)
    app.router.add_get("/api/figures", figures)
    app.router.add_get("/api/events", events)
    app.router.add_get("/api/incidents/{incident_id}/history", history)
    app.router.add_post("/api/incidents/{incident_id}/actions", act)
    app.router.add_get("/api/users", list_users)
    app.router.add_post("/api/users", add_user)
    app.router.add_put("/api/users/{username}/role", set_role)
    app.router.add_delete("/api/users/{username}", remove_user)
    return app
