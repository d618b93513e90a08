"""``cdi-monitor import --mapping MAPPING.toml FILE...``: load exports onto the input topics.

1. Load the mapping; match each file to its section by its columns.
2. Read every row, map it to events or to a reject (with a progress bar on a
   terminal). Nothing is produced until every file has been read.
3. Write the rejects file; stop (exit 1) if there are more than
   ``--max-rejects``; with ``--dry-run`` stop here, having touched no broker.
4. Make sure the topics exist, skip the events the topics already hold (by
   id), warn about events the running monitor will take as late data, and
   produce the rest in event-time order.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from operator import attrgetter
from pathlib import Path
from typing import TextIO

from tqdm import tqdm

from monitor.importer.events import CrimeRows, ImportEvent, IncidentRows, RowError
from monitor.importer.mapping import Mapping, MappingError, Section, load_mapping
from monitor.importer.reading import FileError, Row, rows, which_section
from monitor.importer.rejects import Reject, by_reason, write_rejects
from monitor.importer.timezones import MICROS, rfc3339
from monitor.settings import Settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="incident and crime exports")
    parser.add_argument(
        "--mapping", required=True, metavar="MAPPING.toml", help="columns, times and code tables"
    )
    parser.add_argument(
        "--rejects",
        default="import-rejects.csv",
        metavar="FILE",
        help="where rows that were not imported go, with line, column and reason "
        "(default ./import-rejects.csv, written afresh each run)",
    )
    parser.add_argument(
        "--max-rejects",
        type=int,
        default=None,
        metavar="N",
        help="fail, producing nothing, if more than N rows are rejected (default: no limit)",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="check the files against the mapping and write the rejects; produce nothing",
    )


@dataclass
class Mapped:
    """What reading the files gave: events in event-time order, and the rejects."""

    events: list[ImportEvent] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    rows: Counter[str] = field(default_factory=Counter)
    duplicates: int = 0

    @property
    def by_type(self) -> Counter[str]:
        return Counter(e.event_type for e in self.events)


class ImportFailed(Exception):
    """A mapping or a file the import cannot use at all: one line, nothing produced."""


def map_files(mapping: Mapping, paths: list[Path], *, progress: bool | None = None) -> Mapped:
    """Read and map every file (each matched to its section by its columns)."""
    sections: list[tuple[Path, Section]] = []
    for path in paths:
        if not path.is_file():
            raise ImportFailed(f"{path}: no such file")
        try:
            sections.append((path, which_section(path, mapping)))
        except FileError as exc:
            raise ImportFailed(str(exc)) from None
    out = Mapped()
    crimes = CrimeRows(mapping.crimes, mapping) if mapping.crimes else None
    incidents = IncidentRows(mapping.incidents, mapping) if mapping.incidents else None
    total = sum(_rows_in(path) for path, _ in sections)
    with tqdm(total=total, unit=" rows", desc="reading", disable=_quiet(progress)) as bar:
        for path, section in sections:
            name = str(path)
            try:
                for item in rows(path, section.file):
                    bar.update()
                    out.rows[section.kind] += 1
                    if isinstance(item, Reject):
                        out.rejects.append(item)
                        continue
                    try:
                        if section.kind == "incidents":
                            assert incidents is not None  # noqa: S101 - the section exists
                            out.events.extend(incidents.events(item))
                        else:
                            assert crimes is not None  # noqa: S101
                            crimes.add(name, item)
                    except RowError as exc:
                        out.rejects.append(
                            Reject(name, item.line, exc.column, exc.reason, item.values)
                        )
            except (FileError, OSError) as exc:
                raise ImportFailed(f"{path}: {exc}") from None
    if crimes is not None:
        out.events.extend(event for _, _, event in crimes.events())
    _dedupe_and_order(out)
    return out


def _dedupe_and_order(out: Mapped) -> None:
    seen: set[str] = set()
    unique = []
    for event in out.events:
        if event.event_id in seen:
            out.duplicates += 1
            continue
        seen.add(event.event_id)
        unique.append(event)
    # Stable: events of one row keep their order (report, change, closing) at equal times.
    unique.sort(key=attrgetter("at"))
    out.events = unique


def _rows_in(path: Path) -> int:
    """Lines in the file less a header: the progress bar's total (quoted newlines aside)."""
    count = 0
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            count += chunk.count(b"\n")
    return max(count - (0 if path.suffix.lower() in (".jsonl", ".ndjson") else 1), 0)


def _quiet(progress: bool | None) -> bool | None:
    """tqdm's ``disable``: None hides the bar when stderr is not a terminal."""
    return None if progress is None else not progress


def run_import(settings: Settings, args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    try:
        mapping = load_mapping(args.mapping)
        mapped = map_files(mapping, [Path(f) for f in args.files])
    except (MappingError, ImportFailed) as exc:
        print(f"cdi-monitor import: {exc}", file=sys.stderr)
        return 2
    rejects_path = Path(args.rejects)
    write_rejects(rejects_path, mapped.rejects)
    _print_read_summary(mapped, rejects_path, out)
    if args.max_rejects is not None and len(mapped.rejects) > args.max_rejects:
        print(
            f"cdi-monitor import: {len(mapped.rejects):,} rows rejected, more than "
            f"--max-rejects {args.max_rejects:,}: nothing was produced. Fix the rows or the "
            f"mapping (reasons in {rejects_path}) and run it again.",
            file=sys.stderr,
        )
        return 1
    if args.dry_run:
        print(
            f"dry run: {len(mapped.events):,} events would be sent; nothing was produced", file=out
        )
        return 0
    return asyncio.run(_produce(settings, mapped, out))


def _print_read_summary(mapped: Mapped, rejects_path: Path, out: TextIO) -> None:
    rows = mapped.rows.total()
    kinds = ", ".join(f"{n:,} {kind}" for kind, n in sorted(mapped.rows.items()))
    rejected = len(mapped.rejects)
    print(
        f"read {rows:,} rows ({kinds}): {rows - rejected:,} imported, {rejected:,} rejected"
        + (f" (see {rejects_path})" if rejected else ""),
        file=out,
    )
    for column, n in by_reason(mapped.rejects).most_common():
        print(f"  rejected for {column}: {n:,}", file=out)
    types = ", ".join(f"{t} {n:,}" for t, n in sorted(mapped.by_type.items()))
    span = ""
    if mapped.events:
        span = f"; event time {rfc3339(mapped.events[0].at)} to {rfc3339(mapped.events[-1].at)}"
    print(f"events: {len(mapped.events):,} ({types}){span}", file=out)
    if mapped.duplicates:
        print(f"  {mapped.duplicates:,} repeated within the files (same id), sent once", file=out)


async def _produce(settings: Settings, mapped: Mapped, out: TextIO) -> int:
    from monitor.adapters.kafka.topology import ensure_topics
    from monitor.importer.producing import (
        ids_on_topics,
        monitor_has_read,
        producer,
        send_in_rounds,
        topic_names,
    )

    await asyncio.to_thread(ensure_topics, settings)
    names = topic_names(settings)
    present = await ids_on_topics(settings, names.values())
    todo = [e for e in mapped.events if e.event_id not in present]
    print(
        f"{len(mapped.events) - len(todo):,} of the events are already on "
        f"{', '.join(names.values())} (same id): not sent again",
        file=out,
    )
    _warn_if_late(settings, todo, await asyncio.to_thread(monitor_has_read, settings), out)
    client = producer(settings)
    await client.start()
    started = time.perf_counter()
    try:
        with tqdm(total=len(todo), unit=" events", desc="sending", disable=None) as bar:
            sent = await send_in_rounds(client, settings, todo, on_sent=bar.update)
    finally:
        await client.stop()
    seconds = time.perf_counter() - started
    rate = f" ({sent / seconds:,.0f}/s)" if sent and seconds > 0 else ""
    print(f"sent {sent:,} events to {', '.join(names.values())} in {seconds:.1f} s{rate}", file=out)
    return 0


def _warn_if_late(
    settings: Settings, events: list[ImportEvent], has_read: bool | None, out: TextIO
) -> None:
    """Say what the monitor will make of events older than its allowed lateness."""
    lateness = settings.allowed_lateness
    cutoff = int((datetime.now(UTC) - lateness).timestamp()) * MICROS
    late = sum(1 for e in events if e.at < cutoff)
    if not late:
        return
    group = settings.app_id
    what = (
        f"{late:,} of the {len(events):,} events to send are older than CDI_ALLOWED_LATENESS "
        f"({_duration(lateness.total_seconds())})"
    )
    if has_read is False:
        print(
            f"note: {what}. The monitor's group {group!r} has not read these topics yet: "
            "start the worker after the import and it replays them in event-time order, "
            "raising what a live run would have raised.",
            file=out,
        )
        return
    known = "already reads" if has_read else "may already read (the broker did not say)"
    print(
        f"warning: {what}, and the monitor's group {group!r} {known} these topics, so it "
        "takes them as late data: an imported incident whose crime record it has not read yet "
        "is alerted due soon and overdue at once (its deadline has passed on the monitor's "
        "clock) and resolved when the record is read (resolved, late: false). Set "
        "CDI_ALLOWED_LATENESS on the workers to more than the age of the extracts (e.g. 48h "
        "for daily extracts of the day before) so alerts wait for them, or import into a "
        "fresh deployment (a new CDI_APP_ID) before starting its workers. See docs/import.md.",
        file=out,
    )


def _duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:g}h"
    if seconds >= 60:
        return f"{seconds / 60:g}m"
    return f"{seconds:g}s"


__all__ = ["Mapped", "Row", "add_arguments", "map_files", "run_import"]
