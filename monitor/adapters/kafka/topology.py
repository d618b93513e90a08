"""The topics the worker needs, created when missing, and checked for co-partitioning.

The incident clock joins ``incidents`` with its own links topic in one agent
and one table, so those two (and the table's changelog) must have the same
partition count: the links topic always takes the count of ``incidents``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from monitor.adapters.kafka.clients import describe, kafka_python_options
from monitor.settings import Settings

log = logging.getLogger(__name__)

# The monitor's own topics are work queues, not records: a week is plenty.
_INTERNAL_RETENTION_MS = str(7 * 24 * 3600 * 1000)


class TopologyError(Exception):
    """The broker cannot be reached, or the topics cannot work together."""


@dataclass(frozen=True)
class Topology:
    """Topic names and partition counts this worker runs with."""

    incidents: str
    crime_records: str
    links: str
    ledger: str
    outcomes: str
    alerts: str
    dead_letters: str
    partitions: int
    crime_partitions: int
    # The embedded broker (tansu): its consumer differs (adapters/faust/embedded_consumer.py).
    embedded_broker: bool = False
    referrals: str = "victim-referrals"

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        partitions: int,
        crime_partitions: int,
        embedded_broker: bool = False,
    ) -> Topology:
        return cls(
            incidents=settings.incidents_topic,
            crime_records=settings.crime_records_topic,
            links=f"{settings.app_id}-links",
            ledger=f"{settings.app_id}-ledger",
            outcomes=settings.outcomes_topic,
            alerts=settings.alerts_topic,
            dead_letters=settings.dead_letter_topic,
            partitions=partitions,
            crime_partitions=crime_partitions,
            embedded_broker=embedded_broker,
            referrals=settings.referrals_topic,
        )


def _admin(settings: Settings, timeout_s: float) -> KafkaAdminClient:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return KafkaAdminClient(
                **kafka_python_options(settings, client_id=f"{settings.app_id}-admin"),
                request_timeout_ms=15_000,
                bootstrap_timeout_ms=max(int(timeout_s * 1000), 1000),
            )
        except (KafkaError, OSError) as exc:
            if time.monotonic() > deadline:
                raise TopologyError(
                    f"cannot reach Kafka at {describe(settings)} "
                    f"(CDI_KAFKA_BOOTSTRAP_SERVERS, CDI_KAFKA_SECURITY_PROTOCOL): {exc}"
                ) from None
            time.sleep(1.0)


def partition_counts(admin: KafkaAdminClient, names: list[str]) -> dict[str, int]:
    existing = set(admin.list_topics())
    wanted = [n for n in names if n in existing]
    if not wanted:
        return {}
    return {t["name"]: len(t["partitions"]) for t in admin.describe_topics(wanted)}


def ensure_topics(settings: Settings) -> Topology:
    """Create what is missing and return the partition counts the worker must use."""
    admin = _admin(settings, settings.startup_timeout.total_seconds())
    try:
        draft = Topology.from_settings(settings, 0, 0)
        external = [
            draft.incidents,
            draft.crime_records,
            draft.outcomes,
            draft.alerts,
            draft.dead_letters,
            draft.referrals,
        ]
        _create(admin, settings, external, settings.topic_partitions, {})
        counts = partition_counts(admin, [draft.incidents, draft.crime_records])
        partitions = counts[draft.incidents]
        if partitions != settings.topic_partitions:
            log.warning(
                "topic %s already has %d partitions (CDI_TOPIC_PARTITIONS=%d): using %d",
                draft.incidents,
                partitions,
                settings.topic_partitions,
                partitions,
            )
        internal_config = {"retention.ms": _INTERNAL_RETENTION_MS}
        _create(admin, settings, [draft.links], partitions, internal_config)
        _create(admin, settings, [draft.ledger], settings.topic_partitions, internal_config)
        links = partition_counts(admin, [draft.links])[draft.links]
        if links != partitions:
            raise TopologyError(
                f"topic {draft.links} has {links} partitions but {draft.incidents} has "
                f"{partitions}: they must match (co-partitioned). Delete {draft.links} and the "
                f"table changelog {settings.app_id}-incidents-changelog, or use a new CDI_APP_ID."
            )
        tansu = admin.describe_cluster().get("cluster_id", "").startswith("tansu")
        if tansu:
            log.warning(
                "the broker is tansu: reading end offsets from fetches and waiting at most "
                "50 ms a fetch (monitor/adapters/faust/embedded_consumer.py)"
            )
        return Topology.from_settings(settings, partitions, counts[draft.crime_records], tansu)
    finally:
        admin.close()


def _create(
    admin: KafkaAdminClient,
    settings: Settings,
    names: list[str],
    partitions: int,
    config: dict[str, str],
) -> None:
    existing = set(admin.list_topics())
    for name in names:
        if name in existing:
            continue
        topic = NewTopic(name, partitions, settings.topic_replication, topic_configs=config)
        try:
            admin.create_topics([topic])
            log.info("created topic %s with %d partitions", name, partitions)
        except TopicAlreadyExistsError:
            pass  # another worker created it first
