"""The rows of an export file, with the line each starts on.

CSV (any delimiter and encoding the mapping names) and JSON Lines. A row
that cannot be read as a row (the wrong number of fields, bytes that are not
text in the file's encoding, a line that is not a JSON object) comes out as a
``Reject`` in its place, so the caller accounts for every row.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monitor.importer.mapping import FileFormat, Mapping, Section
from monitor.importer.rejects import Reject

# Free-text columns in real extracts can be long; the default limit is 128 KiB.
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


class FileError(ValueError):
    """A file that cannot be imported at all (unreadable, no header, not matching the mapping)."""


@dataclass(frozen=True, slots=True)
class Row:
    line: int
    values: dict[str, Any]


def rows(path: Path, fmt: FileFormat) -> Iterator[Row | Reject]:
    if fmt.kind == "jsonl":
        yield from _jsonl_rows(path, fmt)
    else:
        yield from _csv_rows(path, fmt)


def header(path: Path, fmt: FileFormat) -> list[str]:
    """The column names: the CSV header, or the keys of the first JSON object."""
    if fmt.kind == "jsonl":
        first = next((item for item in rows(path, fmt) if isinstance(item, Row)), None)
        return [] if first is None else list(first.values)
    try:
        with path.open(newline="", encoding=fmt.encoding, errors="surrogateescape") as f:
            first_line = next(csv.reader(f, delimiter=fmt.delimiter, quotechar=fmt.quotechar), [])
    except (OSError, csv.Error) as exc:
        raise FileError(f"{path}: cannot read the header: {exc}") from None
    columns = [c.strip() for c in first_line]
    if _undecodable(dict(zip(map(str, range(len(columns))), columns, strict=True))) is not None:
        raise FileError(f"{path}: the header is not {fmt.encoding} text")
    return columns


def which_section(path: Path, mapping: Mapping) -> Section:
    """The mapping section whose required columns the file has (exactly one must fit)."""
    fits, misses = [], []
    for section in mapping.sections:
        try:
            columns = set(header(path, section.file))
        except FileError as exc:
            misses.append(f"as {section.kind}: {exc}")
            continue
        missing = [c for c in section.required_columns if c not in columns]
        if missing:
            misses.append(f"as {section.kind} it lacks {', '.join(map(repr, missing))}")
        else:
            fits.append(section)
    if len(fits) == 1:
        return fits[0]
    if not fits:
        raise FileError(f"{path}: does not match the mapping ({'; '.join(misses)})")
    raise FileError(f"{path}: has the columns of both incidents and crimes; split it")


def _csv_rows(path: Path, fmt: FileFormat) -> Iterator[Row | Reject]:
    name = str(path)
    # surrogateescape keeps undecodable bytes so each bad row is rejected on its own.
    with path.open(newline="", encoding=fmt.encoding, errors="surrogateescape") as f:
        reader = csv.reader(f, delimiter=fmt.delimiter, quotechar=fmt.quotechar, strict=True)
        try:
            columns = [c.strip() for c in next(reader)]
        except StopIteration:
            return
        except csv.Error as exc:
            raise FileError(f"{path}: the header cannot be read: {exc}") from None
        duplicated = sorted({c for c in columns if columns.count(c) > 1})
        if duplicated:
            raise FileError(f"{path}: the header names {', '.join(map(repr, duplicated))} twice")
        width = len(columns)
        previous = reader.line_num
        while True:
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield Reject(name, previous + 1, "", f"not a CSV row: {exc}")
                previous = reader.line_num
                continue
            line, previous = previous + 1, reader.line_num
            if not fields:
                continue  # a blank line is not a row
            if len(fields) != width:
                yield Reject(
                    name, line, "", f"the row has {len(fields)} fields, the header {width}", fields
                )
                continue
            values = dict(zip(columns, fields, strict=True))
            bad = _undecodable(values)
            if bad is not None:
                yield Reject(name, line, bad, f"not {fmt.encoding} text", _printable(values))
                continue
            yield Row(line, values)


def _undecodable(values: dict[str, str]) -> str | None:
    try:
        "".join(values.values()).encode("utf-8")
    except UnicodeEncodeError:
        pass
    else:
        return None
    for column, value in values.items():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return column
    return None


def _printable(values: dict[str, str]) -> dict[str, str]:
    return {k: v.encode("utf-8", "replace").decode("utf-8") for k, v in values.items()}


def _jsonl_rows(path: Path, fmt: FileFormat) -> Iterator[Row | Reject]:
    name = str(path)
    with path.open("rb") as f:
        for number, raw in enumerate(f, start=1):
            if not raw.strip():
                continue
            try:
                value = json.loads(raw.decode(fmt.encoding))
            except UnicodeDecodeError:
                yield Reject(name, number, "", f"not {fmt.encoding} text")
                continue
            except json.JSONDecodeError as exc:
                yield Reject(name, number, "", f"not JSON: {exc.msg} at character {exc.pos}")
                continue
            if not isinstance(value, dict):
                yield Reject(name, number, "", "not a JSON object", value)
                continue
            yield Row(number, value)
