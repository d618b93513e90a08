"""``cdi_audit_recording_rate`` and its ``_lower``/``_upper`` bounds, read from the audit tables.

The worker exports them from the ledger database: the latest audit sample with
crimes found, per category (``stratum``) and for the force (``stratum="all"``),
the same figures as the report and the board. Read at most every
``refresh_seconds`` (the estimate is a few queries), in the scraping thread.
Every worker exports the same values: aggregate with ``max``, not ``sum``.
No sample yet, or no crime found: no series.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine

from monitor.adapters.sql.audit import SqlAudit
from monitor.application.audit import estimate
from monitor.domain.audit_estimate import Interval

log = logging.getLogger(__name__)

Rates = list[tuple[str, str, Interval]]  # (period, stratum, interval)


def latest_rates(engine: Engine) -> Rates:
    """The newest sample's intervals: per stratum with crimes found, and ``all``."""
    audit = SqlAudit(engine)
    for listed in reversed(audit.samples()):
        sample = audit.sample(listed.sample_id)
        if sample is None:
            continue
        result = estimate(audit, audit, sample)
        if result.force is None:
            continue
        label = sample.period.label
        rates = [(label, t.stratum, t.rate) for t in result.strata if t.rate is not None]
        return [*rates, (label, "all", result.force)]
    return []


class AuditGauges(Collector):
    def __init__(
        self,
        read: Callable[[], Rates],
        *,
        refresh_seconds: float = 60.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.read = read
        self.refresh_seconds = refresh_seconds
        self.monotonic = monotonic
        self._rates: Rates = []
        self._read_at = float("-inf")

    def rates(self) -> Rates:
        now = self.monotonic()
        if now - self._read_at >= self.refresh_seconds:
            try:
                self._rates = self.read()
            except Exception:  # the database may be down: keep the last figures
                log.warning("could not read the audit figures", exc_info=True)
            self._read_at = now
        return self._rates

    def collect(self) -> Iterator[GaugeMetricFamily]:
        rates = self.rates()
        help_text = {
            "": "Recording rate found by the latest internal audit (crimes recorded of crimes "
            "that should have been), per category and for the force (stratum=all)",
            "_lower": "Lower bound of the audit recording rate's 95% interval",
            "_upper": "Upper bound of the audit recording rate's 95% interval",
        }
        for suffix, pick in (("", 0), ("_lower", 1), ("_upper", 2)):
            family = GaugeMetricFamily(
                f"cdi_audit_recording_rate{suffix}", help_text[suffix], labels=["period", "stratum"]
            )
            for period, stratum, interval in rates:
                value = (interval.estimate, interval.lower, interval.upper)[pick]
                family.add_metric([period, stratum], value)
            yield family
