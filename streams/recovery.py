"""Publishing again what a crash may have lost.

A worker saves an incident's state (the table changelog) and publishes its
announcements in the same step, but the two reach Kafka separately. If it
stops between them, the restarted worker reprocesses the message (its offset
was not committed) yet announces nothing, because the saved state says it
already did. So, after each rebalance, the first message read from a
partition tells where processing resumed; every incident last changed by a
message at or after that offset has its announcements published again. They
carry the same ids and content as before, so subscribers drop the copies.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable

from faust.types import TP

from monitor.adapters.state_codec import Trigger
from monitor.application.ports import IncidentStore
from monitor.application.recording_clock import Changes
from monitor.domain.incident import IncidentState
from monitor.domain.policy import TimelinessPolicy
from monitor.domain.recording_clock import announcements


class Reannouncer:
    def __init__(self, store: IncidentStore, policy: TimelinessPolicy) -> None:
        self.store = store
        self.policy = policy
        self._pending: dict[TP, list[tuple[int, str]]] = {}

    def index(
        self,
        stored: Iterable[tuple[IncidentState, Trigger | None]],
        owned: set[int],
        partition_of: Callable[[str], int],
    ) -> None:
        """Remember each owned incident's trigger until its partition's first message."""
        pending: dict[TP, list[tuple[int, str]]] = defaultdict(list)
        for state, trigger in stored:
            partition = partition_of(state.incident_id)
            if trigger is not None and partition in owned:
                topic, offset = trigger
                pending[TP(topic, partition)].append((offset, state.incident_id))
        self._pending = dict(pending)

    def resumed(self, tp: TP, offset: int) -> Changes:
        """``tp`` resumed at ``offset``: what was changed from there on, to publish again."""
        triggers = self._pending.pop(tp, None)
        changes = Changes()
        for trigger_offset, incident_id in triggers or ():
            if trigger_offset < offset:
                continue
            state = self.store.get(incident_id)
            if state is not None:
                changes.facts.extend(announcements(state, self.policy))
                changes.changed.append(state)
        return changes

    def waiting(self, tp: TP) -> bool:
        return tp in self._pending
