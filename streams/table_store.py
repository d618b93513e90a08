"""The incident store port over a Faust table whose values are encoded incident states.

The clock saves a batch's changes itself (``save``): each changed state goes
into the table's local store and, as one record, to the table's changelog
topic, on the incident's own partition (``partition_for``, the hash that
places its events on ``incidents``). Faust's own path for a table write
(``table[key] = value``) queues one changelog message per write behind a
buffer of 100 that the stream then drains one message at a time; a batch
writes hundreds. Recovery is Faust's own: it rebuilds the local store from
the changelog.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping
from typing import Any

from faust.types import TP, TableT

from monitor.adapters.state_codec import decode_state, encode_state
from monitor.domain.incident import IncidentState
from streams.partitioning import partition_for
from streams.publisher import Publisher


class TableIncidentStore:
    def __init__(self, table: TableT, partitions: int) -> None:
        self.table = table
        self.partitions = partitions

    def get(self, incident_id: str) -> IncidentState | None:
        raw = self.table.data.get(incident_id.encode())
        return None if raw is None else decode_state(raw)

    def put(self, state: IncidentState) -> None:
        self.table.data[state.incident_id.encode()] = encode_state(state)

    def delete(self, incident_id: str) -> None:
        self.table.data.pop(incident_id.encode(), None)

    def states(self) -> Iterator[IncidentState]:
        for raw in list(self.table.data.values()):
            if raw is not None:
                yield decode_state(raw)

    def __len__(self) -> int:
        return len(self.table.data)

    async def save(self, changes: Mapping[str, bytes | None], publisher: Publisher) -> None:
        """Store each encoded state (None: delete it) locally and in the changelog.

        Returns once the broker has every changelog record; the store then
        knows how far each changelog partition is persisted.
        """
        topic = self.table.changelog_topic.get_topic_name()
        deliveries = []
        for incident_id, encoded in changes.items():
            key = incident_id.encode()
            if encoded is None:
                self.table.data.pop(key, None)
            else:
                self.table.data[key] = encoded
            partition = partition_for(incident_id, self.partitions)
            deliveries.append(await publisher.send(topic, encoded, key=key, partition=partition))
        persisted: dict[int, int] = {}
        for metadata in await asyncio.gather(*deliveries):
            offset = _offset_of(metadata)
            if offset is not None:
                persisted[metadata.partition] = max(offset, persisted.get(metadata.partition, -1))
        await publisher.delivered()
        store: Any = self.table.data  # a Faust store (memory:// or rocksdb://)
        for partition, offset in persisted.items():
            store.set_persisted_offset(TP(topic, partition), offset)


def _offset_of(metadata: Any) -> int | None:
    offset = getattr(metadata, "offset", None)
    return offset if isinstance(offset, int) else None
