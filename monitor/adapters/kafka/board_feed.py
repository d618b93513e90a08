"""Keep the board's view current: the monitor's outputs from Kafka, and actions from the database.

The board reads ``recording-alerts`` and ``recording-outcomes`` across all
their partitions itself (manual assignment, no consumer group, from the
earliest offset), so one board sees what every worker published, and a
restarted board rebuilds its view from the topics. Partitions added later are
picked up within ``REFRESH_PARTITIONS_S``. Actions are read from the
``board_actions`` table in id order, so every board instance shows every
supervisor's actions, not just its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import timedelta

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from monitor.adapters.clock import Clock
from monitor.adapters.kafka.clients import aiokafka_options
from monitor.adapters.sql.board_store import BoardStore
from monitor.application.board.view import BoardView
from monitor.settings import Settings
from schemas.output_events import NotForTheBoard, decode

log = logging.getLogger(__name__)

REFRESH_PARTITIONS_S = 10.0
POLL_ACTIONS_S = 1.0
PRUNE_EVERY_S = 60.0
# Resolved alerts and measurements are kept this long: longer than "today",
# and than any re-announcement after a worker restart.
KEEP_FOR = timedelta(days=3)


def build_consumer(settings: Settings) -> AIOKafkaConsumer:
    """The board's Kafka consumer: the one place its connection settings are applied."""
    return AIOKafkaConsumer(
        **aiokafka_options(settings, client_id=f"{settings.app_id}-board"),
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )


async def _partitions(consumer: AIOKafkaConsumer, topics: list[str]) -> set[TopicPartition]:
    # A fresh metadata fetch: the consumer's cached cluster only knows assigned topics.
    cluster = await consumer._client.fetch_all_metadata()
    return {
        TopicPartition(topic, p)
        for topic in topics
        for p in (cluster.partitions_for_topic(topic) or set())
    }


class Feed:
    """Applies every record and action to ``view`` and calls ``changed()`` when the list moved."""

    def __init__(
        self,
        settings: Settings,
        view: BoardView,
        store: BoardStore,
        clock: Clock,
        changed: Callable[[], None],
    ) -> None:
        self.settings = settings
        self.view = view
        self.store = store
        self.clock = clock
        self.changed = changed
        self.topics = [settings.alerts_topic, settings.outcomes_topic]
        self.records_read = 0
        self.skipped = 0
        # True while the consumer is up and reading every topic: the page says when it is not.
        self.connected = False

    async def run(self, stop: asyncio.Event) -> None:
        await asyncio.gather(self._kafka(stop), self._actions(stop), self._prune(stop))

    async def _kafka(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            consumer = build_consumer(self.settings)
            try:
                await consumer.start()
                await self._consume(consumer, stop)
            except (KafkaError, OSError) as exc:
                self._connected(False)
                log.warning("board feed: Kafka unavailable (%s); retrying in 2 s", exc)
                await _sleep(stop, 2.0)
            finally:
                await consumer.stop()

    async def _consume(self, consumer: AIOKafkaConsumer, stop: asyncio.Event) -> None:
        assigned: set[TopicPartition] = set()
        next_refresh = 0.0
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            if loop.time() >= next_refresh:
                found = await _partitions(consumer, self.topics)
                if found - assigned:
                    positions = {tp: await consumer.position(tp) for tp in assigned}
                    consumer.assign(sorted(found | assigned))
                    for tp, offset in positions.items():
                        consumer.seek(tp, offset)
                    new = sorted(found - assigned)
                    await consumer.seek_to_beginning(*new)
                    log.info("board feed: reading %d partitions from the start", len(new))
                    assigned |= found
                # Until every topic exists, look again soon.
                ready = {tp.topic for tp in assigned} == set(self.topics)
                self._connected(ready)
                next_refresh = loop.time() + (REFRESH_PARTITIONS_S if ready else 1.0)
            if not assigned:
                await _sleep(stop, 0.5)
                continue
            batches = await consumer.getmany(timeout_ms=300, max_records=5000)
            moved = False
            for records in batches.values():
                for record in records:
                    self.records_read += 1
                    try:
                        fact = decode(record.value or b"")
                    except NotForTheBoard:
                        self.skipped += 1
                        continue
                    moved = self.view.apply(fact) or moved
            if moved:
                self.changed()

    def _connected(self, connected: bool) -> None:
        if connected != self.connected:
            self.connected = connected
            self.changed()

    async def _actions(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.poll_actions()
            await _sleep(stop, POLL_ACTIONS_S)

    async def poll_actions(self) -> None:
        """Apply actions stored since the last one seen (by any board instance)."""
        try:
            actions = await asyncio.to_thread(self.store.actions_after, self.view.last_action_id)
        except Exception as exc:  # the database may be down for a while: keep showing the board
            log.warning("board feed: cannot read actions (%s)", exc)
            return
        if any([self.view.apply_action(a) for a in actions]):
            self.changed()

    async def _prune(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await _sleep(stop, PRUNE_EVERY_S)
            self.view.prune(self.clock.now() - KEEP_FOR)


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
