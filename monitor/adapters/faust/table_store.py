"""The incident store port over a Faust table whose values are encoded incident states.

The clock saves a batch's changes itself (``save``): each changed state goes
into the table's local store and, as one record, to the table's changelog
topic, on the incident's own partition (``partition_for``, the hash that
places its events on ``incidents``). Faust's own path for a table write
(``table[key] = value``) queues one changelog message per write behind a
buffer of 100 that the stream then drains one message at a time; a batch
writes hundreds. Recovery is Faust's own: it rebuilds the local store from
the changelog.

Between a batch's hand-over and its save its states are *pending* (``hold``):
reads see them, so the next batch can be handled while this one's records
travel, but the store and the changelog get them only in ``save``, in batch
order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping
from typing import Any

from faust.types import TP, TableT

from monitor.adapters.kafka.partitioning import partition_for
from monitor.adapters.kafka.publisher import Publisher
from monitor.adapters.state_codec import decode_state, encode_state
from monitor.domain.incident import IncidentState


class TableIncidentStore:
    def __init__(self, table: TableT, partitions: int) -> None:
        self.table = table
        self.partitions = partitions
        # Key -> (the batch that wrote it, its encoded state or None: deleted).
        self._pending: dict[bytes, tuple[int, bytes | None]] = {}

    def get(self, incident_id: str) -> IncidentState | None:
        key = incident_id.encode()
        pending = self._pending.get(key)
        raw = self.table.data.get(key) if pending is None else pending[1]
        return None if raw is None else decode_state(raw)

    def put(self, state: IncidentState) -> None:
        self.table.data[state.incident_id.encode()] = encode_state(state)

    def delete(self, incident_id: str) -> None:
        self.table.data.pop(incident_id.encode(), None)

    def states(self) -> Iterator[IncidentState]:
        pending = dict(self._pending)
        for key, raw in list(self.table.data.items()):
            if key in pending:
                raw = pending.pop(key)[1]
            if raw is not None:
                yield decode_state(raw)
        for _, raw in pending.values():
            if raw is not None:
                yield decode_state(raw)

    def __len__(self) -> int:
        data = self.table.data
        more = sum((raw is not None) - (key in data) for key, (_, raw) in self._pending.items())
        return len(data) + more

    def hold(self, batch: int, changes: Mapping[str, bytes | None]) -> None:
        """Make a batch's states (None: deleted) what reads see until it is saved."""
        for incident_id, encoded in changes.items():
            self._pending[incident_id.encode()] = (batch, encoded)

    def drop(self, batch: int) -> None:
        """Forget a batch's pending states: it will not be saved."""
        for key in [k for k, (b, _) in self._pending.items() if b == batch]:
            del self._pending[key]

    async def save(
        self, changes: Mapping[str, bytes | None], publisher: Publisher, batch: int = -1
    ) -> None:
        """Store each encoded state (None: delete it) locally and in the changelog.

        Returns once the broker has every changelog record; the store then
        knows how far each changelog partition is persisted. ``batch``: the
        states ``hold`` made pending, which are pending no more unless a later
        batch has written them again.
        """
        topic = self.table.changelog_topic.get_topic_name()
        deliveries = []
        pending = self._pending
        for incident_id, encoded in changes.items():
            key = incident_id.encode()
            if encoded is None:
                self.table.data.pop(key, None)
            else:
                self.table.data[key] = encoded
            held = pending.get(key)
            if held is not None and held[0] == batch:
                del pending[key]
            partition = partition_for(incident_id, self.partitions)
            deliveries.append(
                await publisher.send(topic, encoded, key=key, partition=partition, tracked=False)
            )
        persisted: dict[int, int] = {}
        for metadata in await asyncio.gather(*deliveries):
            offset = _offset_of(metadata)
            if offset is not None:
                persisted[metadata.partition] = max(offset, persisted.get(metadata.partition, -1))
        store: Any = self.table.data  # a Faust store (memory:// or rocksdb://)
        for partition, offset in persisted.items():
            store.set_persisted_offset(TP(topic, partition), offset)


def _offset_of(metadata: Any) -> int | None:
    offset = getattr(metadata, "offset", None)
    return offset if isinstance(offset, int) else None
