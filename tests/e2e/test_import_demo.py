"""The walkthrough of docs/import.md: the example exports imported into the demo, then replayed."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.support.kafka import require_embedded_broker

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_imports_the_example_exports_first_and_the_worker_measures_them(
    tmp_path: Path,
) -> None:
    require_embedded_broker()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDI_")}
    examples = ROOT / "examples"
    result = subprocess.run(
        [sys.executable, "-m", "monitor", "demo", "--run-for", "25", "--data-dir", str(tmp_path),
         "--mapping", str(examples / "storm-niche-mapping.toml"),
         "--import", str(examples / "incidents.csv"), str(examples / "crimes.csv")],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "902 imported, 0 rejected" in output
    assert re.search(r"sent 1,449 events to incidents, crime-records", output), output
    # The import runs before the worker starts: it is a replay, not late data.
    assert "has not read these topics yet" in output
    assert output.index("sent 1,449 events") < output.index("starting the worker")
    assert re.search(r"measured [1-9][\d,]*: ", output), output
    assert "DEAD LETTER" not in output  # no malformed example event in this mode
    engine = create_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    try:
        with engine.connect() as connection:
            incidents = connection.execute(text("select count(*) from incidents")).scalar()
            crimes = connection.execute(text("select count(*) from crimes")).scalar()
    finally:
        engine.dispose()
    assert incidents and incidents > 100, output
    assert crimes and crimes > 50, output
