"""``cdi-monitor board``: serve the live board until stopped (also used by ``demo``, the tests)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from dataclasses import dataclass

from aiohttp import web
from sqlalchemy import Engine

from monitor.adapters.clock import Clock, make_clock
from monitor.adapters.kafka.board_feed import Feed
from monitor.adapters.sql.board_store import BoardStore
from monitor.adapters.sql.ledger import make_engine
from monitor.adapters.sql.migrate import check_at_head, upgrade
from monitor.application.board.view import BoardView
from monitor.settings import Settings
from monitor.web.context import Board
from monitor.web.web import make_app

log = logging.getLogger(__name__)


@dataclass
class RunningBoard:
    """A board serving on ``url``; ``stop()`` ends it (browsers then try to reconnect)."""

    url: str
    board: Board
    feed: Feed
    engine: Engine
    runner: web.AppRunner
    stopping: asyncio.Event
    feed_task: asyncio.Task[None]

    async def stop(self) -> None:
        self.stopping.set()
        await self.runner.cleanup()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(self.feed_task, timeout=10)
        self.engine.dispose()


async def start_board(settings: Settings, clock: Clock | None = None) -> RunningBoard:
    """Check the ledger schema, start reading Kafka, and serve on the configured address."""
    engine = make_engine(settings.database_url.get_secret_value())
    await asyncio.to_thread(check_at_head, engine)
    clock = clock or make_clock(settings.clock_rate, settings.clock_origin)
    store = BoardStore(engine)
    board = Board(settings=settings, store=store, view=BoardView(), clock=clock)
    feed = Feed(settings, board.view, store, clock, board.changes.changed)
    board.poll_actions = feed.poll_actions
    board.feed_connected = lambda: feed.connected
    stopping = asyncio.Event()
    feed_task = asyncio.create_task(feed.run(stopping))
    runner = web.AppRunner(make_app(board), access_log=None, shutdown_timeout=5.0)
    await runner.setup()
    await web.TCPSite(runner, settings.board_host, settings.board_port).start()
    host = settings.board_host if settings.board_host not in ("0.0.0.0", "::") else "127.0.0.1"  # noqa: S104
    url = f"http://{host}:{settings.board_port}/"
    return RunningBoard(url, board, feed, engine, runner, stopping, feed_task)


def run_board(settings: Settings, migrate: bool = False) -> int:
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )

    async def serve() -> int:
        if migrate:
            await asyncio.to_thread(upgrade, settings.database_url.get_secret_value())
        running = await start_board(settings)
        print(f"cdi-monitor board: serving {running.url} (Ctrl-C stops)", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        await running.stop()
        return 0

    return asyncio.run(serve())
