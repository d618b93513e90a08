"""The Faust application: one worker wired from settings, in named steps.

- ``recording-clock``: one agent over ``incidents``, ``crime-records`` and the
  links topic, one table keyed by incident (``streams.clock_handler``);
- ``ledger-writer``: the ledger topic into the database (``streams.ledger_sink``);
- timers: the watermark tick (``streams.ticker``) and the catch-up log line;
- pages: ``/health``, ``/ready`` and ``/metrics``.
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

from monitor.adapters.clock import Clock
from monitor.adapters.faust.consumer import SafeSeekTransport, use_transport
from monitor.adapters.faust.embedded_consumer import use_embedded_broker_consumer
from monitor.adapters.faust.table_store import TableIncidentStore
from monitor.adapters.faust.tuning import QuietMonitor, RawSchema
from monitor.adapters.kafka.clients import faust_credentials
from monitor.adapters.kafka.partitioning import partition_for
from monitor.adapters.kafka.publisher import Publisher, Send, producer_send
from monitor.adapters.kafka.topology import Topology
from monitor.adapters.prometheus.label_limits import label_caps
from monitor.adapters.prometheus.metrics import Metrics
from monitor.adapters.sql.ledger_writer import LedgerWriter
from monitor.application.backlog import BacklogIndex, TrackedIncidentStore
from monitor.application.held_writes import HeldWrites
from monitor.application.recording_clock import RecordingClock
from monitor.settings import Settings
from schemas.dead_letters import RejectionKind
from streams.batches import ready_batches
from streams.catch_up import LOG_EVERY_SECONDS, CatchUp
from streams.clock_handler import ClockHandler
from streams.gauges import worker_gauges
from streams.ledger_sink import LedgerSink
from streams.progress import ConsumerProgress
from streams.ticker import WatermarkTicker

log = logging.getLogger(__name__)


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
    progress: ConsumerProgress
    clock_handler: ClockHandler
    sink: LedgerSink
    catch_up: CatchUp
    status: WorkerStatus = field(default_factory=WorkerStatus)

    @property
    def ready(self) -> bool:
        return self.status.recovered_at is not None and not self.status.rebalancing

    def health(self) -> tuple[int, dict[str, Any]]:
        degraded = self.sink.degraded_since is not None
        body = {
            "status": "degraded" if degraded else "ok",
            "app_id": self.settings.app_id,
            "uptime_seconds": round(time.time() - self.status.started_at, 1),
            "ready": self.ready,
            "catch_up": self.catch_up.status().as_json(),
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
    ledger: LedgerWriter,
    metrics: Metrics | None = None,
    send: Send | None = None,
) -> Monitor:
    """The worker. ``ledger`` writes the ledger topic's rows; ``send`` (default: Faust's
    producer) is where every record goes."""
    metrics = metrics or Metrics(caps=label_caps(settings))
    app = faust_app(settings, topology)
    progress = ConsumerProgress(app)
    send = send or producer_send(app)

    def publisher() -> Publisher:
        # One each: a publisher waits for its own sends only.
        return Publisher(
            send=send,
            topology=topology,
            source=settings.event_source,
            metrics=metrics,
            schema_base=settings.schema_base_url,
            raw_dead_letters=settings.dead_letter_raw_copy,
        )

    table = TableIncidentStore(
        app.Table(
            "incidents",
            partitions=topology.partitions,
            key_type=bytes,  # bytes keys and values are stored raw (no JSON quoting)
            value_type=bytes,
        ),
        topology.partitions,
    )
    backlog = BacklogIndex(settings.policy)
    writes = HeldWrites(table)
    service = RecordingClock(
        TrackedIncidentStore(writes, backlog, partitioner(topology)), settings.policy
    )
    clock_handler = ClockHandler(
        topology=topology,
        service=service,
        writes=writes,
        table=table,
        progress=progress,
        publisher=publisher(),
        metrics=metrics,
        clock=clock,
        lateness=settings.allowed_lateness,
        max_event_bytes=settings.max_event_bytes,
    )
    sink = LedgerSink(writer=ledger, metrics=metrics, publisher=publisher(), clock=clock)
    ticker = WatermarkTicker(
        topology=topology, progress=progress, publisher=publisher(), clock=clock
    )
    monitor = Monitor(
        app, settings, topology, metrics, progress, clock_handler, sink, CatchUp(progress, topology)
    )
    metrics.registry.register(
        worker_gauges(backlog, progress, topology, clock_handler.clocks, metrics.labels)
    )
    metrics.expect_rejections(
        (topology.incidents, topology.crime_records, topology.links, topology.ledger),
        (k.value for k in RejectionKind),
    )
    add_agents(monitor, ticker)
    add_rebalance_hooks(monitor, table, service, backlog)
    add_pages(monitor)
    return monitor


def partitioner(topology: Topology) -> Callable[[str], int]:
    return lambda key: partition_for(key, topology.partitions)


def faust_app(settings: Settings, topology: Topology) -> faust.App:
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
        # Faust's own pages would serve table contents and cluster topology to
        # anyone who can reach the port: only our pages are served.
        web_tables_enabled=False,
        web_router_enabled=False,
        web_stats_enabled=False,
        web_graph_enabled=False,
        monitor=QuietMonitor(),  # see monitor/adapters/faust/tuning.py
    )
    if topology.embedded_broker:  # see monitor/adapters/faust/embedded_consumer.py
        use_embedded_broker_consumer(app)
    else:  # see monitor/adapters/faust/consumer.py
        use_transport(app, SafeSeekTransport)
    return app


def add_agents(monitor: Monitor, ticker: WatermarkTicker) -> None:
    app, settings, topology = monitor.app, monitor.settings, monitor.topology
    inputs = app.topic(
        topology.incidents, topology.crime_records, topology.links, schema=RawSchema()
    )
    clock_handler, sink = monitor.clock_handler, monitor.sink

    @app.agent(inputs, name="recording-clock")
    async def recording_clock(stream: faust.StreamT) -> None:
        try:
            async for batch in ready_batches(stream, settings.batch_size):
                # The clock acknowledges each batch once it is saved, after its turn.
                await clock_handler.on_batch(batch, batch.hold())
        finally:
            await clock_handler.settled()

    @app.agent(app.topic(topology.ledger, schema=RawSchema()), name="ledger-writer")
    async def ledger_writer(stream: faust.StreamT) -> None:
        async for batch in ready_batches(stream, settings.ledger_batch_size):
            await sink.write([event.message for event in batch])

    @app.timer(settings.tick_interval.total_seconds(), name="watermark-ticker")
    async def watermark_tick() -> None:
        await ticker.tick()

    @app.timer(LOG_EVERY_SECONDS, name="catch-up-log")
    async def catch_up_log() -> None:
        if monitor.ready:
            monitor.catch_up.log_progress()


def add_rebalance_hooks(
    monitor: Monitor, table: TableIncidentStore, service: RecordingClock, backlog: BacklogIndex
) -> None:
    app, topology, status = monitor.app, monitor.topology, monitor.status
    partition_of = partitioner(topology)

    @table.table.on_recover
    async def rebuild_indexes() -> None:
        owned = {tp.partition for tp in monitor.progress.assigned(topology.incidents)}
        states = list(table.states())  # decode the table once for both indexes
        count = service.rebuild(partition_of, owned, states)
        backlog.rebuild(partition_of, owned, states)
        status.recovered_at, status.rebalancing = time.time(), False
        status.incidents_held = count
        log.info(
            "clock ready on partitions %s: %d incidents in the live state", sorted(owned), count
        )

    @app.on_partitions_revoked.connect  # type: ignore[arg-type]  # faust's stub omits async receivers
    async def on_revoked(sender: Any, revoked: set[TP], **kwargs: Any) -> None:
        status.rebalancing = True
        monitor.progress.forget(revoked)
        monitor.clock_handler.forget({tp.partition for tp in revoked if tp.topic == topology.links})
        for tp in revoked:
            if tp.topic == topology.incidents:
                backlog.forget(tp.partition)


def add_pages(monitor: Monitor) -> None:
    app = monitor.app

    @app.page("/health")
    async def health(web: Any, request: Any) -> Any:
        code, body = monitor.health()
        return web.json(body, status=code)

    @app.page("/ready")
    async def ready(web: Any, request: Any) -> Any:
        body = {"ready": monitor.ready, "catch_up": monitor.catch_up.status().as_json()}
        return web.json(body, status=200 if monitor.ready else 503)

    @app.page("/metrics")
    async def prometheus(web: Any, request: Any) -> Any:
        return web.bytes(
            generate_latest(monitor.metrics.registry),
            headers={"Content-Type": CONTENT_TYPE_LATEST},
        )
