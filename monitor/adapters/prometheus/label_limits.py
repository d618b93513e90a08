"""Label values that come from input, capped: a producer cannot create unbounded metric series.

``force``, ``division`` and ``category`` are copied from the events into
Prometheus labels. Each distinct value is a new series in every metric that
carries it (the delay histogram has 20 per value), so a producer sending
10,000 made-up divisions would make Prometheus hold hundreds of thousands.
Each label keeps at most a set number of distinct values, the first ones seen
by this worker; later new values are counted under ``other``, and
``cdi_metric_label_values_folded_total{label}`` counts the observations that
were. The defaults fit every force in England and Wales (43, plus the
national ones) with their divisions, counted per force, with room to spare.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge

from monitor.settings import Settings

OTHER = "other"

V = TypeVar("V")


@dataclass(frozen=True)
class LabelCaps:
    """Distinct values kept per label (divisions are counted per force)."""

    forces: int = 64
    divisions: int = 1000
    categories: int = 64


def label_caps(settings: Settings) -> LabelCaps:
    return LabelCaps(
        forces=settings.metrics_max_forces,
        divisions=settings.metrics_max_divisions,
        categories=settings.metrics_max_categories,
    )


class _Values:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.known: set[object] = set()

    def admit(self, value: object) -> bool:
        if value in self.known:
            return True
        if len(self.known) < self.limit:
            self.known.add(value)
            return True
        return False


class LabelLimits:
    """Maps label values from input to themselves, or to ``other`` once a label is full."""

    def __init__(self, registry: CollectorRegistry, caps: LabelCaps | None = None) -> None:
        caps = caps or LabelCaps()
        self._forces = _Values(caps.forces)
        self._divisions = _Values(caps.divisions)
        self._categories = _Values(caps.categories)
        self.folded = Counter(
            "cdi_metric_label_values_folded",
            "Observations counted under label value 'other' because the label already had "
            "its limit of distinct values (CDI_METRICS_MAX_*)",
            ["label"],
            registry=registry,
        )
        self.distinct = Gauge(
            "cdi_metric_label_values",
            "Distinct values of an input label this worker exports (at most its limit)",
            ["label"],
            registry=registry,
        )
        for label in ("force", "division", "category"):
            self.folded.labels(label)
            self.distinct.labels(label).set(0)

    def _value(self, label: str, values: _Values, key: object, shown: str, count: bool) -> str:
        if values.admit(key):
            self.distinct.labels(label).set(len(values.known))
            return shown
        if count:
            self.folded.labels(label).inc()
        return OTHER

    def force(self, force: str, *, count: bool = True) -> str:
        return self._value("force", self._forces, force, force, count)

    def division(self, force: str, division: str, *, count: bool = True) -> str:
        return self._value("division", self._divisions, (force, division), division, count)

    def category(self, category: str, *, count: bool = True) -> str:
        return self._value("category", self._categories, category, category, count)

    def place(self, force: str, category: str, division: str) -> tuple[str, str, str]:
        """(force, category, division) as the metrics show them; counts the folded ones."""
        return (
            self.force(force),
            self.category(category),
            self.division(force, division),
        )

    def fold(self, by_place: Iterable[tuple[tuple[str, ...], V]]) -> dict[tuple[str, ...], list[V]]:
        """Gauge keys, (force, category, division) or (force, division), as the metrics show
        them, each with the values it gathers. Not counted as folded: gauges are read at
        every scrape, not once per event."""
        shown: dict[tuple[str, ...], list[V]] = defaultdict(list)
        for place, value in by_place:
            shown[self._shown(place)].append(value)
        return shown

    def _shown(self, place: tuple[str, ...]) -> tuple[str, ...]:
        if len(place) == 3:
            force, category, division = place
            return (
                self.force(force, count=False),
                self.category(category, count=False),
                self.division(force, division, count=False),
            )
        force, division = place
        return (self.force(force, count=False), self.division(force, division, count=False))
