"""The Faust application: topics, the incident table, the agents, the timer and the web pages.

``build`` wires one worker from settings; agents stay thin and hand every
message to a handler in ``streams.handlers``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import faust
from faust.types import TP
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from monitor.application.backlog import BacklogIndex, TrackedIncidentStore
from monitor.application.ledger import Ledger
from monitor.application.recording_clock import RecordingClock
from monitor.clock import Clock
from monitor.kafka_clients import faust_credentials
from monitor.settings import Settings
from schemas.dead_letters import RejectionKind
from streams.consumer import SafeSeekTransport, use_transport
from streams.embedded_broker import use_embedded_broker_consumer
from streams.gauges import worker_gauges
from streams.handlers import LEDGER, ClockHandler, CrimeRouter, LedgerSink, WatermarkTicker
from streams.inbound import Rejected
from streams.internal_inbound import readable
from streams.label_limits import label_caps
from streams.metrics import Metrics
from streams.outbound import Stream
from streams.partitioning import partition_for
from streams.progress import ConsumerProgress
from streams.publisher import Publisher
from streams.recovery import Reannouncer
from streams.safe_errors import describe, log_failure
from streams.table_store import TableIncidentStore
from streams.topology import Topology

log = logging.getLogger(__name__)

_RAW: dict[str, Any] = dict(
    key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw"
)


@dataclass
class WorkerStatus:
    started_at: float = field(default_factory=time.time)
    recovered_at: float | None = None
    rebalancing: bool = True
    incidents_held: int = 0


@dataclass
class Monitor:
    """One worker's parts, for the CLI to run and the tests to inspect."""

    app: faust.App
    settings: Settings
    topology: Topology
    metrics: Metrics
    service: RecordingClock
    sink: LedgerSink
    status: WorkerStatus
    clock_handler: ClockHandler

    def health(self) -> tuple[int, dict[str, Any]]:
        degraded = self.sink.degraded_since is not None
        body = {
            "status": "degraded" if degraded else "ok",
            "app_id": self.settings.app_id,
            "uptime_seconds": round(time.time() - self.status.started_at, 1),
            "ready": self.status.recovered_at is not None and not self.status.rebalancing,
            "ledger": {
                "status": "degraded" if degraded else "ok",
                "degraded_for_seconds": None
                if not degraded
                else round(time.time() - (self.sink.degraded_since or 0), 1),
                "last_error": self.sink.last_error,
            },
            "partitions": sorted(self.clock_handler.clocks),
        }
        return 200, body


def build(
    settings: Settings,
    topology: Topology,
    *,
    clock: Clock,
    ledger_factory: Callable[[], Ledger],
    metrics: Metrics | None = None,
) -> Monitor:
    metrics = metrics or Metrics(caps=label_caps(settings))
    app = faust.App(
        settings.app_id,
        broker=[
            f"kafka://{server.strip()}" for server in settings.kafka_bootstrap_servers.split(",")
        ],
        broker_credentials=faust_credentials(settings),  # TLS / SASL, if configured
        store=settings.table_store,
        web_host=settings.web_host,
        web_bind=settings.web_host,
        web_port=settings.web_port,
        topic_partitions=topology.partitions,
        topic_replication_factor=settings.topic_replication,
        topic_disable_leader=True,
        table_standby_replicas=0,
        broker_session_timeout=settings.broker_session_timeout.total_seconds(),
        broker_rebalance_timeout=settings.broker_rebalance_timeout.total_seconds(),
        broker_heartbeat_interval=min(3.0, settings.broker_session_timeout.total_seconds() / 4),
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        # The embedded broker's end offsets need one record per batch: streams/embedded_broker.py.
        producer_max_batch_size=1 if topology.embedded_broker else 16384,
        # Faust's own pages would serve table contents and cluster topology to
        # anyone who can reach the port: only our pages are served.
        web_tables_enabled=False,
        web_router_enabled=False,
        web_stats_enabled=False,
        web_graph_enabled=False,
    )
    if topology.embedded_broker:  # see streams/embedded_broker.py
        use_embedded_broker_consumer(app)
    else:  # see streams/consumer.py
        use_transport(app, SafeSeekTransport)
    links = app.topic(topology.links, partitions=topology.partitions, **_RAW)
    crimes = app.topic(topology.crime_records, partitions=topology.crime_partitions, **_RAW)
    ledger_topic = app.topic(topology.ledger, **_RAW)
    outputs = {
        Stream.OUTCOMES: app.topic(topology.outcomes, **_RAW),
        Stream.ALERTS: app.topic(topology.alerts, **_RAW),
        Stream.DEAD_LETTERS: app.topic(topology.dead_letters, **_RAW),
        Stream.REFERRALS: app.topic(topology.referrals, **_RAW),
    }
    table = app.Table(
        "incidents",
        partitions=topology.partitions,
        key_type=bytes,  # bytes keys and values are stored raw (no JSON quoting)
        value_type=bytes,
    )

    progress = ConsumerProgress(app)
    publisher = Publisher(
        outputs=outputs,
        links=links,
        ledger=ledger_topic,
        source=settings.event_source,
        metrics=metrics,
        schema_base=settings.schema_base_url,
        raw_dead_letters=settings.dead_letter_raw_copy,
    )
    store = TableIncidentStore(table)
    partition_of = lambda key: partition_for(key, topology.partitions)  # noqa: E731
    # The backlog gauges read an index that every write of the clock keeps in step.
    backlog = BacklogIndex(settings.policy)
    service = RecordingClock(TrackedIncidentStore(store, backlog, partition_of), settings.policy)
    clock_handler = ClockHandler(
        topology=topology,
        service=service,
        progress=progress,
        publisher=publisher,
        metrics=metrics,
        clock=clock,
        lateness=settings.allowed_lateness,
        max_event_bytes=settings.max_event_bytes,
    )
    router = CrimeRouter(
        publisher=publisher,
        progress=progress,
        metrics=metrics,
        clock=clock,
        max_event_bytes=settings.max_event_bytes,
    )
    ticker = WatermarkTicker(topology=topology, progress=progress, publisher=publisher, clock=clock)
    sink = LedgerSink(ledger_factory=ledger_factory, policy=settings.policy, metrics=metrics)
    recovery = Reannouncer(store, settings.policy)
    clock_handler.recovery = recovery
    metrics.registry.register(
        worker_gauges(backlog, progress, topology, clock_handler.clocks, metrics.labels)
    )
    metrics.expect_rejections(
        (topology.incidents, topology.crime_records, topology.links, topology.ledger),
        (k.value for k in RejectionKind),
    )
    status = WorkerStatus()
    monitor = Monitor(app, settings, topology, metrics, service, sink, status, clock_handler)

    async def guarded(handler: Callable[[Any], Any], event: Any) -> None:
        # A bug must not stop the worker or lose the message: dead-letter it with the cause.
        # Its class and where it was raised, never its text: that may quote the input.
        try:
            await handler(event)
        except Exception as exc:
            log_failure(log, "failed to process %s", event.message.tp, exc=exc)
            await publisher.dead_letter(
                Rejected(RejectionKind.INTERNAL_ERROR, describe(exc)), event.message, clock.now()
            )

    @app.agent(app.topic(topology.incidents, topology.links, **_RAW), name="recording-clock")
    async def recording_clock(stream: faust.StreamT) -> None:
        async for event in stream.events():
            await guarded(clock_handler.on_event, event)

    @app.agent(crimes, name="crime-router")
    async def crime_router(stream: faust.StreamT) -> None:
        async for event in stream.events():
            await guarded(router.on_event, event)

    @app.agent(ledger_topic, name="ledger-writer")
    async def ledger_writer(stream: faust.StreamT) -> None:
        # Events, not values: a message that does not decode is dead-lettered with its offset.
        async for events in stream.take_events(  # type: ignore[attr-defined]  # not in StreamT
            settings.ledger_batch_size, within=settings.ledger_flush_interval.total_seconds()
        ):
            await sink.write(await readable(LEDGER, events, dead_letter))

    async def dead_letter(rejected: Rejected, message: Any) -> None:
        log.error("unreadable message on %s: %s", message.topic, rejected.reason)
        await publisher.dead_letter(rejected, message, clock.now())

    @app.timer(settings.tick_interval.total_seconds(), name="watermark-ticker")
    async def watermark_tick() -> None:
        await ticker.tick()

    @table.on_recover
    async def rebuild_wakeups() -> None:
        owned = {tp.partition for tp in progress.assigned(topology.incidents)}
        partition_of = lambda key: partition_for(key, topology.partitions)  # noqa: E731
        stored = list(store.stored())  # decode the table once for both indexes
        count = service.rebuild(partition_of, owned, (state for state, _ in stored))
        backlog.rebuild(partition_of, owned, (state for state, _ in stored))
        recovery.index(stored, owned, partition_of)
        status.recovered_at, status.rebalancing = time.time(), False
        status.incidents_held = count
        log.info(
            "clock ready on partitions %s: %d incidents in the live state", sorted(owned), count
        )

    @app.on_partitions_revoked.connect  # type: ignore[arg-type]  # faust's stub omits async receivers
    async def on_revoked(sender: Any, revoked: set[TP], **kwargs: Any) -> None:
        status.rebalancing = True
        progress.forget(revoked)
        clock_handler.forget({tp.partition for tp in revoked if tp.topic == topology.links})
        for tp in revoked:
            if tp.topic == topology.incidents:
                backlog.forget(tp.partition)

    @app.page("/health")
    async def health(web: Any, request: Any) -> Any:
        code, body = monitor.health()
        return web.json(body, status=code)

    @app.page("/ready")
    async def ready(web: Any, request: Any) -> Any:
        _, body = monitor.health()
        return web.json({"ready": body["ready"]}, status=200 if body["ready"] else 503)

    @app.page("/metrics")
    async def prometheus(web: Any, request: Any) -> Any:
        return web.bytes(
            generate_latest(metrics.registry), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    return monitor
