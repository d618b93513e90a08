"""The recording clock's handler, given batches of messages as Faust delivers them.

Real handler, table and application services; sends are captured (see
``tests.support.harness``), so each test reads what one batch published, in
what order, and what it saved.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from monitor.adapters.kafka.partitioning import partition_for
from monitor.adapters.wire.internal_messages import decode_ledger, encode_links, encode_watermark
from monitor.domain.inputs import CrimeLinked
from tests.support import events as ev
from tests.support.harness import Harness, harness

NOW = datetime.now(UTC).replace(microsecond=0)
H = timedelta(hours=1)


def raw(event: dict[str, Any]) -> bytes:
    return json.dumps(event).encode()


def incident_on(partition: int, partitions: int, prefix: str = "INC") -> str:
    """An incident id whose key hashes to ``partition``."""
    return next(
        f"{prefix}-{n}"
        for n in range(10_000)
        if partition_for(f"{prefix}-{n}", partitions) == partition
    )


@pytest.fixture
def h() -> Harness:
    return harness()


async def test_a_crime_for_an_incident_this_worker_owns_is_applied_at_once(h: Harness) -> None:
    t = h.topology
    await h.batch(
        h.message(t.incidents, raw(ev.reported("INC-1", NOW - 3 * H)), b"INC-1"),
        h.message(t.crime_records, raw(ev.recorded("CR-1", ["INC-1"], NOW - 2 * H)), b"INC-1"),
    )
    (measured,) = h.on(t.outcomes)
    assert measured.json["type"] == "cdi.recording.measured"
    assert measured.json["data"]["elapsed_seconds"] == 3600.0
    assert h.on(t.links) == []  # no round trip through the links topic
    assert h.state("INC-1")["recording"]["crime_id"] == "CR-1"


async def test_links_for_partitions_owned_elsewhere_go_as_one_record_per_partition() -> None:
    h = harness(partitions=4, owned={0})
    t = h.topology
    remote = [incident_on(p, 4) for p in (1, 1, 2)]
    remote[1] = next(f"INC-{n}" for n in range(1000, 2000) if partition_for(f"INC-{n}", 4) == 1)
    local = incident_on(0, 4)
    crimes = [
        h.message(t.crime_records, raw(ev.recorded(f"CR-{i}", [incident], NOW)), b"k")
        for i, incident in enumerate([*remote, local])
    ]
    await h.batch(*crimes)
    links = h.on(t.links)
    assert sorted(s.partition for s in links) == [1, 2]
    by_partition = {s.partition: s.json["links"] for s in links}
    assert [link["incident_id"] for link in by_partition[1]] == remote[:2]
    assert [link["incident_id"] for link in by_partition[2]] == remote[2:]
    assert h.state(local)["recording"]["crime_id"] == "CR-3"


async def test_a_links_record_from_another_worker_measures_its_incidents(h: Harness) -> None:
    t = h.topology
    link = CrimeLinked("e", "INC-1", "CR-1", NOW - 2 * H)
    (record,) = encode_links([link], [])
    await h.batch(
        h.message(t.incidents, raw(ev.reported("INC-1", NOW - 3 * H)), b"INC-1"),
        h.message(t.links, record),
    )
    (measured,) = h.on(t.outcomes)
    assert measured.key == b"INC-1" and measured.json["data"]["crime_id"] == "CR-1"


async def test_a_links_message_written_one_per_link_by_an_earlier_version_is_read(
    h: Harness,
) -> None:
    t = h.topology
    legacy = {
        "kind": "link",
        "event_id": "e",
        "incident_id": "INC-1",
        "crime_id": "CR-1",
        "recorded_at": ev.stamp(NOW - 2 * H),
    }
    await h.batch(
        h.message(t.incidents, raw(ev.reported("INC-1", NOW - 3 * H)), b"INC-1"),
        h.message(t.links, raw(legacy), b"INC-1"),
    )
    assert [s.json["type"] for s in h.on(t.outcomes)] == ["cdi.recording.measured"]


async def test_the_crime_counts_a_crime_with_no_incident_as_unlinked(h: Harness) -> None:
    t = h.topology
    await h.batch(h.message(t.crime_records, raw(ev.recorded("CR-9", [], NOW)), b"CR-9"))
    assert h.on(t.links) == []
    assert h.monitor.metrics.crimes_unlinked._value.get() == 1
    (ledger,) = h.on(t.ledger)
    assert [c["crime_id"] for c in ledger.json["recorded"]] == ["CR-9"]


async def test_a_crime_redelivered_with_the_same_id_has_no_second_effect() -> None:
    h = harness(partitions=2, owned={0})
    t = h.topology
    event = raw(ev.recorded("CR-1", [incident_on(1, 2)], NOW, event_id="same-id"))
    await h.batch(h.message(t.crime_records, event, b"k"), h.message(t.crime_records, event, b"k"))
    (links,) = h.on(t.links)
    assert len(links.json["links"]) == 1


async def test_a_malformed_crime_record_is_dead_lettered_and_the_next_one_still_applied(
    h: Harness,
) -> None:
    t = h.topology
    await h.batch(
        h.message(t.crime_records, b'{"specversion": "1.0"', b"x"),
        h.message(t.incidents, raw(ev.reported("INC-2", NOW - H)), b"INC-2"),
        h.message(t.crime_records, raw(ev.recorded("CR-2", ["INC-2"], NOW)), b"INC-2"),
    )
    (letter,) = h.on(t.dead_letters)
    assert letter.json["data"]["kind"] == "not_json"
    assert letter.json["data"]["value_base64"] == "eyJzcGVjdmVyc2lvbiI6ICIxLjAi"
    assert len(h.on(t.outcomes)) == 1


async def test_alerts_are_raised_only_once_every_input_is_read_past_their_points(
    h: Harness,
) -> None:
    t = h.topology

    def alerts() -> list[str]:
        return [s.json["type"] for s in h.on(t.alerts)]

    def tick(mark: datetime) -> Any:
        return h.message(t.links, encode_watermark(1, [(0, mark)]))

    await h.batch(
        h.message(t.incidents, raw(ev.reported("INC-1", NOW - 30 * H)), b"INC-1"),
        h.message(t.incidents, raw(ev.reported("INC-2", NOW - 7 * H)), b"INC-2"),
    )
    # crime-records is read up to 8 hours ago: INC-1's warning point (10 h ago)
    # has passed, its deadline (6 h ago) not yet.
    await h.batch(tick(NOW - 8 * H))
    assert alerts() == ["cdi.recording.due_soon"]
    # incidents is read only up to INC-2's report, 7 hours ago, and the broker
    # may hold more: the deadline is still not known to have passed.
    await h.batch(tick(NOW))
    assert alerts() == ["cdi.recording.due_soon"]
    h.catch_up(2)
    await h.batch(tick(NOW))
    # Caught up on incidents: the clock reads now, and INC-1 is overdue.
    assert alerts() == ["cdi.recording.due_soon", "cdi.recording.overdue"]


async def test_an_incident_event_on_the_wrong_partition_goes_to_its_own_partition() -> None:
    h = harness(partitions=4, owned={0, 1, 2, 3} - {2})
    t = h.topology
    elsewhere, here = incident_on(2, 4), incident_on(3, 4)
    await h.batch(
        h.message(t.incidents, raw(ev.reported(elsewhere, NOW)), b"other", partition=0),
        h.message(t.incidents, raw(ev.reported(here, NOW)), b"other", partition=0),
    )
    (rerouted,) = h.on(t.links)
    assert rerouted.partition == 2
    assert json.loads(rerouted.json["incidents"][0])["data"]["incident_id"] == elsewhere
    assert h.state(here) is not None and h.state(elsewhere) is None
    assert h.monitor.metrics.events_rerouted._value.get() == 2


async def test_an_invalid_incident_event_is_dead_lettered_with_the_reason(h: Harness) -> None:
    bad = ev.reported("INC-1", NOW)
    bad["data"]["crime_related"] = "yes"
    await h.batch(h.message(h.topology.incidents, raw(bad), b"INC-1"))
    (letter,) = h.on(h.topology.dead_letters)
    data = letter.json["data"]
    assert data["kind"] == "invalid" and "data.crime_related" in data["reason"]
    assert data["source_topic"] == h.topology.incidents and data["event_id"] == bad["id"]


async def test_an_unreadable_links_message_is_dead_lettered_naming_the_field_not_the_value(
    h: Harness,
) -> None:
    bad = {"kind": "link", "event_id": 7, "victim_ref": "V-SECRET-4711"}
    await h.batch(h.message(h.topology.links, raw(bad)))
    (letter,) = h.on(h.topology.dead_letters)
    assert "event_id" in letter.json["data"]["reason"]
    assert "V-SECRET-4711" not in letter.json["data"]["reason"]


async def test_a_batch_saves_each_changed_incident_once_after_its_announcements(
    h: Harness,
) -> None:
    t = h.topology
    h.catch_up(0)  # every input is read: the partition's clock is now
    await h.batch(
        h.message(t.links, encode_watermark(1, [(0, NOW)])),
        h.message(t.incidents, raw(ev.reported("INC-1", NOW - 30 * H)), b"INC-1"),
        h.message(t.incidents, raw(ev.closed("INC-1", NOW - 2 * H)), b"INC-1"),
        h.message(t.incidents, raw(ev.reported("INC-2", NOW - 1 * H)), b"INC-2"),
    )
    topics = [s.topic for s in h.sent]
    changelog = [s for s in h.sent if s.topic.endswith("-incidents-changelog")]
    assert sorted(s.key for s in changelog) == [b"INC-1", b"INC-2"]  # once each
    last_announcement = max(i for i, topic in enumerate(topics) if topic == t.outcomes)
    assert topics.index(changelog[0].topic) > last_announcement
    assert json.loads(changelog[0].value or b"")["closure"]["closing_code"] == "no_crime"


async def test_a_batch_whose_announcements_were_not_delivered_saves_nothing(h: Harness) -> None:
    t = h.topology
    h.failing = True
    with pytest.raises(ConnectionError):
        await h.batch(h.message(t.incidents, raw(ev.reported("INC-1", NOW - 30 * H)), b"INC-1"))
    assert h.state("INC-1") is None
    assert not [s for s in h.sent if s.topic.endswith("-changelog")]


async def test_the_next_batch_is_handled_while_the_last_waits_for_the_broker(h: Harness) -> None:
    """A batch's save waits for the broker; the next batch reads its states meanwhile.

    Each batch is saved and acknowledged only once the broker has its records,
    in the order the batches were read.
    """
    t, clock = h.topology, h.monitor.clock_handler
    h.slow = True
    acked: list[str] = []

    def release(name: str):  # type: ignore[no-untyped-def]
        async def ack() -> None:
            acked.append(name)

        return ack

    first = [h.message(t.incidents, raw(ev.reported("INC-1", NOW - 3 * H)), b"INC-1")]
    await clock.on_batch(first, release("first"))
    assert h.state("INC-1") is None and acked == []  # not saved: nothing delivered yet
    assert not [s for s in h.sent if s.topic.endswith("-changelog")]

    second = [
        h.message(t.crime_records, raw(ev.recorded("CR-1", ["INC-1"], NOW - 2 * H)), b"INC-1")
    ]
    handling = asyncio.create_task(clock.on_batch(second, release("second")))
    await asyncio.sleep(0.01)
    # The second batch measured the recording against the first's unsaved report.
    (measured,) = h.on(t.outcomes)
    assert measured.json["data"]["elapsed_seconds"] == 3600.0
    assert not handling.done()  # it waits for the first batch's save before its own
    assert h.state("INC-1") is None and acked == []

    h.deliver()  # the first batch's records (the second's too)
    await asyncio.sleep(0.01)
    assert h.state("INC-1").get("recording") is None  # the first batch's state, stored
    assert acked == []  # its changelog record is not on the broker yet
    h.deliver()
    await asyncio.sleep(0.01)
    assert acked == ["first"]
    await handling
    h.deliver()  # the second batch's changelog record
    await clock.settled()
    assert acked == ["first", "second"]
    assert h.state("INC-1")["recording"]["crime_id"] == "CR-1"
    changelog = [s for s in h.sent if s.topic.endswith("-changelog")]
    assert [json.loads(s.value or b"").get("recording") is None for s in changelog] == [True, False]


async def test_a_failed_save_is_raised_by_the_next_batch_and_both_are_acknowledged(
    h: Harness,
) -> None:
    t, clock = h.topology, h.monitor.clock_handler
    acked: list[str] = []

    def release(name: str):  # type: ignore[no-untyped-def]
        async def ack() -> None:
            acked.append(name)

        return ack

    h.failing = True
    report = h.message(t.incidents, raw(ev.reported("INC-1", NOW - 3 * H)), b"INC-1")
    await clock.on_batch([report], release("first"))
    h.failing = False
    crime = h.message(t.crime_records, raw(ev.recorded("CR-1", ["INC-1"], NOW - 2 * H)), b"INC-1")
    with pytest.raises(ConnectionError):
        await clock.on_batch([crime], release("second"))
    # Faust waits for every message it handed over to be acknowledged, failed or not.
    assert acked == ["first", "second"]
    assert h.state("INC-1") is None
    assert not [s for s in h.sent if s.topic.endswith("-changelog")]
    assert clock.table.get("INC-1") is None  # nothing of either batch is pending


async def test_one_ledger_record_carries_the_batch_s_states_and_crimes(h: Harness) -> None:
    t = h.topology
    await h.batch(
        h.message(t.incidents, raw(ev.reported("INC-1", NOW - 3 * H)), b"INC-1"),
        h.message(t.crime_records, raw(ev.recorded("CR-1", ["INC-1"], NOW - 2 * H)), b"INC-1"),
        h.message(t.crime_records, raw(ev.cancelled("CR-1", NOW - H)), b"INC-1"),
    )
    (record,) = h.on(t.ledger)
    batch = decode_ledger(record.value or b"")
    assert [s.incident_id for s in batch.incidents] == ["INC-1"]
    assert batch.incidents[0].recording is not None
    assert [c.crime_id for c in batch.recorded] == ["CR-1"]
    assert [c.crime_id for c in batch.cancelled] == ["CR-1"]
    # The state in the ledger record is the very bytes saved in the changelog.
    (saved,) = [s for s in h.sent if s.topic.endswith("-changelog")]
    assert (saved.value or b"").decode() in (record.value or b"").decode()
