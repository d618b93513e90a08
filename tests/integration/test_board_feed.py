"""The board's Kafka feed reads every partition, from the start, and skips what it cannot read."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from kafka.admin import KafkaAdminClient, NewTopic

from monitor.adapters.clock import SystemClock
from monitor.adapters.kafka.board_feed import Feed
from monitor.adapters.sql.board_store import BoardStore
from monitor.adapters.sql.ledger import make_engine
from monitor.adapters.sql.migrate import upgrade
from monitor.application.board.view import BoardView, Filters, snapshot
from monitor.settings import Settings
from tests.support.board_events import measured, overdue, resolved
from tests.support.kafka import Topics

pytestmark = pytest.mark.integration

PARTITIONS = 4
REPORTED = datetime.now(UTC) - timedelta(hours=30)


@pytest.fixture
def store(postgres_url: str) -> Iterator[BoardStore]:
    upgrade(postgres_url)
    engine = make_engine(postgres_url)
    yield BoardStore(engine)
    engine.dispose()


@pytest.fixture
def settings(broker: str, postgres_url: str) -> Settings:
    name = f"f{secrets.token_hex(4)}"
    s = Settings(
        kafka_bootstrap_servers=broker,
        database_url=postgres_url,
        alerts_topic=f"{name}-recording-alerts",
        outcomes_topic=f"{name}-recording-outcomes",
    )
    admin = KafkaAdminClient(bootstrap_servers=broker)
    try:
        admin.create_topics(
            [NewTopic(s.alerts_topic, PARTITIONS, 1), NewTopic(s.outcomes_topic, PARTITIONS, 1)]
        )
    finally:
        admin.close()
    return s


async def run_until(feed: Feed, done, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    stop = asyncio.Event()
    task = asyncio.create_task(feed.run(stop))
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while not done():
            assert asyncio.get_running_loop().time() < deadline, "the feed did not catch up"
            await asyncio.sleep(0.2)
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=15)


def new_feed(settings: Settings, store: BoardStore) -> tuple[Feed, BoardView, list[int]]:
    view = BoardView()
    changes: list[int] = []
    return Feed(settings, view, store, SystemClock(), lambda: changes.append(1)), view, changes


async def test_the_feed_reads_every_partition_from_the_start_and_a_new_board_rebuilds_it(
    settings: Settings, store: BoardStore, topics: Topics
) -> None:
    for i in range(12):
        incident = f"LP-F-{i:02d}"
        event = overdue(incident, REPORTED + timedelta(minutes=i))
        topics.producer.send(
            settings.alerts_topic, json.dumps(event).encode(), incident.encode(), partition=i % 4
        )
    # Three are recorded late: off the board, and measured for the figures.
    for i in range(3):
        incident = f"LP-F-{i:02d}"
        at = REPORTED + timedelta(hours=26)
        topics.producer.send(
            settings.alerts_topic,
            json.dumps(resolved(incident, REPORTED + timedelta(minutes=i), at)).encode(),
            incident.encode(),
            partition=i % 4,
        )
        topics.producer.send(
            settings.outcomes_topic,
            json.dumps(measured(incident, REPORTED + timedelta(minutes=i), at)).encode(),
            incident.encode(),
            partition=(i + 1) % 4,
        )
    topics.producer.send(settings.alerts_topic, b"{not json", b"junk", partition=2)
    topics.flush()

    feed, view, changes = new_feed(settings, store)
    await run_until(feed, lambda: feed.records_read >= 19)

    shown = [r["incident_id"] for r in snapshot(view, datetime.now(UTC), Filters())["rows"]]
    assert shown == [f"LP-F-{i:02d}" for i in range(3, 12)]
    assert set(view.measured) == {"LP-F-00", "LP-F-01", "LP-F-02"}
    assert feed.skipped == 1
    assert changes

    again, rebuilt, _ = new_feed(settings, store)
    await run_until(again, lambda: again.records_read >= 19)
    assert [
        r["incident_id"] for r in snapshot(rebuilt, datetime.now(UTC), Filters())["rows"]
    ] == shown


async def test_a_board_started_before_the_topics_exist_picks_them_up(
    broker: str, postgres_url: str, store: BoardStore, topics: Topics
) -> None:
    name = f"g{secrets.token_hex(4)}"
    settings = Settings(
        kafka_bootstrap_servers=broker,
        database_url=postgres_url,
        alerts_topic=f"{name}-recording-alerts",
        outcomes_topic=f"{name}-recording-outcomes",
    )
    feed, view, _ = new_feed(settings, store)
    stop = asyncio.Event()
    task = asyncio.create_task(feed.run(stop))
    try:
        await asyncio.sleep(1.5)  # the board is up, reading nothing yet
        admin = KafkaAdminClient(bootstrap_servers=broker)
        try:
            admin.create_topics(
                [NewTopic(settings.alerts_topic, 2, 1), NewTopic(settings.outcomes_topic, 2, 1)]
            )
        finally:
            admin.close()
        topics.send(settings.alerts_topic, "LP-LATE", overdue("LP-LATE", REPORTED))
        topics.flush()
        for _ in range(100):
            if "LP-LATE" in view.alerts:
                break
            await asyncio.sleep(0.2)
        assert "LP-LATE" in view.alerts
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=15)
