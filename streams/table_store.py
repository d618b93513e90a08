"""The incident store port over a Faust table (values are encoded incident states)."""

from __future__ import annotations

from collections.abc import Iterator

from faust.types import TableT

from monitor.adapters.state_codec import decode_state, encode_state
from monitor.domain.incident import IncidentState


class TableIncidentStore:
    def __init__(self, table: TableT) -> None:
        self.table = table

    def get(self, incident_id: str) -> IncidentState | None:
        raw = self.table.get(incident_id.encode())
        return None if raw is None else decode_state(raw)

    def put(self, state: IncidentState) -> None:
        self.table[state.incident_id.encode()] = encode_state(state)

    def delete(self, incident_id: str) -> None:
        key = incident_id.encode()
        if key in self.table:
            del self.table[key]

    def states(self) -> Iterator[IncidentState]:
        for raw in list(self.table.values()):
            if raw is not None:
                yield decode_state(raw)

    def __len__(self) -> int:
        return len(self.table)
