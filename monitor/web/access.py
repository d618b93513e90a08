"""Who is calling: sign-in, sessions, single sign-on, CSRF and same-origin checks, headers.

Every page and API needs a signed-in user (the sign-in page and its static
files excepted). State-changing requests must be JSON, carry the session's
CSRF token in ``X-CSRF-Token``, and (when the browser says) come from this origin.
"""

from __future__ import annotations

import asyncio
import ipaddress
from urllib.parse import urlsplit

from aiohttp import web

from monitor.adapters import security
from monitor.adapters.security import may
from monitor.web.context import (
    BOARD,
    CALLER,
    COOKIE,
    MAX_BODY_BYTES,
    Board,
    Caller,
    Handler,
    api_error,
    json_body,
    json_response,
)
from monitor.web.throttle import Throttled

_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
_PUBLIC = {"/login", "/api/login"}


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
        raise api_error(exc.status, message) from None


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


def _from_trusted_proxy(request: web.Request, board: Board) -> bool:
    """Whether the peer is one of ``CDI_BOARD_TRUSTED_PROXIES``."""
    if request.remote is None:
        return False
    try:
        address = ipaddress.ip_address(request.remote)
    except ValueError:
        return False
    return any(address in network for network in board.trusted_proxies)


def client_address(request: web.Request, board: Board) -> str:
    """The caller's address: the peer's, or behind a trusted proxy, what it forwarded.

    ``X-Forwarded-For`` is read only from a trusted proxy (anyone can send it),
    from the right: each proxy appends the address it was called from, so the
    right-most address that is not itself a trusted proxy is the client.
    """
    peer = request.remote or "unknown"
    if not _from_trusted_proxy(request, board):
        return peer
    hops = [
        hop.strip()
        for line in request.headers.getall("X-Forwarded-For", [])
        for hop in line.split(",")
        if hop.strip()
    ]
    for hop in reversed(hops):
        try:
            address = ipaddress.ip_address(hop)
        except ValueError:
            return peer  # a garbled header: believe nothing beyond the proxy
        if not any(address in network for network in board.trusted_proxies):
            return str(address)
    return hops[0] if hops else peer


def _sso_name(request: web.Request, board: Board) -> str | None:
    """The user named by the trusted proxy's header, when configured and sent by that proxy."""
    header = board.settings.board_sso_header
    if not header or header not in request.headers:
        return None
    if not _from_trusted_proxy(request, board):
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
            raise api_error(401, "sign in first")
        raise web.HTTPFound("/login")
    request[CALLER] = Caller(found[0], found[1], token)
    if request.method in _UNSAFE:
        _check_same_origin(request)
        if new_token is not None or not security.csrf_valid(
            token, request.headers.get("X-CSRF-Token")
        ):
            raise api_error(403, "missing or wrong CSRF token (X-CSRF-Token)")
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
        raise api_error(403, "cross-origin request refused")


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    if request.path.startswith("/api/") or request.path in ("/", "/login"):
        response.headers["Cache-Control"] = "no-store"


# --- sign-in ---


async def login(request: web.Request) -> web.StreamResponse:
    board = request.app[BOARD]
    body = await json_body(request)
    if not isinstance(body, dict):
        raise api_error(400, 'send {"username": ..., "password": ...}')
    username, password = body.get("username"), body.get("password")
    if not isinstance(username, str) or not isinstance(password, str):
        raise api_error(400, "username and password are required")
    username = username.strip()[:64]
    address = client_address(request, board)
    # Counted before the password is checked: simultaneous guesses cannot all get in.
    try:
        attempt = board.throttle.admit(address, username)
    except Throttled as throttled:
        wait = throttled.retry_after
        refused = api_error(429, f"too many failed sign-ins: try again in {wait:.0f} s")
        refused.headers["Retry-After"] = str(int(wait) + 1)
        raise refused from None
    known = await asyncio.to_thread(board.store.password_hash, username)
    ok = await asyncio.to_thread(security.verify_password, known[1] if known else None, password)
    now = board.wall.now()
    if not ok or known is None:
        await asyncio.to_thread(
            board.store.audit, username or "?", "sign_in_refused", None, {"ip": address}, now
        )
        raise api_error(401, "unknown username or wrong password")
    attempt.succeeded()
    token = security.new_token()
    await asyncio.to_thread(
        board.store.start_session,
        username,
        token,
        now=now,
        lifetime=board.settings.board_session_lifetime,
    )
    response = json_response({"username": username, "role": known[0]})
    _session_cookie(response, board, token)
    return response


async def logout(request: web.Request) -> web.StreamResponse:
    board = request.app[BOARD]
    caller: Caller = request[CALLER]
    await asyncio.to_thread(board.store.end_session, caller.token, now=board.wall.now())
    board.streams.end(security.token_hash(caller.token))
    response = json_response({"signed_out": True})
    response.del_cookie(COOKIE, path="/")
    return response


async def me(request: web.Request) -> web.StreamResponse:
    caller: Caller = request[CALLER]
    return json_response(
        {
            "username": caller.username,
            "role": caller.role,
            "may_act": may(caller.role, "supervisor"),
            "may_manage_users": may(caller.role, "admin"),
            "may_audit": may(caller.role, "auditor"),
            "csrf_token": security.csrf_token(caller.token),
            "time_zone": request.app[BOARD].settings.board_timezone,
        }
    )
