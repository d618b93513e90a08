"""The board's open event streams, by session: each ends soon after its session does.

A browser keeps ``/api/events`` open all shift. When its session ends
(signed out, the user removed or their password changed, the session
expired, on this board or on another one sharing the database) the stream
must stop too, not carry on showing the board for the rest of a heartbeat.

- Signing out on this board ends the session's streams at once.
- One watcher checks every open stream's session in one query every
  ``check_every_s`` (1 s), and ends those whose session is gone: within 2 s.
- A session may hold at most ``per_session`` streams (4: a few tabs); one
  more is refused, so a stolen or scripted session cannot hold many.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

LiveSessions = Callable[[set[str]], Awaitable[set[str]]]
"""Of these session token hashes, the ones still live."""


class TooManyStreams(Exception):
    pass


@dataclass(eq=False)
class Stream:
    token_hash: str
    ended: asyncio.Event = field(default_factory=asyncio.Event)


class SessionStreams:
    def __init__(self, per_session: int = 4, check_every_s: float = 1.0) -> None:
        self.per_session = per_session
        self.check_every_s = check_every_s
        self._open: dict[str, list[Stream]] = {}
        self._watcher: asyncio.Task[None] | None = None
        self._live: LiveSessions | None = None

    @contextlib.contextmanager
    def open(self, token_hash: str, live: LiveSessions) -> Iterator[Stream]:
        """Register a stream of the session ``token_hash`` (raise ``TooManyStreams`` if full)."""
        streams = self._open.setdefault(token_hash, [])
        if len(streams) >= self.per_session:
            raise TooManyStreams(f"at most {self.per_session} event streams per session")
        stream = Stream(token_hash)
        streams.append(stream)
        self._live = live
        if self._watcher is None or self._watcher.done():
            self._watcher = asyncio.create_task(self._watch())
        try:
            yield stream
        finally:
            streams.remove(stream)
            if not streams and self._open.get(token_hash) is streams:
                del self._open[token_hash]

    def count(self, token_hash: str) -> int:
        return len(self._open.get(token_hash, []))

    def close(self) -> None:
        """Stop watching (the board is shutting down; its streams end with it)."""
        if self._watcher is not None:
            self._watcher.cancel()

    def end(self, token_hash: str) -> None:
        """End every stream of this session now."""
        for stream in self._open.get(token_hash, []):
            stream.ended.set()

    async def _watch(self) -> None:
        while self._open:
            await asyncio.sleep(self.check_every_s)
            watched = set(self._open)
            if not watched or self._live is None:
                continue
            try:
                live = await self._live(watched)
            except Exception as exc:  # the database may be down: keep the streams until it is back
                log.warning("board: cannot check open streams' sessions (%s)", type(exc).__name__)
                continue
            for token_hash in watched - live:
                self.end(token_hash)
