"""``cdi-monitor simulate --export-csv DIR``: a simulated force as a force's daily extracts.

Instead of publishing events, the simulated period is written the way a
force's systems export it: one row per incident (``incidents.csv``: report,
current category, closing) and one per crime (``crimes.csv``: record, linked
incidents, cancellation), with local times and the force's own codes. The
layout is the inverse of a mapping file (by default
``examples/storm-niche-mapping.toml``): its column names, its time format and
zone, and for each of the monitor's values the first force code the mapping
lists for it. The mapping is copied next to the files, so
``cdi-monitor import --mapping DIR/mapping.toml DIR/*.csv`` loads them back.

What an extract cannot say is lost, as it would be: redelivered copies,
when each event reached the topic, and which of the two occurrences of the
repeated autumn hour a local time was.
"""

from __future__ import annotations

import argparse
import csv
import shutil
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from monitor.devtools.simulate.generator import SimEvent, Simulation
from monitor.devtools.simulate.profile import ForceProfile
from monitor.importer.mapping import Category, Mapping, MappingError, Section, load_mapping
from schemas.event_types import EventType

EXAMPLE_MAPPING = Path(__file__).resolve().parents[3] / "examples" / "storm-niche-mapping.toml"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--export-csv",
        metavar="DIR",
        default=None,
        help="write the simulated period as an incident and a crime extract (CSV, local "
        "times, the force's codes) into DIR instead of publishing it; with --duration "
        "(e.g. 365d), ending at the start of today (UTC)",
    )
    parser.add_argument(
        "--export-mapping",
        metavar="MAPPING.toml",
        default=None,
        help="the mapping whose layout the extracts follow (default "
        "examples/storm-niche-mapping.toml)",
    )
    parser.add_argument(
        "--export-until",
        metavar="YYYY-MM-DD",
        type=_date,
        default=None,
        help="the (UTC) day the exported period ends at the start of (default today)",
    )


def _date(text: str) -> datetime:
    try:
        return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date: {text!r} (try 2025-05-14)") from None


class ExportError(ValueError):
    """The mapping cannot describe something the simulation produced."""


@dataclass
class _Incident:
    reported: dict[str, Any]
    current: tuple[str, bool]
    changed_at: str | None = None
    closed: dict[str, Any] | None = None


@dataclass
class _Crime:
    recorded: dict[str, Any]
    cancelled: dict[str, Any] | None = None


@dataclass
class Extracts:
    """The simulated period as one row per incident and one per crime, in first-seen order."""

    incidents: dict[str, _Incident] = field(default_factory=dict)
    crimes: dict[str, _Crime] = field(default_factory=dict)
    orphans: int = 0
    """Updates or closings of an incident whose report is not in the period (none expected)."""

    def add(self, event: SimEvent) -> None:
        if event.redelivered:
            return
        kind, data = event.event_type, event.value["data"]
        if kind == EventType.INCIDENT_REPORTED:
            current = (data["category"], data["crime_related"])
            self.incidents[data["incident_id"]] = _Incident(data, current)
        elif kind == EventType.CRIME_RECORDED:
            self.crimes[data["crime_id"]] = _Crime(data)
        elif kind == EventType.CRIME_CANCELLED:
            crime = self.crimes.get(data["crime_id"])
            if crime is None:
                self.orphans += 1
            else:
                crime.cancelled = data
        else:
            incident = self.incidents.get(data["incident_id"])
            if incident is None:
                self.orphans += 1
            elif kind == EventType.INCIDENT_UPDATED:
                category, related = incident.current
                incident.current = (
                    data.get("category") or category,
                    related if data.get("crime_related") is None else data["crime_related"],
                )
                incident.changed_at = data["updated_at"]
            else:
                incident.closed = data


def collect(events: Iterable[SimEvent]) -> Extracts:
    extracts = Extracts()
    for event in events:
        extracts.add(event)
    return extracts


class _Layout:
    """Writing values the way a mapping section reads them back."""

    def __init__(self, section: Section, mapping: Mapping) -> None:
        self.section = section
        self.words = mapping.words
        self.format = section.time.formats[0]
        self.zone = section.time.zone
        self.inverse: dict[str, dict[Any, str]] = {}
        for table, codes in section.codes.items():
            inverse: dict[Any, str] = {}
            for code, value in codes.items():
                target = (
                    (value.category, value.crime_related) if isinstance(value, Category) else value
                )
                inverse.setdefault(target, code)
            self.inverse[table] = inverse

    def time(self, text: str | None) -> str:
        if not text:
            return ""
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return moment.astimezone(self.zone).strftime(self.format)

    def code(self, table: str, value: Any) -> str:
        inverse = self.inverse.get(table)
        if inverse is None:
            return "" if value is None else str(value)
        try:
            return inverse[value]
        except KeyError:
            raise ExportError(
                f"{self.section.kind}.codes.{table} has no code for {value!r}"
            ) from None

    def boolean(self, value: bool | None) -> str:
        return "" if value is None else self.words[0] if value else self.words[1]


def incident_rows(extracts: Extracts, layout: _Layout, force: str) -> Iterable[dict[str, str]]:
    flag_column = "crime_related" in layout.section.columns
    for incident_id, incident in extracts.incidents.items():
        data, closed = incident.reported, incident.closed or {}
        opening = (data["category"], data["crime_related"])
        row = {
            "incident_id": incident_id,
            "reported_at": layout.time(data["reported_at"]),
            "channel": layout.code("channel", data["channel"]),
            "grade": data.get("grade") or "",
            "division": layout.code("division", data.get("division"))
            if data.get("division")
            else "",
            "category": _category(layout, opening, flag_column),
            "crime_related": layout.boolean(data["crime_related"]),
            "current_category": _category(layout, incident.current, flag_column),
            "category_changed_at": layout.time(incident.changed_at),
            "closing_code": layout.code("closing_code", closed["closing_code"]) if closed else "",
            "closed_at": layout.time(closed.get("closed_at")),
            "closed_by_team": closed.get("closed_by_team") or "",
            "force": force,
        }
        yield row


def _category(layout: _Layout, value: tuple[str, bool], flag_column: bool) -> str:
    if flag_column:
        return layout.code("category", (value[0], None))
    return layout.code("category", value)


def crime_rows(extracts: Extracts, layout: _Layout) -> Iterable[dict[str, str]]:
    groups = layout.section.codes.get("offence_group")
    own_group = "offence_group" in layout.section.columns
    for crime_id, crime in extracts.crimes.items():
        data, cancelled = crime.recorded, crime.cancelled or {}
        if (
            not own_group
            and groups is not None
            and groups.get(data["offence_code"]) != data["offence_group"]
        ):
            raise ExportError(
                f"crimes.codes.offence_group does not map {data['offence_code']!r} to "
                f"{data['offence_group']!r}"
            )
        yield {
            "crime_id": crime_id,
            "recorded_at": layout.time(data["recorded_at"]),
            "incident_ids": layout.section.list_separator.join(data["incident_ids"]),
            "offence_code": data["offence_code"],
            "offence_group": data["offence_group"],
            "victim_ref": data.get("victim_ref") or "",
            "victim_consents_to_referral": layout.boolean(data.get("victim_consents_to_referral")),
            "domestic_abuse": layout.boolean(data.get("domestic_abuse")),
            "victim_bereaved_relative": layout.boolean(data.get("victim_bereaved_relative")),
            "cancelled_at": layout.time(cancelled.get("cancelled_at")),
            "cancellation_reason": (
                layout.code("cancellation_reason", cancelled["reason"]) if cancelled else ""
            ),
        }


def write_section(path: Path, section: Section, rows: Iterable[dict[str, str]]) -> int:
    """Write ``rows`` (keyed by the monitor's field names) under the section's column names."""
    if section.file.kind != "csv":
        raise ExportError(
            f"{section.kind}: the export writes CSV; the mapping says {section.file.kind}"
        )
    fields = list(section.columns)
    count = 0
    with path.open("w", newline="", encoding=section.file.encoding) as out:
        writer = csv.writer(out, delimiter=section.file.delimiter, quotechar=section.file.quotechar)
        writer.writerow([section.columns[f] for f in fields])
        for row in rows:
            writer.writerow([row[f] for f in fields])
            count += 1
    return count


def export(
    simulation: Simulation, start: datetime, until: datetime, directory: Path, mapping_path: Path
) -> tuple[int, int]:
    """Write ``incidents.csv``, ``crimes.csv`` and ``mapping.toml`` into ``directory``."""
    mapping = load_mapping(mapping_path)
    if mapping.incidents is None or mapping.crimes is None:
        raise ExportError(f"{mapping_path}: needs both an [incidents] and a [crimes] section")
    extracts = collect(simulation.events(start, until))
    directory.mkdir(parents=True, exist_ok=True)
    incidents = write_section(
        directory / "incidents.csv",
        mapping.incidents,
        incident_rows(extracts, _Layout(mapping.incidents, mapping), mapping.force),
    )
    crimes = write_section(
        directory / "crimes.csv",
        mapping.crimes,
        crime_rows(extracts, _Layout(mapping.crimes, mapping)),
    )
    if mapping_path.resolve() != (directory / "mapping.toml").resolve():
        shutil.copyfile(mapping_path, directory / "mapping.toml")
    return incidents, crimes


def export_command(args: argparse.Namespace) -> int:
    if args.duration is None:
        print("cdi-monitor simulate: --export-csv needs --duration (e.g. 365d)", file=sys.stderr)
        return 2
    mapping_path = Path(args.export_mapping) if args.export_mapping else EXAMPLE_MAPPING
    profile = ForceProfile()
    if args.incidents_per_year:
        profile = replace(profile, incidents_per_year=args.incidents_per_year)
    until = args.export_until or datetime.now(UTC).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    start = until - args.duration
    directory = Path(args.export_csv)
    try:
        incidents, crimes = export(
            Simulation(profile, seed=args.seed), start, until, directory, mapping_path
        )
    except (MappingError, ExportError) as exc:
        print(f"cdi-monitor simulate: {exc}", file=sys.stderr)
        return 2
    print(
        f"wrote {incidents:,} incidents to {directory / 'incidents.csv'} and {crimes:,} crimes "
        f"to {directory / 'crimes.csv'} ({_day(start)} to {_day(until - timedelta(seconds=1))}, "
        f"{profile.force}, seed {args.seed}); the mapping is {directory / 'mapping.toml'}"
    )
    return 0


def _day(moment: datetime) -> str:
    return moment.strftime("%d %b %Y")
