"""An incident store for one batch of events: reads see the batch's own writes, which are held.

The worker handles events in batches and saves each changed incident once,
after the batch's announcements have reached Kafka (so a saved state never
stands for announcements that were lost). Until then the writes are held
here; reads within the batch see them, and read the underlying store at most
once per incident.
"""

from __future__ import annotations

from collections.abc import Iterator

from monitor.application.ports import IncidentStore
from monitor.domain.incident import IncidentState

_UNREAD = object()


class HeldWrites:
    def __init__(self, inner: IncidentStore) -> None:
        self.inner = inner
        self._seen: dict[str, IncidentState | None] = {}
        self._held: dict[str, IncidentState | None] = {}

    def get(self, incident_id: str) -> IncidentState | None:
        state = self._seen.get(incident_id, _UNREAD)
        if state is _UNREAD:
            state = self._seen[incident_id] = self.inner.get(incident_id)
        return state  # type: ignore[return-value]

    def put(self, state: IncidentState) -> None:
        self._seen[state.incident_id] = self._held[state.incident_id] = state

    def delete(self, incident_id: str) -> None:
        self._seen[incident_id] = self._held[incident_id] = None

    def states(self) -> Iterator[IncidentState]:
        return self.inner.states()

    def take(self) -> dict[str, IncidentState | None]:
        """The batch's last write of each incident (None: deleted); start the next batch."""
        held, self._held, self._seen = self._held, {}, {}
        return held
