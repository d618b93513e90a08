"""How far each input partition has been processed, and whether it is caught up.

Reads the consumer's highwater (from fetch responses) and committed offsets;
these are the only places the stream processor's internals are touched.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from faust.types import TP, AppT

from monitor.application.watermarks import SourceProgress, source_watermark

log = logging.getLogger(__name__)


class ConsumerProgress:
    def __init__(self, app: AppT) -> None:
        self.app = app
        self._progress: dict[TP, SourceProgress] = {}

    def observe(self, tp: TP, offset: int, event_time: datetime | None) -> None:
        progress = self._progress.get(tp)
        if progress is None:
            progress = self._progress[tp] = SourceProgress()
        progress.observe(offset, event_time)

    def forget(self, tps: Iterable[TP]) -> None:
        for tp in tps:
            self._progress.pop(tp, None)

    def watermark(self, tp: TP, wall_now: datetime) -> datetime | None:
        return source_watermark(
            self._progress.get(tp) or SourceProgress(),
            highwater=self.highwater(tp),
            resume_offset=self.resume_offset(tp),
            wall_now=wall_now,
        )

    def highwater(self, tp: TP) -> int | None:
        try:
            return self.app.consumer.highwater(tp)
        except Exception:
            return None

    def resume_offset(self, tp: TP) -> int:
        committed = getattr(self.app.consumer, "_committed_offset", {}).get(tp)
        return committed or 0

    def assigned(self, topic: str) -> list[TP]:
        try:
            assignment = self.app.consumer.assignment()
        except Exception:
            return []
        return sorted((tp for tp in assignment if tp.topic == topic), key=lambda tp: tp.partition)

    def lag(self, tp: TP) -> int | None:
        """Messages the broker holds on ``tp`` that this worker has not read yet.

        The position is the next offset to read (the last one read plus one),
        else the committed offset; None until the broker has told the highwater.
        """
        highwater = self.highwater(tp)
        if highwater is None:
            return None
        return max(highwater - self.position(tp), 0)

    def position(self, tp: TP) -> int:
        """The next offset this worker will read on ``tp``."""
        read = getattr(self.app.consumer, "_read_offset", {}).get(tp)
        return read + 1 if read is not None else self.resume_offset(tp)
