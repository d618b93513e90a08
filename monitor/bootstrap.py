"""Starting a worker: check the database, create the topics, build the app, run it."""

from __future__ import annotations

import logging

import faust

from monitor.adapters.clock import make_clock
from monitor.adapters.gc_tuning import tune_for_streaming
from monitor.adapters.kafka.clients import describe as describe_kafka
from monitor.adapters.kafka.topology import ensure_topics
from monitor.adapters.prometheus.audit_gauges import AuditGauges, latest_rates
from monitor.adapters.prometheus.label_limits import label_caps
from monitor.adapters.prometheus.metrics import Metrics
from monitor.adapters.sql.ledger import make_engine
from monitor.adapters.sql.ledger_writer import ProcessLedgerWriter
from monitor.adapters.sql.migrate import check_at_head, mask_url, upgrade
from monitor.settings import Settings
from streams.app import build

log = logging.getLogger("cdi-monitor")


def run_worker(settings: Settings, *, migrate: bool = False) -> int:
    url = settings.database_url.get_secret_value()
    if migrate:
        upgrade(url)
    engine = make_engine(url)
    check_at_head(engine)
    topology = ensure_topics(settings)
    clock = make_clock(settings.clock_rate, settings.clock_origin)
    metrics = Metrics(caps=label_caps(settings))
    # The audit's figures are read from the database here; the ledger is written by a
    # process of its own (monitor.adapters.sql.ledger_writer).
    metrics.registry.register(
        AuditGauges(
            lambda: latest_rates(engine),
            refresh_seconds=settings.audit_metrics_refresh.total_seconds(),
        )
    )
    ledger = ProcessLedgerWriter(settings)
    monitor = build(settings, topology, clock=clock, ledger=ledger, metrics=metrics)
    log.info(
        "worker %s: Kafka %s, ledger %s, %d partitions, target %s, warning %s, clock %r",
        settings.app_id,
        describe_kafka(settings),
        mask_url(url),
        topology.partitions,
        settings.recording_target,
        settings.warning_before,
        clock,
    )
    worker = faust.Worker(monitor.app, loglevel=settings.log_level.upper(), quiet=True)
    # Faust's terminal spinner, kept at "warning" and above, sets the root logger to
    # DEBUG so that it can spin on every record: every library's debug record would
    # then be built for nothing (measured: 7% of the worker's time). No spinner.
    worker.spinner = None
    tune_for_streaming()  # start-up is over: what it made lives as long as the process
    try:
        worker.execute_from_commandline()
    finally:
        ledger.close()
    return 0
