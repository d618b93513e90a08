"""The mapping file: which export column is which field, how times read, what codes mean.

A TOML file with an ``[incidents]`` and/or a ``[crimes]`` section (one per
kind of export), a ``[time]`` table (formats, zone, the rule for the repeated
autumn hour) and ``[booleans]``. Every mistake in it is reported at load time
with its place in the file (``incidents.codes.channel."999 CALL"``), so a bad
mapping fails before any row is read. See docs/import.md for a full example.
"""

from __future__ import annotations

import codecs
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import TypeAdapter, ValidationError

from schemas.common import Name, Slug
from schemas.crimes import CancellationReason
from schemas.incidents import Channel, ClosingCode

RepeatedHour = Literal["earlier", "later", "reject"]
"""What a local time in the autumn's repeated hour means: its first occurrence
(summer time), its second (winter time), or a rejected row."""

FileKind = Literal["csv", "jsonl"]

DELIMITERS = {"comma": ",", "tab": "\t", "pipe": "|", "semicolon": ";", "colon": ":"}

INCIDENT_FIELDS = {
    "incident_id": True,
    "reported_at": True,
    "channel": True,
    "category": True,
    "crime_related": False,
    "division": False,
    "grade": False,
    "force": False,
    "current_category": False,
    "category_changed_at": False,
    "closing_code": False,
    "closed_at": False,
    "closed_by_team": False,
}
"""Fields an incident export can have; True for those every mapping must name."""

CRIME_FIELDS = {
    "crime_id": True,
    "recorded_at": True,
    "offence_code": True,
    "incident_ids": False,
    "offence_group": False,
    "victim_ref": False,
    "victim_consents_to_referral": False,
    "domestic_abuse": False,
    "victim_bereaved_relative": False,
    "cancelled_at": False,
    "cancellation_reason": False,
}

INCIDENT_TABLES = ("channel", "category", "closing_code", "division")
CRIME_TABLES = ("offence_group", "cancellation_reason")

_SLUG = TypeAdapter(Slug)
_NAME = TypeAdapter(Name)


class MappingError(ValueError):
    """The mapping file is wrong; the message names the place and what to write."""


@dataclass(frozen=True)
class TimeRules:
    """How the export writes times: strptime formats, tried in order, in ``zone``."""

    formats: tuple[str, ...]
    zone: ZoneInfo
    repeated_hour: RepeatedHour


@dataclass(frozen=True)
class FileFormat:
    kind: FileKind = "csv"
    delimiter: str = ","
    encoding: str = "utf-8-sig"
    quotechar: str = '"'


@dataclass(frozen=True)
class Category:
    """What a force's incident type code means: the monitor's category, and
    whether an incident of that type discloses a crime (None: a column says)."""

    category: str
    crime_related: bool | None


@dataclass(frozen=True)
class Section:
    """One kind of export: ``incidents`` or ``crimes``."""

    kind: Literal["incidents", "crimes"]
    source: str
    file: FileFormat
    time: TimeRules
    columns: dict[str, str]
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    list_separator: str = ";"

    def column(self, name: str) -> str | None:
        return self.columns.get(name)

    @property
    def required_columns(self) -> list[str]:
        fields = INCIDENT_FIELDS if self.kind == "incidents" else CRIME_FIELDS
        return [self.columns[f] for f, required in fields.items() if required]


@dataclass(frozen=True)
class Mapping:
    force: str
    true_values: frozenset[str]
    false_values: frozenset[str]
    incidents: Section | None
    crimes: Section | None
    path: Path | None = None
    words: tuple[str, str] = ("true", "false")
    """The first true and false words as written: what an export writer uses."""

    @property
    def sections(self) -> list[Section]:
        return [s for s in (self.incidents, self.crimes) if s is not None]


def load_mapping(path: str | Path) -> Mapping:
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MappingError(f"{path}: no such mapping file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise MappingError(f"{path}: not valid TOML: {exc}") from None
    try:
        return parse_mapping(raw, path)
    except MappingError as exc:
        raise MappingError(f"{path}: {exc}") from None


def parse_mapping(raw: dict[str, Any], path: Path | None = None) -> Mapping:
    _only(raw, {"force", "time", "booleans", "incidents", "crimes"}, "the file")
    force = _text(raw, "force", "the file")
    _check(_NAME, force, "force")
    time = raw.get("time", {})
    booleans = raw.get("booleans", {})
    _only(booleans, {"true", "false"}, "booleans")
    trues = booleans.get("true", ["true", "yes", "y", "1"])
    falses = booleans.get("false", ["false", "no", "n", "0"])
    true_values = _words(trues, "booleans.true")
    false_values = _words(falses, "booleans.false")
    if true_values & false_values:
        raise MappingError(
            f"booleans: {sorted(true_values & false_values)} are both true and false"
        )
    incidents = raw.get("incidents")
    crimes = raw.get("crimes")
    if incidents is None and crimes is None:
        raise MappingError("needs an [incidents] or a [crimes] section (or both)")
    return Mapping(
        force=force,
        true_values=true_values,
        false_values=false_values,
        incidents=None if incidents is None else _section("incidents", incidents, time),
        crimes=None if crimes is None else _section("crimes", crimes, time),
        path=path,
        words=(trues[0].strip(), falses[0].strip()),
    )


def _section(kind: Literal["incidents", "crimes"], raw: Any, time: Any) -> Section:
    if not isinstance(raw, dict):
        raise MappingError(f"{kind} must be a table")
    _only(
        raw,
        {"source", "format", "delimiter", "encoding", "quotechar", "time", "columns", "codes",
         "list_separator"},
        kind,
    )  # fmt: skip
    fields = INCIDENT_FIELDS if kind == "incidents" else CRIME_FIELDS
    columns = raw.get("columns")
    if not isinstance(columns, dict):
        raise MappingError(f"{kind}.columns: missing; it names the export's column for each field")
    _only(columns, set(fields), f"{kind}.columns")
    for name, column in columns.items():
        if not isinstance(column, str) or not column:
            raise MappingError(f"{kind}.columns.{name}: must be a column name (text)")
    missing = [f for f, required in fields.items() if required and f not in columns]
    if missing:
        raise MappingError(f"{kind}.columns: no column for {', '.join(missing)}")
    codes = raw.get("codes", {})
    tables = INCIDENT_TABLES if kind == "incidents" else CRIME_TABLES
    _only(codes, set(tables), f"{kind}.codes")
    parsed = {name: _table(kind, name, table) for name, table in codes.items()}
    section = Section(
        kind=kind,
        source=_text(raw, "source", kind),
        file=_file_format(raw, kind),
        time=_time_rules(time, raw.get("time", {}), kind),
        columns=dict(columns),
        codes=parsed,
        list_separator=_text(raw, "list_separator", kind, default=";"),
    )
    _check_pairs(section)
    return section


def _check_pairs(section: Section) -> None:
    """Fields that only mean something together, and codes that must be complete."""
    columns, codes, kind = section.columns, section.codes, section.kind
    pairs = (
        [("closing_code", "closed_at")]
        if kind == "incidents"
        else [("cancelled_at", "cancellation_reason")]
    )
    for a, b in pairs:
        if (a in columns) != (b in columns):
            raise MappingError(f"{kind}.columns: {a} and {b} go together: name both or neither")
    if kind == "incidents":
        if "category_changed_at" in columns and "current_category" not in columns:
            raise MappingError(
                "incidents.columns: category_changed_at needs current_category (the code it "
                "changed to)"
            )
        if "crime_related" not in columns:
            table = codes.get("category")
            lacking = [code for code, value in (table or {}).items() if value.crime_related is None]
            if table is None or lacking:
                which = f" (codes {', '.join(map(repr, lacking[:5]))} have none)" if lacking else ""
                raise MappingError(
                    "incidents: say whether an incident discloses a crime, either with a "
                    "crime_related column or with crime_related in every "
                    f"incidents.codes.category entry{which}"
                )
    elif "offence_group" not in columns and "offence_group" not in codes:
        raise MappingError(
            "crimes: name an offence_group column or give [crimes.codes.offence_group] "
            "(Home Office offence code to offence group)"
        )


def _table(kind: str, name: str, table: Any) -> dict[str, Any]:
    where = f"{kind}.codes.{name}"
    if not isinstance(table, dict) or not table:
        raise MappingError(f"{where}: must be a table of force code = value")
    out: dict[str, Any] = {}
    for code, value in table.items():
        place = f'{where}."{code}"'
        code = code.strip()
        if name == "category":
            out[code] = _category(value, place)
        elif name == "channel":
            out[code] = _member(Channel, value, place)
        elif name == "closing_code":
            out[code] = _member(ClosingCode, value, place)
        elif name == "cancellation_reason":
            out[code] = _member(CancellationReason, value, place)
        elif name == "offence_group":
            out[code] = _check(_SLUG, value, place)
        else:  # division
            out[code] = _check(_NAME, value, place)
    return out


def _category(value: Any, place: str) -> Category:
    if isinstance(value, str):
        return Category(_check(_SLUG, value, place), None)
    if isinstance(value, dict):
        _only(value, {"category", "crime_related"}, place)
        related = value.get("crime_related")
        if related is not None and not isinstance(related, bool):
            raise MappingError(f"{place}.crime_related: must be true or false")
        return Category(_check(_SLUG, value.get("category"), f"{place}.category"), related)
    raise MappingError(
        f'{place}: a category ("violence") or {{ category = ..., crime_related = ... }}'
    )


def _member(enum: Any, value: Any, place: str) -> str:
    allowed = [m.value for m in enum]
    if value not in allowed:
        raise MappingError(f"{place}: {value!r} is not one of {', '.join(allowed)}")
    return str(value)


def _time_rules(common: Any, own: Any, kind: str) -> TimeRules:
    if not isinstance(common, dict) or not isinstance(own, dict):
        raise MappingError("time must be a table")
    merged = {**common, **own}
    where = f"{kind}.time" if own else "time"
    _only(merged, {"formats", "zone", "repeated_hour"}, where)
    formats = merged.get("formats")
    if isinstance(formats, str):
        formats = [formats]
    if not formats or not all(isinstance(f, str) and "%" in f for f in formats):
        raise MappingError(
            f'{where}.formats: list the export\'s strptime formats, e.g. ["%d/%m/%Y %H:%M:%S"]'
        )
    zone_name = merged.get("zone")
    if not isinstance(zone_name, str):
        raise MappingError(
            f'{where}.zone: the zone the export\'s times are in, e.g. "Europe/London"'
        )
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise MappingError(f"{where}.zone: {zone_name!r} is not an IANA time zone") from None
    rule = merged.get("repeated_hour")
    if rule not in get_args(RepeatedHour):
        raise MappingError(
            f"{where}.repeated_hour: say what a time in the hour the autumn clock change "
            'repeats means: "earlier" (the first, summer-time occurrence), "later" (the '
            'second, winter-time one) or "reject" (reject the row)'
        )
    return TimeRules(tuple(formats), zone, cast(RepeatedHour, rule))


def _file_format(raw: dict[str, Any], kind: str) -> FileFormat:
    fmt = raw.get("format", "csv")
    if fmt not in get_args(FileKind):
        raise MappingError(f'{kind}.format: "csv" or "jsonl", not {fmt!r}')
    delimiter = raw.get("delimiter", "comma")
    delimiter = DELIMITERS.get(delimiter, delimiter)
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        raise MappingError(
            f"{kind}.delimiter: one character or one of {', '.join(DELIMITERS)}, not {delimiter!r}"
        )
    encoding = raw.get("encoding", "utf-8-sig")
    try:
        codecs.lookup(encoding)
    except (LookupError, TypeError):
        raise MappingError(
            f"{kind}.encoding: {encoding!r} is not an encoding Python knows"
        ) from None
    quotechar = raw.get("quotechar", '"')
    if not isinstance(quotechar, str) or len(quotechar) != 1:
        raise MappingError(f"{kind}.quotechar: one character")
    return FileFormat(fmt, delimiter, encoding, quotechar)


def _only(table: Any, allowed: set[str], where: str) -> None:
    if not isinstance(table, dict):
        raise MappingError(f"{where}: must be a table")
    unknown = sorted(set(table) - allowed)
    if unknown:
        known = ", ".join(sorted(allowed))
        raise MappingError(f"{where}: unknown {', '.join(map(repr, unknown))} (known: {known})")


def _text(table: dict[str, Any], key: str, where: str, default: str | None = None) -> str:
    value = table.get(key, default)
    if not isinstance(value, str) or not value:
        raise MappingError(f"{where}: {key} must be given as text")
    return value


def _words(values: Any, where: str) -> frozenset[str]:
    if not isinstance(values, list) or not all(isinstance(v, str) and v.strip() for v in values):
        raise MappingError(f'{where}: a list of words, e.g. ["Y", "Yes"]')
    return frozenset(v.strip().casefold() for v in values)


def _check(adapter: TypeAdapter[Any], value: Any, place: str) -> Any:
    try:
        return adapter.validate_python(value, strict=True)
    except ValidationError as exc:
        reason = exc.errors()[0]["msg"]
        raise MappingError(
            f"{place}: {value!r} is not accepted by the event contract: {reason}"
        ) from None
