"""The board as ``cdi-monitor demo`` runs it: on loopback, with a demo supervisor.

The demo supervisor's password is generated at each start and printed once;
it is a demo credential only. Cookies are not marked Secure because the demo
serves plain http on 127.0.0.1 (set ``CDI_BOARD_SECURE_COOKIES`` to change it).
"""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime

from monitor.adapters import security
from monitor.adapters.clock import Clock
from monitor.adapters.kafka.embedded_broker import free_port
from monitor.adapters.sql.board_store import BoardStore
from monitor.adapters.sql.ledger import make_engine
from monitor.settings import Settings
from monitor.web.run import RunningBoard, start_board

DEMO_SUPERVISOR = "demo-supervisor"


def _ensure_supervisor(database_url: str, password: str) -> None:
    engine = make_engine(database_url)
    try:
        store = BoardStore(engine)
        now = datetime.now(UTC)
        hashed = security.hash_password(password)
        if store.password_hash(DEMO_SUPERVISOR) is None:
            store.add_user(DEMO_SUPERVISOR, "supervisor", hashed, actor="demo", now=now)
        else:
            store.set_password(DEMO_SUPERVISOR, hashed, actor="demo", now=now)
    finally:
        engine.dispose()


async def start_demo_board(settings: Settings, clock: Clock) -> tuple[RunningBoard, str]:
    """Start the board for the demo; returns it and the demo supervisor's password."""
    password = security.new_password()
    await asyncio.to_thread(_ensure_supervisor, settings.database_url.get_secret_value(), password)
    secure = os.environ.get("CDI_BOARD_SECURE_COOKIES", "false").lower() in ("1", "true", "yes")
    board_settings = settings.model_copy(
        update={
            "board_host": "127.0.0.1",
            "board_port": int(os.environ.get("CDI_BOARD_PORT") or free_port()),
            "board_secure_cookies": secure,
        }
    )
    return await start_board(board_settings, clock=clock), password
