"""What every handler of the board's web edge shares: the board, the caller, JSON answers."""

from __future__ import annotations

import asyncio
import ipaddress
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from monitor.adapters.clock import Clock, SystemClock
from monitor.adapters.security import Role, may
from monitor.adapters.sql.board_store import BoardStore
from monitor.application.board.view import BoardView
from monitor.settings import Settings
from monitor.web.event_streams import SessionStreams
from monitor.web.throttle import SignInThrottle

STATIC = Path(__file__).parent / "static"
COOKIE = "cdi_board_session"
MAX_BODY_BYTES = 16 * 1024  # a note of 2,000 characters fits many times over

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

    async def wait(self, seen: int, timeout: float, also: asyncio.Event | None = None) -> None:
        """Until the board changes after version ``seen``, closes, ``also`` is set, or timeout."""
        if self.version != seen or self.closing.is_set() or (also is not None and also.is_set()):
            return
        waiters = {
            asyncio.ensure_future(self._event.wait()),
            asyncio.ensure_future(self.closing.wait()),
        }
        if also is not None:
            waiters.add(asyncio.ensure_future(also.wait()))
        _, pending = await asyncio.wait(waiters, timeout=timeout, return_when="FIRST_COMPLETED")
        for task in pending:
            task.cancel()

    def close(self) -> None:
        self.closing.set()


@dataclass
class Board:
    """Everything the web edge needs; built by ``monitor.web.run``."""

    settings: Settings
    store: BoardStore
    view: BoardView
    clock: Clock  # the monitor's clock (accelerated in the demo): deadlines and "today"
    wall: Clock = field(default_factory=SystemClock)  # real time: sessions and the audit trail
    changes: Changes = field(default_factory=Changes)
    throttle: SignInThrottle = field(default_factory=SignInThrottle)
    streams: SessionStreams = field(default_factory=SessionStreams)
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


def json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"not JSON: {type(value).__name__}")


def json_response(body: Any, status: int = 200) -> web.Response:
    return web.json_response(
        body, status=status, dumps=lambda v: json.dumps(v, default=json_default)
    )


def api_error(status: int, message: str, fields: dict[str, str] | None = None) -> web.HTTPException:
    body: dict[str, Any] = {"error": message}
    if fields:
        body["fields"] = fields
    exc = web.HTTPException(text=json.dumps(body), content_type="application/json", headers=None)
    exc.set_status(status)
    return exc


# --- middlewares ---


def require_role(request: web.Request, role: Role) -> Caller:
    caller: Caller = request[CALLER]
    if not may(caller.role, role):
        raise api_error(403, f"{caller.role} may not do this: it needs the {role} role")
    return caller


async def json_body(request: web.Request) -> Any:
    if request.content_type != "application/json":
        raise api_error(415, "send JSON (Content-Type: application/json)")
    try:
        return await request.json()
    except ValueError:
        raise api_error(400, "the body is not valid JSON") from None
    except RecursionError:  # json.loads gives up on deeply nested arrays and objects
        raise api_error(400, "the body is nested too deeply") from None
