"""Label values from input are capped: 10,000 made-up divisions do not make 10,000 series."""

from __future__ import annotations

from datetime import timedelta

from prometheus_client import CollectorRegistry

from monitor.adapters.prometheus.label_limits import OTHER, LabelCaps, label_caps
from monitor.adapters.prometheus.metrics import Metrics
from monitor.application.backlog import BacklogIndex
from monitor.domain.incident import IncidentState, Report, apply
from monitor.domain.measure import Measurement
from monitor.domain.outcomes import RecordingMeasured
from monitor.domain.policy import TimelinessPolicy
from monitor.settings import Settings
from streams.gauges import LiveGauges
from tests.unit.builders import T0, H, reported

FORCES = 43
DIVISIONS_PER_FORCE = 12  # the Metropolitan Police has 12 basic command units


def measured(force: str, division: str, category: str = "violence") -> RecordingMeasured:
    report = Report("e", force, T0, "999", category, True, division)
    return RecordingMeasured(
        incident_id="INC",
        crime_id="CR",
        report=report,
        recorded_at=T0 + H,
        deadline=T0 + 24 * H,
        measurement=Measurement(H, 24 * H, True, False),
    )


def series(registry: CollectorRegistry, name: str) -> list[dict[str, str]]:
    return [
        sample.labels
        for family in registry.collect()
        for sample in family.samples
        if sample.name == name
    ]


def test_ten_thousand_distinct_divisions_are_folded_into_other_and_counted() -> None:
    metrics = Metrics(CollectorRegistry(), LabelCaps(divisions=1000))
    for i in range(10_000):
        metrics.count_fact(measured("leicestershire", f"made-up-{i}"))

    recorded = series(metrics.registry, "cdi_recordings_total")
    divisions = {s["division"] for s in recorded}
    assert len(divisions) == 1001 and OTHER in divisions
    r = metrics.registry
    assert (
        r.get_sample_value(
            "cdi_recordings_total",
            {
                "force": "leicestershire",
                "category": "violence",
                "division": OTHER,
                "outcome": "within_target",
            },
        )
        == 9000
    )
    assert r.get_sample_value("cdi_metric_label_values_folded_total", {"label": "division"}) == 9000
    assert r.get_sample_value("cdi_metric_label_values", {"label": "division"}) == 1000
    buckets = series(r, "cdi_recording_delay_seconds_bucket")
    assert len({b["division"] for b in buckets}) == 1001


def test_every_force_in_england_and_wales_and_their_divisions_fit_the_defaults() -> None:
    metrics = Metrics(CollectorRegistry())
    for force in range(FORCES):
        for division in range(DIVISIONS_PER_FORCE):
            for category in ("violence", "theft", "sexual_offence", "other"):
                metrics.count_fact(measured(f"force-{force}", f"division-{division}", category))
    r = metrics.registry
    for label in ("force", "division", "category"):
        assert r.get_sample_value("cdi_metric_label_values_folded_total", {"label": label}) == 0
    assert r.get_sample_value("cdi_metric_label_values", {"label": "division"}) == (
        FORCES * DIVISIONS_PER_FORCE
    )


def test_the_backlog_gauges_fold_the_same_way_and_keep_the_totals() -> None:
    metrics = Metrics(CollectorRegistry(), LabelCaps(divisions=10))
    index = BacklogIndex(TimelinessPolicy())
    for i in range(10_000):
        event = reported(T0, f"INC-{i}", division=f"made-up-{i}")
        index.record(0, apply(IncidentState(event.incident_id), event))
    gauges = LiveGauges(index, lambda: {0: T0 + 30 * H}, list, labels=metrics.labels)
    registry = CollectorRegistry()
    registry.register(gauges)

    awaiting = [
        (s.labels["division"], s.value)
        for family in registry.collect()
        for s in family.samples
        if s.name == "cdi_incidents_awaiting_recording"
    ]
    assert len(awaiting) == 11
    assert sum(v for _, v in awaiting) == 10_000
    assert dict(awaiting)[OTHER] == 9_990
    oldest = series(registry, "cdi_oldest_unrecorded_incident_age_seconds")
    assert len(oldest) == 11
    age = registry.get_sample_value(
        "cdi_oldest_unrecorded_incident_age_seconds", {"force": "leicestershire", "division": OTHER}
    )
    assert age == timedelta(hours=30).total_seconds()


def test_the_caps_are_settings() -> None:
    settings = Settings(metrics_max_divisions=3, metrics_max_forces=2, metrics_max_categories=5)
    assert label_caps(settings) == LabelCaps(forces=2, divisions=3, categories=5)
