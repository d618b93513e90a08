"""User management for admins: list, add, change a role, remove."""

from __future__ import annotations

import asyncio

from aiohttp import web

from monitor.adapters import security
from monitor.adapters.sql.board_store import LastAdmin, NoSuchUser, UserExists
from monitor.web.context import (
    BOARD,
    api_error,
    json_body,
    json_response,
    require_role,
)

# --- users (admin) ---


async def list_users(request: web.Request) -> web.StreamResponse:
    require_role(request, "admin")
    users = await asyncio.to_thread(request.app[BOARD].store.users)
    return json_response({"users": [u.__dict__ for u in users]})


async def add_user(request: web.Request) -> web.StreamResponse:
    board = request.app[BOARD]
    caller = require_role(request, "admin")
    body = await json_body(request)
    if not isinstance(body, dict) or set(body) - {"username", "role", "password"}:
        raise api_error(400, 'send {"username", "role", "password"}')
    try:
        name = security.check_username(str(body.get("username", "")))
        role = security.check_role(str(body.get("role", "")))
        password = security.check_password(str(body.get("password", "")))
    except ValueError as exc:
        raise api_error(422, str(exc)) from None
    hashed = await asyncio.to_thread(security.hash_password, password)
    try:
        user = await asyncio.to_thread(
            board.store.add_user, name, role, hashed, actor=caller.username, now=board.wall.now()
        )
    except UserExists:
        raise api_error(409, "that user already exists") from None
    return json_response(user.__dict__, status=201)


async def set_role(request: web.Request) -> web.StreamResponse:
    board = request.app[BOARD]
    caller = require_role(request, "admin")
    body = await json_body(request)
    try:
        role = security.check_role(str(body.get("role", "")) if isinstance(body, dict) else "")
    except ValueError as exc:
        raise api_error(422, str(exc)) from None
    name = request.match_info["username"]
    try:
        await asyncio.to_thread(
            board.store.set_role, name, role, actor=caller.username, now=board.wall.now()
        )
    except NoSuchUser:
        raise api_error(404, "no such user") from None
    except LastAdmin as exc:
        raise api_error(409, str(exc)) from None
    return json_response({"username": name, "role": role})


async def remove_user(request: web.Request) -> web.StreamResponse:
    board = request.app[BOARD]
    caller = require_role(request, "admin")
    name = request.match_info["username"]
    if name == caller.username:
        raise api_error(409, "an admin cannot remove themself")
    try:
        await asyncio.to_thread(
            board.store.remove_user, name, actor=caller.username, now=board.wall.now()
        )
    except NoSuchUser:
        raise api_error(404, "no such user") from None
    except LastAdmin as exc:
        raise api_error(409, str(exc)) from None
    return json_response({"removed": name})
