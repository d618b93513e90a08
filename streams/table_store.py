"""The incident store port over a Faust table (values are encoded incident states)."""

from __future__ import annotations

from collections.abc import Iterator

from faust.streams import current_event
from faust.types import TableT

from monitor.adapters.state_codec import Trigger, decode_state, decode_stored, encode_state
from monitor.domain.incident import IncidentState


class TableIncidentStore:
    """Each state is stored with the message that changed it last (its trigger).

    After a crash, the announcements of a state whose trigger had not been
    committed may not have reached Kafka; ``streams.recovery`` uses the
    trigger to publish them again.
    """

    def __init__(self, table: TableT) -> None:
        self.table = table

    def get(self, incident_id: str) -> IncidentState | None:
        raw = self.table.get(incident_id.encode())
        return None if raw is None else decode_state(raw)

    def put(self, state: IncidentState) -> None:
        event = current_event()
        trigger = None if event is None else (event.message.topic, event.message.offset)
        self.table[state.incident_id.encode()] = encode_state(state, trigger)

    def delete(self, incident_id: str) -> None:
        key = incident_id.encode()
        if key in self.table:
            del self.table[key]

    def states(self) -> Iterator[IncidentState]:
        for raw in list(self.table.values()):
            if raw is not None:
                yield decode_state(raw)

    def stored(self) -> Iterator[tuple[IncidentState, Trigger | None]]:
        for raw in list(self.table.values()):
            if raw is not None:
                yield decode_stored(raw)

    def __len__(self) -> int:
        return len(self.table)
