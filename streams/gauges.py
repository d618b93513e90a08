"""Gauges read from the worker's own state when Prometheus scrapes: the backlog and the lag.

Each worker reports only the partitions it owns at the moment of the scrape,
so the sum over workers is the truth, also after a restart or a rebalance
(the backlog index is rebuilt from the table when partitions are assigned).
The backlog is summed at most once every ``refresh_seconds`` (a pass over the
waiting incidents of the owned partitions), so frequent scrapes cost nothing
more on a large table; the consumer lag is read at every scrape.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any, TypeVar

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from monitor.adapters.kafka.topology import Topology
from monitor.adapters.prometheus.label_limits import LabelLimits
from monitor.application.backlog import Backlog, BacklogIndex
from monitor.application.watermarks import PartitionClock
from streams.progress import ConsumerProgress

PartitionClocks = Callable[[], Mapping[int, datetime | None]]
Lags = Callable[[], list[tuple[str, int, int]]]
V = TypeVar("V")


class LiveGauges(Collector):
    def __init__(
        self,
        index: BacklogIndex,
        clocks: PartitionClocks,
        lags: Lags,
        *,
        refresh_seconds: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
        labels: LabelLimits | None = None,
    ) -> None:
        self.labels = labels  # caps the label values taken from input, as the counters do
        self.index = index
        self.clocks = clocks
        self.lags = lags
        self.refresh_seconds = refresh_seconds
        self.monotonic = monotonic
        self._backlog: Backlog | None = None
        self._summed_at = float("-inf")
        self._summing_seconds = 0.0

    def backlog(self) -> Backlog:
        now = self.monotonic()
        if self._backlog is None or now - self._summed_at >= self.refresh_seconds:
            clocks = self.clocks()
            started = time.perf_counter()
            self._backlog = self.index.summarize(clocks)
            self._summing_seconds = time.perf_counter() - started
            self._summed_at = now
        return self._backlog

    def collect(self) -> Iterator[GaugeMetricFamily]:
        backlog = self.backlog()
        labels = ["force", "category", "division"]
        awaiting = GaugeMetricFamily(
            "cdi_incidents_awaiting_recording",
            "Crime-related incidents not yet recorded nor closed (overdue ones included)",
            labels=labels,
        )
        overdue = GaugeMetricFamily(
            "cdi_incidents_overdue",
            "Crime-related incidents past their recording deadline by the partition's clock",
            labels=labels,
        )
        for key, gathered in sorted(self._shown(backlog.counts).items()):
            awaiting.add_metric(list(key), sum(c.awaiting for c in gathered))
            overdue.add_metric(list(key), sum(c.overdue for c in gathered))
        oldest = GaugeMetricFamily(
            "cdi_oldest_unrecorded_incident_age_seconds",
            "Age of the oldest crime-related incident awaiting recording, by the partition's clock",
            labels=["force", "division"],
        )
        for place, ages in sorted(self._shown(backlog.oldest_age_seconds).items()):
            oldest.add_metric(list(place), max(ages))
        yield awaiting
        yield overdue
        yield oldest
        yield GaugeMetricFamily(
            "cdi_assigned_partitions",
            "Partitions of the incident clock this worker owns",
            value=len(self.clocks()),
        )
        yield GaugeMetricFamily(
            "cdi_backlog_summary_duration_seconds",
            "How long the last summing of the backlog gauges took",
            value=self._summing_seconds,
        )
        lag = GaugeMetricFamily(
            "cdi_consumer_lag_messages",
            "Messages on an input partition this worker owns that it has not read yet",
            labels=["topic", "partition"],
        )
        for topic, partition, messages in self.lags():
            lag.add_metric([topic, str(partition)], messages)
        yield lag

    def _shown(self, by_place: Mapping[Any, V]) -> dict[tuple[str, ...], list[V]]:
        if self.labels is None:
            return {place: [value] for place, value in by_place.items()}
        return self.labels.fold(by_place.items())


def worker_gauges(
    index: BacklogIndex,
    progress: ConsumerProgress,
    topology: Topology,
    clocks: Mapping[int, PartitionClock],
    labels: LabelLimits | None = None,
) -> LiveGauges:
    """The live gauges of one worker: its owned clock partitions and the topics it reads."""

    def partition_clocks() -> dict[int, datetime | None]:
        owned = progress.assigned(topology.incidents)
        # ``clocks`` creates entries on access: only read the ones that exist.
        return {
            tp.partition: clocks[tp.partition].now if tp.partition in clocks else None
            for tp in owned
        }

    def lags() -> list[tuple[str, int, int]]:
        found = []
        for topic in (topology.incidents, topology.crime_records, topology.links, topology.ledger):
            for tp in progress.assigned(topic):
                messages = progress.lag(tp)
                if messages is not None:
                    found.append((topic, tp.partition, messages))
        return found

    return LiveGauges(index, partition_clocks, lags, labels=labels)
