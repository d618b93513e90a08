"""The board's web edge (aiohttp): pages, a JSON API and a server-sent event stream.

Every page and API needs a signed-in user (the sign-in page and its static
files excepted). Viewers read; supervisors also act on incidents; auditors audit
the sample; admins do all of it and manage users. State-changing requests must be
JSON, carry the session's CSRF token in ``X-CSRF-Token``, and (when the browser
says) come from this origin.
Errors are JSON: ``{"error": "...", "fields": {...}}`` with a 4xx status, and a
refused request changes nothing.
"""

from __future__ import annotations

from aiohttp import web

from monitor.web.access import json_errors, login, logout, me, security_headers, signed_in
from monitor.web.admin import add_user, list_users, remove_user, set_role
from monitor.web.api import act, board_snapshot, events, figures, history
from monitor.web.audit_api import add_routes as add_audit_routes
from monitor.web.context import (
    BOARD,
    MAX_BODY_BYTES,
    STATIC,
    Board,
)

# --- pages ---


async def page_board(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC / "board.html")


async def page_login(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC / "login.html")


async def _close_streams(app: web.Application) -> None:
    app[BOARD].changes.close()
    app[BOARD].streams.close()


def make_app(board: Board) -> web.Application:
    app = web.Application(middlewares=[json_errors, signed_in], client_max_size=MAX_BODY_BYTES)
    app[BOARD] = board
    app.on_response_prepare.append(security_headers)
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
    add_audit_routes(app)
    return app
