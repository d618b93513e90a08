"""An example report from a simulated force, for docs/ (and a look at the layout).

Simulates a month of a Leicestershire-like force, writes its ledger with the
monitor's own rules into a SQLite database, draws the audit sample, answers it
from the simulator's ground truth (as a perfect auditor would), then runs
``cdi-monitor report``. Usage:

    .venv/bin/python tools/report_example.py OUT_DIR [--pages]

With ``--pages`` it also turns the PDF into PNG pages with pdftoppm (Debian's
poppler-utils).
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from monitor.adapters.sql.audit import SqlAudit
from monitor.adapters.sql.ledger import SqlLedger, make_engine
from monitor.adapters.sql.migrate import upgrade
from monitor.application.audit import Sizing, draw_sample, record_answer
from monitor.application.ledger import CrimeRow, LedgerBatch
from monitor.devtools.simulate import ForceProfile
from monitor.domain.period import Period
from tests.support.audit_world import simulate

START = datetime(2026, 11, 1, tzinfo=UTC)


def main(out: Path, pages: bool) -> None:
    out.mkdir(parents=True, exist_ok=True)
    db = out / "example-ledger.db"
    db.unlink(missing_ok=True)
    url = f"sqlite:///{db}"
    upgrade(url)
    world = simulate(14, replace(ForceProfile(), incidents_per_year=90_000), START, 30,
                     settle=timedelta(days=4))  # fmt: skip
    engine = make_engine(url)
    crimes = [
        CrimeRow(
            crime_id=e.value["data"]["crime_id"],
            incident_ids=tuple(e.value["data"]["incident_ids"]),
            recorded_at=datetime.fromisoformat(e.value["data"]["recorded_at"]),
            offence_code=e.value["data"]["offence_code"],
            offence_group=e.value["data"]["offence_group"],
        )
        for e in world.events
        if e.event_type == "cdi.crime.recorded" and not e.redelivered
    ]
    SqlLedger(engine).write(LedgerBatch(incidents=list(world.rows.values()), crimes=crimes))
    audit = SqlAudit(engine)
    period = Period("2026-11", START, START + timedelta(days=30))
    sample, _ = draw_sample(audit, audit, period=period, seed=2026, sizing=Sizing(size=40),
                            now=period.end + timedelta(days=5), actor="registrar")  # fmt: skip
    for item in sample.items[: int(len(sample.items) * 0.9)]:
        record_answer(audit, sample_id=sample.sample_id, incident_id=item.incident_id,
                      answer=world.answer(item.incident_id), auditor="auditor-1",
                      is_admin=False, now=period.end + timedelta(days=6))  # fmt: skip
    engine.dispose()
    env = {"CDI_DATABASE_URL": url, "PATH": "/usr/bin:/bin"}
    subprocess.run(  # noqa: S603
        [sys.executable, "-m", "monitor", "report", "--period", "2026-11", "--out", str(out)],
        env=env,
        check=True,
    )
    if pages:
        pdf = out / "cdi-report-2026-11.pdf"
        subprocess.run(["pdftoppm", "-png", "-r", "80", str(pdf), str(out / "page")], check=True)  # noqa: S603, S607


if __name__ == "__main__":
    main(Path(sys.argv[1]), "--pages" in sys.argv[2:])
