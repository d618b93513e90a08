"""The ledger writer agent: the ledger topic's messages into the database, retrying until it can.

The rows are made and written by a ``LedgerWriter`` (``monitor.adapters.sql.ledger_writer``),
off the event loop. While the database is unreachable the sink holds its
batch and retries; the stream keeps its place in Kafka, so nothing is lost
and, because every write is an upsert, nothing is written twice. A message it
cannot read (only this worker writes the topic, so that is a bug or damage)
goes to the dead-letter topic with the reason, which names the field, never
its value.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence

from faust.types import Message

from monitor.adapters.clock import Clock
from monitor.adapters.kafka.publisher import Publisher
from monitor.adapters.prometheus.metrics import Metrics
from monitor.adapters.safe_errors import database_error, database_error_for_log
from monitor.adapters.sql.ledger_writer import LedgerWriteFailed, LedgerWriter
from monitor.adapters.wire.inbound import Rejected
from schemas.dead_letters import RejectionKind

log = logging.getLogger(__name__)


class LedgerSink:
    def __init__(
        self, *, writer: LedgerWriter, metrics: Metrics, publisher: Publisher, clock: Clock
    ) -> None:
        self.writer = writer
        self.metrics = metrics
        self.publisher = publisher
        self.clock = clock
        self.degraded_since: float | None = None
        self.last_error: str | None = None
        """The class (and SQLSTATE) of the last database error; its text may quote a row."""

    async def write(self, messages: Sequence[Message]) -> None:
        values = [message.value or b"" for message in messages]
        delay = 0.5
        while True:
            try:
                written = await self.writer.write(values)
            except Exception as exc:
                self.metrics.ledger_errors.inc()
                # Its class (and SQLSTATE), never its text: that may quote a row.
                if isinstance(exc, LedgerWriteFailed):
                    self.last_error, detail = exc.error, exc.detail
                else:
                    self.last_error, detail = database_error(exc), database_error_for_log(exc)
                if self.degraded_since is None:
                    self.degraded_since = time.time()
                    log.error("ledger write failed, retrying: %s", detail)
                self.metrics.ledger_degraded.set(1)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
                continue
            break
        if self.degraded_since is not None:
            log.warning("ledger writes recovered after %.1fs", time.time() - self.degraded_since)
        self.degraded_since = None
        self.last_error = None
        self.metrics.ledger_degraded.set(0)
        self.metrics.ledger_rows.inc(written.rows)
        for index, reason in written.unreadable:
            message = messages[index]
            log.error("unreadable message on %s: %s", message.topic, reason)
            rejected = Rejected(RejectionKind.INVALID, reason)
            await self.publisher.dead_letter(rejected, message, self.clock.now())
        await self.publisher.delivered()
