"""``cdi-monitor import`` and ``simulate --export-csv`` without a broker: mapping errors,
--dry-run, --max-rejects, the late-data warning, and the exports reading back exactly."""

from __future__ import annotations

import argparse
import csv
import io
import json
import tomllib
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.cli.main import main
from monitor.devtools.simulate import ForceProfile, Simulation
from monitor.devtools.simulate.csv_export import EXAMPLE_MAPPING, export
from monitor.importer.command import _warn_if_late, map_files, run_import
from monitor.importer.events import ImportEvent
from monitor.importer.mapping import MappingError, load_mapping, parse_mapping
from monitor.importer.timezones import MICROS
from monitor.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
# Nothing listens here: a command that tried to reach a broker would fail, not pass.
NO_BROKER = Settings(kafka_bootstrap_servers="127.0.0.1:1", startup_timeout=timedelta(seconds=1))


def args(*files: Path, mapping: Path = EXAMPLE_MAPPING, **options) -> argparse.Namespace:
    defaults = {"rejects": "rejects.csv", "max_rejects": None, "dry_run": False}
    return argparse.Namespace(
        files=[str(f) for f in files], mapping=str(mapping), **{**defaults, **options}
    )


def test_the_example_exports_import_with_no_rejects(tmp_path, capsys) -> None:
    rejects = tmp_path / "rejects.csv"
    code = run_import(
        NO_BROKER,
        args(EXAMPLES / "incidents.csv", EXAMPLES / "crimes.csv", rejects=rejects, dry_run=True),
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "0 rejected" in out
    assert "dry run:" in out and "nothing was produced" in out
    assert rejects.read_text().splitlines() == ["file,line,column,reason,row"]


def test_more_rejects_than_allowed_fails_and_produces_nothing(tmp_path, capsys) -> None:
    bad = tmp_path / "incidents.csv"
    lines = (EXAMPLES / "incidents.csv").read_text(encoding="utf-8-sig").splitlines()
    bad.write_text(
        "\n".join([lines[0], *(line.replace(",999,", ",PIGEON,") for line in lines[1:]), ""])
    )
    pigeons = sum(",PIGEON," in line for line in bad.read_text().splitlines())
    assert pigeons > 2
    rejects = tmp_path / "rejects.csv"
    code = run_import(NO_BROKER, args(bad, rejects=rejects, max_rejects=2))
    captured = capsys.readouterr()
    assert code == 1
    assert (
        f"{pigeons:,} rows rejected, more than --max-rejects 2: nothing was produced"
        in captured.err
    )
    with rejects.open(newline="") as f:
        assert len(list(csv.DictReader(f))) == pigeons


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda m: m["time"].pop("repeated_hour"), "time.repeated_hour: say what a time"),
        (lambda m: m["time"].update(zone="Europe/Leicester"), "not an IANA time zone"),
        (lambda m: m["incidents"]["columns"].pop("reported_at"), "no column for reported_at"),
        (lambda m: m["incidents"]["columns"].update(reported_on="X"), "unknown 'reported_on'"),
        (
            lambda m: m["incidents"]["columns"].pop("closed_at"),
            "closing_code and closed_at go together",
        ),
        (lambda m: m["incidents"]["codes"]["channel"].update(FAX="fax"), "'fax' is not one of 999"),
        (
            lambda m: m["incidents"]["codes"]["category"].update(X="Not A Slug"),
            "not accepted by the event contract",
        ),
        (lambda m: m["incidents"]["codes"]["category"].update(X="theft"), "have none"),
        (lambda m: m["crimes"].update(delimiter="||"), "crimes.delimiter: one character"),
        (lambda m: m["crimes"].update(encoding="klingon"), "not an encoding Python knows"),
        (lambda m: m["crimes"]["codes"].pop("offence_group"), "offence_group column or give"),
        (lambda m: m["booleans"].update(false=["Y"]), "both true and false"),
    ],
)
def test_a_mistake_in_the_mapping_is_named_before_any_row_is_read(edit, message) -> None:
    raw = tomllib.loads(EXAMPLE_MAPPING.read_text())
    edit(raw)
    with pytest.raises(MappingError, match=message):
        parse_mapping(raw)


def test_a_bad_mapping_or_a_file_it_does_not_fit_is_one_line_and_exit_2(tmp_path, capsys) -> None:
    broken = tmp_path / "mapping.toml"
    broken.write_text("force = [")
    assert (
        main(["import", "--mapping", str(broken), str(EXAMPLES / "crimes.csv"), "--dry-run"]) == 2
    )
    assert "not valid TOML" in capsys.readouterr().err
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n")
    code = main(["import", "--mapping", str(EXAMPLE_MAPPING), str(other), "--dry-run",
                 "--rejects", str(tmp_path / "r.csv")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    assert "does not match the mapping" in err and "lacks 'Incident Number'" in err


def _events(*ages: timedelta) -> list[ImportEvent]:
    now = datetime.now(UTC)
    return [
        ImportEvent(int((now - age).timestamp()) * MICROS, "incidents", "k", str(i), "t", b"")
        for i, age in enumerate(ages)
    ]


def test_old_events_into_a_monitor_already_reading_get_a_warning_with_the_count() -> None:
    out = io.StringIO()
    settings = Settings(allowed_lateness=timedelta(hours=48), app_id="force-a")
    _warn_if_late(
        settings, _events(timedelta(days=3), timedelta(days=5), timedelta(hours=1)), True, out
    )
    text = out.getvalue()
    assert text.startswith(
        "warning: 2 of the 3 events to send are older than CDI_ALLOWED_LATENESS (48h)"
    )
    assert "group 'force-a' already reads these topics" in text
    assert "alerted due soon and overdue at once" in text


def test_old_events_before_the_worker_has_read_anything_are_a_replay() -> None:
    out = io.StringIO()
    _warn_if_late(Settings(), _events(timedelta(days=300)), False, out)
    assert out.getvalue().startswith("note: 1 of the 1 events")
    assert "replays them in event-time order" in out.getvalue()
    quiet = io.StringIO()
    _warn_if_late(
        Settings(allowed_lateness=timedelta(days=400)), _events(timedelta(days=300)), True, quiet
    )
    assert quiet.getvalue() == ""


def test_simulate_export_csv_writes_the_extracts_and_their_mapping(tmp_path, capsys) -> None:
    code = main(["simulate", "--export-csv", str(tmp_path), "--duration", "1d",
                 "--export-until", "2025-05-13", "--seed", "7"])  # fmt: skip
    assert code == 0
    assert "wrote" in capsys.readouterr().out
    assert (tmp_path / "mapping.toml").read_text() == EXAMPLE_MAPPING.read_text()
    # The committed examples are this command's output.
    assert (tmp_path / "incidents.csv").read_bytes() == (EXAMPLES / "incidents.csv").read_bytes()
    assert (tmp_path / "crimes.csv").read_bytes() == (EXAMPLES / "crimes.csv").read_bytes()


def test_exported_days_import_back_to_exactly_the_simulators_events(tmp_path) -> None:
    """What the simulator published (bar redelivered copies and ids) is what the import makes.

    Three days in May 2025: no clock change, so every local time reads back.
    Cancellations are made common and quick, so the days hold some.
    """
    start = datetime(2025, 5, 12, tzinfo=UTC)
    profile = replace(ForceProfile(), cancelled_share=0.2, cancel_after_seconds=(3600, 86_400))
    simulation = Simulation(profile, seed=3)
    export(simulation, start, start + timedelta(days=3), tmp_path, EXAMPLE_MAPPING)
    mapped = map_files(
        load_mapping(tmp_path / "mapping.toml"),
        [tmp_path / "incidents.csv", tmp_path / "crimes.csv"],
        progress=False,
    )
    assert not mapped.rejects
    direct = {
        (e.event_type, e.key, json.dumps(e.value["data"], sort_keys=True))
        for e in simulation.events(start, start + timedelta(days=3))
    }
    imported = {
        (e.event_type, e.key, json.dumps(json.loads(e.value)["data"], sort_keys=True))
        for e in mapped.events
    }
    assert len(imported) == len(mapped.events) > 4000
    assert imported == direct
    kinds = {kind for kind, _, _ in imported}
    assert kinds == {
        "cdi.incident.reported", "cdi.incident.updated", "cdi.incident.closed",
        "cdi.crime.recorded", "cdi.crime.cancelled",
    }  # fmt: skip
