"""The worker's processes space out garbage collections and leave start-up's objects out of them."""

from __future__ import annotations

import gc
from pathlib import Path

from pydantic import SecretStr

from monitor.adapters.gc_tuning import OLDER_THRESHOLDS, YOUNG_THRESHOLD, tune_for_streaming
from monitor.adapters.sql.ledger_writer import ProcessLedgerWriter
from monitor.settings import Settings


def test_tuning_freezes_what_is_alive_and_raises_the_thresholds() -> None:
    before = gc.get_threshold()
    alive = object(), [1, 2, 3]  # a tracked container, alive when tuning starts
    try:
        tune_for_streaming()
        assert gc.get_threshold() == (YOUNG_THRESHOLD, *OLDER_THRESHOLDS)
        assert gc.get_freeze_count() > 0
        # Frozen objects are in no generation: a full collection no longer walks them.
        assert not any(o is alive[1] for o in gc.get_objects())
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
    assert any(o is alive[1] for o in gc.get_objects())


def test_the_ledger_process_is_tuned_too(tmp_path: Path) -> None:
    settings = Settings(database_url=SecretStr(f"sqlite:///{tmp_path / 'ledger.db'}"))
    writer = ProcessLedgerWriter(settings)
    try:
        # The pool's process ran the writer's initializer before this call.
        threshold = writer._pool.submit(gc.get_threshold).result(timeout=60)
        frozen = writer._pool.submit(gc.get_freeze_count).result(timeout=60)
    finally:
        writer.close()
    assert threshold == (YOUNG_THRESHOLD, *OLDER_THRESHOLDS)
    assert frozen > 0
