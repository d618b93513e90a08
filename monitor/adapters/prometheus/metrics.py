"""Prometheus metrics the worker exports, in base units (seconds, ``_total``).

Labels are bounded sets (force, category, division, kind): never an incident. The
values of force, category and division come from input and are capped per label
(``monitor/adapters/prometheus/label_limits.py``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from monitor.adapters.prometheus.label_limits import LabelCaps, LabelLimits
from monitor.domain.outcomes import (
    AlertRaised,
    AlertResolved,
    ClosedWithoutCrime,
    Fact,
    RecordingMeasured,
)
from monitor.domain.referral import (
    ReferralAtRisk,
    ReferralDue,
    ReferralWindowMissed,
    ReferralWithheld,
)

# Minutes to a week and more; 72,000 s is the default warning point (20 h) and
# 86,400 s the 24-hour target, so "recorded within 24 h" is one bucket read.
DELAY_BUCKETS = (
    60,
    300,
    900,
    1800,
    3600,
    2 * 3600,
    4 * 3600,
    8 * 3600,
    12 * 3600,
    16 * 3600,
    72_000,
    86_400,
    36 * 3600,
    48 * 3600,
    72 * 3600,
    7 * 86_400,
    14 * 86_400,
    30 * 86_400,
)


class Metrics:
    def __init__(
        self, registry: CollectorRegistry | None = None, caps: LabelCaps | None = None
    ) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        # force, category and division come from input: capped (label_limits.py).
        self.labels = LabelLimits(r, caps)
        self.events_consumed = Counter(
            "cdi_events_consumed", "Input events consumed", ["topic", "type"], registry=r
        )
        self.events_rejected = Counter(
            "cdi_events_rejected",
            "Inputs sent to the dead-letter topic, by why",
            ["topic", "reason"],
            registry=r,
        )
        self.events_rerouted = Counter(
            "cdi_events_rerouted",
            "Incident events that arrived on a partition their key does not hash to",
            registry=r,
        )
        self.recording_delay = Histogram(
            "cdi_recording_delay_seconds",
            "Time from report to crime record",
            ["force", "category", "division"],
            buckets=DELAY_BUCKETS,
            registry=r,
        )
        self.recordings = Counter(
            "cdi_recordings",
            "Recordings measured, by outcome (within_target or late)",
            ["force", "category", "division", "outcome"],
            registry=r,
        )
        self.recorded_before_report = Counter(
            "cdi_recordings_before_report",
            "Data-quality errors: a crime record stamped before its report",
            ["force"],
            registry=r,
        )
        self.alerts_raised = Counter(
            "cdi_alerts_raised",
            "Recording alerts raised, by kind (due_soon or overdue)",
            ["kind", "force", "category", "division"],
            registry=r,
        )
        self.alerts_resolved = Counter(
            "cdi_alerts_resolved", "Recording alerts resolved", ["resolution", "late"], registry=r
        )
        self.closed_without_crime = Counter(
            "cdi_incidents_closed_without_crime",
            "Crime-related incidents closed with a non-crime code before any recording",
            ["force", "closing_code"],
            registry=r,
        )
        self.crimes_unlinked = Counter(
            "cdi_crimes_unlinked", "Crime records that name no incident", registry=r
        )
        self.last_event_timestamp = Gauge(
            "cdi_last_event_processed_timestamp_seconds",
            "Wall-clock time the last input event was processed (Unix seconds)",
            registry=r,
        )
        self.partition_clock_lag = Gauge(
            "cdi_partition_clock_lag_seconds",
            "How far the partition's watermark trails the clock",
            ["partition"],
            registry=r,
        )
        self.ledger_degraded = Gauge(
            "cdi_ledger_degraded", "1 while the ledger database cannot be written", registry=r
        )
        self.ledger_rows = Counter(
            "cdi_ledger_rows_written", "Rows upserted into the ledger", registry=r
        )
        self.ledger_errors = Counter(
            "cdi_ledger_write_errors", "Failed attempts to write a ledger batch", registry=r
        )

        self.add_referral_metrics()
        self._consumed: dict[tuple[str, str], Any] = {}

    def consumed(self, topic: str, event_type: str) -> None:
        """Count one input event (the labelled child is looked up once: once per event costs)."""
        child = self._consumed.get((topic, event_type))
        if child is None:
            child = self._consumed[(topic, event_type)] = self.events_consumed.labels(
                topic, event_type
            )
        child.inc()

    def add_referral_metrics(self) -> None:
        r = self.registry
        self.referrals_due = Counter(
            "cdi_referrals_due", "Victim-support referrals due", ["force"], registry=r
        )
        self.referrals_withheld = Counter(
            "cdi_referrals_withheld",
            "Victim-support referrals withheld for want of consent",
            ["force", "reason"],
            registry=r,
        )
        self.referrals_at_risk = Counter(
            "cdi_referrals_at_risk",
            "Crimes recorded with at least half their referral window spent",
            ["force"],
            registry=r,
        )
        self.referrals_window_missed = Counter(
            "cdi_referrals_window_missed",
            "Crimes recorded after their referral was due",
            ["force"],
            registry=r,
        )

    def count_fact(self, fact: Fact) -> None:
        force, place = self.labels.force, self.labels.place
        match fact:
            case RecordingMeasured(report=report, measurement=m):
                where = place(report.force, report.category, report.division or "unknown")
                self.recording_delay.labels(*where).observe(m.elapsed_seconds)
                outcome = "within_target" if m.within_target else "late"
                self.recordings.labels(*where, outcome).inc()
                if m.recorded_before_report:
                    self.recorded_before_report.labels(force(report.force)).inc()
            case AlertRaised(kind=kind, report=report):
                where = place(report.force, report.category, report.division or "unknown")
                self.alerts_raised.labels(kind.value, *where).inc()
            case AlertResolved(resolution=resolution, late=late):
                self.alerts_resolved.labels(resolution.value, str(late).lower()).inc()
            case ClosedWithoutCrime(report=report, closure=closure):
                self.closed_without_crime.labels(
                    force(report.force), closure.closing_code.value
                ).inc()
            case ReferralDue(referral=referral):
                self.referrals_due.labels(force(referral.report.force)).inc()
            case ReferralWithheld(referral=referral):
                reason = referral.withheld.value if referral.withheld else "unknown"
                self.referrals_withheld.labels(force(referral.report.force), reason).inc()
            case ReferralAtRisk(referral=referral):
                self.referrals_at_risk.labels(force(referral.report.force)).inc()
            case ReferralWindowMissed(referral=referral):
                self.referrals_window_missed.labels(force(referral.report.force)).inc()

    def expect_rejections(self, topics: Iterable[str], reasons: Iterable[str]) -> None:
        """Export every (topic, reason) of ``cdi_events_rejected_total`` at 0 from the start.

        A labelled counter otherwise appears only at its first increment, at 1,
        and ``increase()`` cannot see that first dead letter.
        """
        reasons = list(reasons)
        for topic in topics:
            for reason in reasons:
                self.events_rejected.labels(topic, reason)
