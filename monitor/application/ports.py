"""Ports the application services depend on; adapters implement them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from monitor.domain.incident import IncidentState


class IncidentStore(Protocol):
    """The live state of the incidents one worker owns (a stream-processor table)."""

    def get(self, incident_id: str) -> IncidentState | None: ...

    def put(self, state: IncidentState) -> None: ...

    def delete(self, incident_id: str) -> None: ...

    def states(self) -> Iterator[IncidentState]:
        """Every incident held locally (used to rebuild the wake-up index after recovery)."""
        ...


class InMemoryIncidentStore:
    """A dictionary-backed store, for tests and for running the rules without a broker."""

    def __init__(self) -> None:
        self.data: dict[str, IncidentState] = {}

    def get(self, incident_id: str) -> IncidentState | None:
        return self.data.get(incident_id)

    def put(self, state: IncidentState) -> None:
        self.data[state.incident_id] = state

    def delete(self, incident_id: str) -> None:
        self.data.pop(incident_id, None)

    def states(self) -> Iterator[IncidentState]:
        return iter(list(self.data.values()))
