"""A batch's writes are held, read back within the batch, and handed over once each."""

from __future__ import annotations

from monitor.application.held_writes import HeldWrites
from monitor.application.ports import InMemoryIncidentStore
from monitor.domain.incident import IncidentState


class CountingStore(InMemoryIncidentStore):
    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    def get(self, incident_id: str) -> IncidentState | None:
        self.reads += 1
        return super().get(incident_id)


def test_writes_are_held_but_read_back_and_the_store_is_read_once_per_incident() -> None:
    store = CountingStore()
    store.put(IncidentState("INC-1"))
    writes = HeldWrites(store)
    assert writes.get("INC-1") == IncidentState("INC-1")
    changed = IncidentState("INC-1", flagged_at=None, unflagged_at=None)
    writes.put(changed)
    writes.put(IncidentState("INC-2"))
    writes.delete("INC-2")
    assert writes.get("INC-1") is changed and writes.get("INC-2") is None
    assert store.reads == 1
    assert store.get("INC-2") is None  # nothing reached the store yet
    assert writes.take() == {"INC-1": changed, "INC-2": None}
    assert writes.take() == {}  # the next batch starts empty
    writes.get("INC-1")
    assert store.reads == 3  # ...and reads the store again
