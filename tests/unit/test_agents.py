"""The agents, driven through Faust's test context: no broker, real agent code and table.

Sends are captured instead of going to Kafka, so each test reads what an agent
would have published for the messages it was given.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from monitor.application.ledger import InMemoryLedger
from monitor.clock import SystemClock
from monitor.settings import Settings
from schemas.internal import WatermarkMessage
from streams.app import Monitor, build
from streams.partitioning import partition_for
from streams.topology import Topology
from tests.support import events as ev

NOW = datetime.now(UTC).replace(microsecond=0)
H = timedelta(hours=1)


@dataclass
class Sent:
    topic: str
    key: bytes | None
    value: bytes
    partition: int | None

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.value)


@dataclass
class Harness:
    monitor: Monitor
    sent: list[Sent] = field(default_factory=list)

    def on(self, topic: str) -> list[Sent]:
        return [s for s in self.sent if s.topic == topic]

    @property
    def topology(self) -> Topology:
        return self.monitor.topology

    @asynccontextmanager
    async def agent(self, name: str, topic: str) -> AsyncIterator[Any]:
        async with self.monitor.app.agents[name].test_context() as agent:
            # The clock agent reads two topics; say which one each test message came from.
            agent.original_channel = self.monitor.app.topic(topic)
            yield agent


def harness(partitions: int = 1) -> Harness:
    settings = Settings(kafka_bootstrap_servers="127.0.0.1:1", app_id="unit")
    monitor = build(
        settings,
        Topology.from_settings(settings, partitions, 1),
        clock=SystemClock(),
        ledger_factory=InMemoryLedger,
    )
    h = Harness(monitor)
    publisher = monitor.clock_handler.publisher
    for topic in [*publisher.outputs.values(), publisher.links, publisher.ledger]:
        topic.send = capturing(h, topic.get_topic_name())  # type: ignore[method-assign]
    # No broker: say every input partition is caught up to what was processed.
    monitor.clock_handler.progress.highwater = lambda tp: None  # type: ignore[method-assign]
    return h


def capturing(h: Harness, name: str):
    async def send(key=None, value=None, partition=None, **_):
        h.sent.append(Sent(name, key, value, partition))

    return send


def raw(event: dict[str, Any]) -> bytes:
    return json.dumps(event).encode()


@pytest.fixture
def h() -> Iterator[Harness]:
    yield harness()


async def test_the_crime_router_sends_one_link_per_named_incident_and_the_crime_to_the_ledger(
    h: Harness,
) -> None:
    async with h.agent("crime-router", h.topology.crime_records) as agent:
        await agent.put(raw(ev.recorded("CR-1", ["INC-1", "INC-2", "INC-1"], NOW)), key=b"INC-1")
    links = h.on(h.topology.links)
    assert [(s.key, s.json["crime_id"]) for s in links] == [(b"INC-1", "CR-1"), (b"INC-2", "CR-1")]
    (ledger,) = h.on(h.topology.ledger)
    assert ledger.json["kind"] == "crime_recorded" and ledger.key == b"CR-1"


async def test_the_crime_router_counts_a_crime_with_no_incident_as_unlinked(h: Harness) -> None:
    async with h.agent("crime-router", h.topology.crime_records) as agent:
        await agent.put(raw(ev.recorded("CR-9", [], NOW)), key=b"CR-9")
    assert h.on(h.topology.links) == []
    assert h.monitor.metrics.crimes_unlinked._value.get() == 1


async def test_the_crime_router_ignores_an_event_redelivered_with_the_same_id(h: Harness) -> None:
    event = raw(ev.recorded("CR-1", ["INC-1"], NOW, event_id="same-id"))
    async with h.agent("crime-router", h.topology.crime_records) as agent:
        await agent.put(event, key=b"INC-1")
        await agent.put(event, key=b"INC-1")
    assert len(h.on(h.topology.links)) == 1


async def test_a_malformed_crime_record_is_dead_lettered_and_the_next_one_still_routed(
    h: Harness,
) -> None:
    async with h.agent("crime-router", h.topology.crime_records) as agent:
        await agent.put(b'{"specversion": "1.0"', key=b"x")
        await agent.put(raw(ev.recorded("CR-2", ["INC-2"], NOW)), key=b"INC-2")
    (letter,) = h.on(h.topology.dead_letters)
    assert letter.json["data"]["kind"] == "not_json"
    assert letter.json["data"]["value_base64"] == "eyJzcGVjdmVyc2lvbiI6ICIxLjAi"
    assert len(h.on(h.topology.links)) == 1


async def test_the_clock_measures_an_incident_when_its_link_arrives(h: Harness) -> None:
    async with h.agent("recording-clock", h.topology.incidents) as agent:
        await agent.put(raw(ev.reported("INC-1", NOW - 3 * H)), key=b"INC-1")
        agent.original_channel = h.monitor.app.topic(h.topology.links)
        link = {
            "kind": "link",
            "event_id": "e",
            "incident_id": "INC-1",
            "crime_id": "CR-1",
            "recorded_at": ev.stamp(NOW - 2 * H),
        }
        await agent.put(raw(link), key=b"INC-1")
    (measured,) = h.on(h.topology.outcomes)
    assert measured.json["type"] == "cdi.recording.measured"
    assert measured.json["data"]["elapsed_seconds"] == 3600.0
    assert measured.key == b"INC-1"
    assert [s.json["kind"] for s in h.on(h.topology.ledger)] == ["incident", "incident"]


async def test_the_clock_raises_alerts_only_once_every_input_is_read_past_their_points(
    h: Harness,
) -> None:
    behind = WatermarkMessage(source_partitions=1, marks=[(0, NOW - 8 * H)])
    current = WatermarkMessage(source_partitions=1, marks=[(0, NOW)])

    def alerts() -> list[str]:
        return [s.json["type"] for s in h.on(h.topology.alerts)]

    async with h.agent("recording-clock", h.topology.incidents) as agent:
        await agent.put(raw(ev.reported("INC-1", NOW - 30 * H)), key=b"INC-1")
        await agent.put(raw(ev.reported("INC-2", NOW - 7 * H)), key=b"INC-2")
        agent.original_channel = h.monitor.app.topic(h.topology.links)
        await agent.put(behind.model_dump_json().encode(), partition=0)
        # crime-records is read up to 8 hours ago: INC-1's warning point (10 h ago)
        # has passed, its deadline (6 h ago) not yet.
        assert alerts() == ["cdi.recording.due_soon"]
        await agent.put(current.model_dump_json().encode(), partition=0)
        # incidents is read only up to INC-2's report, 7 hours ago, and the broker
        # may hold more: the deadline is still not known to have passed.
        assert alerts() == ["cdi.recording.due_soon"]
        h.monitor.clock_handler.progress.highwater = lambda tp: 2  # type: ignore[method-assign]
        await agent.put(current.model_dump_json().encode(), partition=0)
    # Caught up on incidents: the clock reads now, and INC-1 is overdue.
    assert alerts() == ["cdi.recording.due_soon", "cdi.recording.overdue"]


async def test_an_incident_event_on_the_wrong_partition_is_rerouted_by_its_incident_id() -> None:
    h = harness(partitions=4)
    incident = "INC-7"
    wrong = (partition_for(incident, 4) + 1) % 4
    async with h.agent("recording-clock", h.topology.incidents) as agent:
        await agent.put(raw(ev.reported(incident, NOW)), key=b"other", partition=wrong)
    (rerouted,) = h.on(h.topology.links)
    assert rerouted.key == incident.encode() and rerouted.json["kind"] == "incident"
    assert h.on(h.topology.ledger) == []


async def test_an_invalid_incident_event_is_dead_lettered_with_the_reason(h: Harness) -> None:
    bad = ev.reported("INC-1", NOW)
    bad["data"]["crime_related"] = "yes"
    async with h.agent("recording-clock", h.topology.incidents) as agent:
        await agent.put(raw(bad), key=b"INC-1")
    (letter,) = h.on(h.topology.dead_letters)
    data = letter.json["data"]
    assert data["kind"] == "invalid" and "data.crime_related" in data["reason"]
    assert data["source_topic"] == h.topology.incidents and data["event_id"] == bad["id"]


async def test_each_saved_state_records_the_message_that_changed_it(h: Harness) -> None:
    async with h.agent("recording-clock", h.topology.incidents) as agent:
        await agent.put(raw(ev.reported("INC-1", NOW - 3 * H)), key=b"INC-1")
        await agent.put(raw(ev.closed("INC-1", NOW - 2 * H)), key=b"INC-1")
    store = h.monitor.service.store
    ((state, trigger),) = list(store.stored())
    assert state.incident_id == "INC-1" and trigger == (h.topology.incidents, 1)


TICK = WatermarkMessage(source_partitions=1, marks=[(0, NOW)]).model_dump_json().encode()


async def overdue_then_restarted(h: Harness, agent: Any) -> list[bytes]:
    """INC-1 goes overdue on a tick (message offset 1); then the worker 'restarts'.

    The restart is what a new assignment does: the table is recovered and the
    re-announcer indexes each stored state's trigger.
    """
    h.monitor.clock_handler.progress.highwater = lambda tp: 1  # type: ignore[method-assign]
    await agent.put(raw(ev.reported("INC-1", NOW - 30 * H)), key=b"INC-1")
    agent.original_channel = h.monitor.app.topic(h.topology.links)
    await agent.put(TICK, partition=0)
    announced = [s.value for s in h.on(h.topology.alerts)]
    assert len(announced) == 2  # due soon and overdue
    h.monitor.clock_handler.recovery.index(
        h.monitor.service.store.stored(), {0}, lambda key: partition_for(key, 1)
    )
    h.sent.clear()
    return announced


async def test_after_a_restart_what_was_announced_since_the_last_commit_is_announced_again(
    h: Harness,
) -> None:
    async with h.agent("recording-clock", h.topology.incidents) as agent:
        announced = await overdue_then_restarted(h, agent)
    async with h.agent("recording-clock", h.topology.links) as agent:
        await agent.put(TICK, partition=0)  # processing resumes at offset 0, before the tick
    assert [s.value for s in h.on(h.topology.alerts)] == announced  # the same bytes and ids


async def test_nothing_is_announced_again_when_processing_resumes_after_the_change(
    h: Harness,
) -> None:
    async with h.agent("recording-clock", h.topology.incidents) as agent:
        await overdue_then_restarted(h, agent)
        await agent.put(TICK, partition=0)  # offset 2: the tick at offset 1 was committed
    assert h.on(h.topology.alerts) == []
