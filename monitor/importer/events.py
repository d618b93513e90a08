"""Export rows to the monitor's input events.

An **incident row** is the whole life of an incident as the command-and-control
system knows it at the time of the extract:

- ``cdi.incident.reported`` at ``reported_at``, with the opening category;
- ``cdi.incident.updated`` when the current (or closing) category differs
  from the opening one in its category or in whether it discloses a crime,
  at ``category_changed_at``, or at ``closed_at`` when the export has no time
  for the change (a row with a change and neither time is rejected);
- ``cdi.incident.closed`` at ``closed_at`` with the mapped closing code.

A **crime row** is ``cdi.crime.recorded`` at ``recorded_at``, linked to every
incident reference in its incident column (several, split by the mapping's
``list_separator``), and ``cdi.crime.cancelled`` when it carries a
cancellation. Rows of one crime (an export with one row per linked incident)
are merged into one record, in the order the references first appear; rows
that disagree about anything else are rejected.

**Event ids** are UUID version 5 of the event's type, source and data, so the
same row gives the same ids however often it is imported, and a row a later
extract changed gives new events, which the monitor's rules fold in (the
earliest report and recording count). ``time`` is the event time of the fact.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any, Literal, NamedTuple

from pydantic import TypeAdapter, ValidationError

from monitor.importer.mapping import Category, Mapping, Section
from monitor.importer.reading import Row
from monitor.importer.timezones import LocalTimes, TimeError, rfc3339
from schemas.common import CrimeId, IncidentId, Name
from schemas.crimes import CrimeRecordedData, VictimRef
from schemas.event_types import EventType
from schemas.incidents import IncidentReportedData

Topic = Literal["incidents", "crime-records"]
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:cdi-monitor:import")


class ImportEvent(NamedTuple):
    """One event ready to send: ``at`` is its event time in UTC epoch microseconds.

    A named tuple rather than a frozen dataclass: a year is a million of them.
    """

    at: int
    topic: Topic
    key: str
    event_id: str
    event_type: str
    value: bytes


class RowError(ValueError):
    """A row that cannot be imported: the column at fault and a readable reason."""

    def __init__(self, column: str, reason: str) -> None:
        super().__init__(f"{column}: {reason}")
        self.column = column
        self.reason = reason


_DATA = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
_NAMESPACE_BYTES = NAMESPACE.bytes


def event_id(event_type: str, source: str, body: str) -> str:
    """UUID version 5 (RFC 4122) of the type, source and data in ``NAMESPACE``.

    The same as ``uuid.uuid5(NAMESPACE, f"{event_type}\\n{source}\\n{body}")``, written
    out because it runs once per event.
    """
    digest = bytearray(
        hashlib.sha1(  # noqa: S324 - UUID version 5 is defined with SHA-1; not for security
            _NAMESPACE_BYTES + f"{event_type}\n{source}\n{body}".encode()
        ).digest()[:16]
    )
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def encode(event_type: str, source: str, at_text: str, data: dict[str, Any]) -> tuple[str, bytes]:
    """The event's id and its bytes: a CloudEvent in structured mode, compact JSON."""
    body = _DATA.encode(data)
    eid = event_id(event_type, source, body)
    value = (
        f'{{"specversion":"1.0","id":"{eid}","source":{_DATA.encode(source)},'
        f'"type":"{event_type}","time":"{at_text}",'
        f'"datacontenttype":"application/json","data":{body}}}'
    )
    return eid, value.encode()


def _adapter(model: Any, name: str) -> TypeAdapter[Any]:
    """The contract's type of one field of a model, to check a value against on its own."""
    info = model.model_fields[name]
    if not info.metadata:
        return TypeAdapter(info.annotation)
    return TypeAdapter(Annotated[(info.annotation, *info.metadata)])  # type: ignore[arg-type]


class _Cells:
    """Reading one section's cells: text, required values, codes, booleans and times."""

    def __init__(self, section: Section, mapping: Mapping) -> None:
        self.section = section
        self.mapping = mapping
        self.times = LocalTimes(section.time)
        self.codes = section.codes
        self.columns = section.columns
        self._valid: dict[tuple[str, str], Any] = {}

    def col(self, name: str) -> str:
        return self.section.columns.get(name, "")

    def text(self, values: dict[str, Any], name: str) -> str:
        column = self.columns.get(name)
        if column is None:
            return ""
        value = values.get(column)
        if value.__class__ is str:
            return value.strip()
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return str(value)
        raise RowError(column, f"expected a single value, not {type(value).__name__}")

    def required(self, values: dict[str, Any], name: str) -> str:
        value = self.text(values, name)
        if not value:
            raise RowError(self.col(name), f"empty, but {name} is required")
        return value

    def time(self, values: dict[str, Any], name: str, *, required: bool) -> int | None:
        text = self.required(values, name) if required else self.text(values, name)
        if not text:
            return None
        try:
            return self.times.parse(text)
        except TimeError as exc:
            raise RowError(self.col(name), str(exc)) from None

    def both_or_neither(
        self, values: dict[str, Any], text: tuple[str, str], time: tuple[str, str]
    ) -> tuple[str, int | None]:
        """A code and its time (each a field and how a reader calls it): both given or neither."""
        given = self.text(values, text[0])
        at = self.time(values, time[0], required=False)
        if bool(given) != (at is not None):
            missing, present = (time[0], text[1]) if given else (text[0], time[1])
            raise RowError(
                self.col(missing), f"empty, but the row has a {present}: give both or neither"
            )
        return given, at

    def code(self, name: str, value: str, table: str | None = None) -> Any:
        """A force code through its code table (if the mapping has one), else the value."""
        codes = self.codes.get(table or name)
        if codes is None:
            return value
        try:
            return codes[value]
        except KeyError:
            where = f"{self.section.kind}.codes.{table or name}"
            raise RowError(self.col(name), f"{value!r} is not a code in {where}") from None

    def boolean(self, values: dict[str, Any], name: str) -> bool | None:
        column = self.section.columns.get(name)
        if column is None:
            return None
        raw = values.get(column)
        if isinstance(raw, bool) or raw is None:
            return raw
        word = self.text(values, name).casefold()
        if not word:
            return None
        if word in self.mapping.true_values:
            return True
        if word in self.mapping.false_values:
            return False
        words = sorted(self.mapping.true_values | self.mapping.false_values)
        raise RowError(
            column, f"{word!r} is not yes or no (the mapping's words: {', '.join(words)})"
        )

    def valid(self, adapter: TypeAdapter[Any], name: str, value: Any, *, cache: bool) -> Any:
        """``value`` checked against the event contract's type for ``name``."""
        key = (name, value)
        if cache and key in self._valid:
            return self._valid[key]
        try:
            adapter.validate_python(value)
        except ValidationError as exc:
            reason = exc.errors()[0]["msg"]
            shown = value if len(str(value)) <= 60 else f"{str(value)[:60]}..."
            raise RowError(self.col(name), f"{shown!r} is not a valid {name}: {reason}") from None
        if cache:
            if len(self._valid) > 10_000:
                self._valid.clear()
            self._valid[key] = value
        return value


_INCIDENT_ID = TypeAdapter(IncidentId)
_CRIME_ID = TypeAdapter(CrimeId)
_NAME = TypeAdapter(Name)
_VICTIM_REF = TypeAdapter(VictimRef)
_TEAM = _NAME  # closed_by_team: a name, like a division
_GRADE = _adapter(IncidentReportedData, "grade")
_CATEGORY = _adapter(IncidentReportedData, "category")
_CHANNEL = _adapter(IncidentReportedData, "channel")
_OFFENCE_CODE = _adapter(CrimeRecordedData, "offence_code")
_OFFENCE_GROUP = _adapter(CrimeRecordedData, "offence_group")
_CLOSING_CODE = TypeAdapter(Literal[
    "crime_recorded", "no_crime", "non_crime_incident", "duplicate", "transferred_other_force",
    "other",
])  # fmt: skip
_REASON = TypeAdapter(
    Literal["additional_verifiable_information", "recorded_in_error", "transferred"]
)


class IncidentRows:
    """Incident export rows to ``incidents`` events."""

    def __init__(self, section: Section, mapping: Mapping) -> None:
        self.cells = _Cells(section, mapping)
        self.source = section.source
        self.force = mapping.force
        self.flag_column = "crime_related" in section.columns

    def events(self, row: Row) -> list[ImportEvent]:
        c, v = self.cells, row.values
        incident_id = c.valid(
            _INCIDENT_ID, "incident_id", c.required(v, "incident_id"), cache=False
        )
        reported_at = c.time(v, "reported_at", required=True)
        assert reported_at is not None  # noqa: S101 - required above
        channel = c.valid(
            _CHANNEL, "channel", c.code("channel", c.required(v, "channel")), cache=True
        )
        opening = self._category(v, "category", c.required(v, "category"))
        crime_related = c.boolean(v, "crime_related") if self.flag_column else opening.crime_related
        if crime_related is None:
            raise RowError(c.col("crime_related"), "empty, but crime_related is required")
        force = c.text(v, "force") or self.force
        data: dict[str, Any] = {
            "incident_id": incident_id,
            "force": c.valid(_NAME, "force", force, cache=True),
            "reported_at": (reported_text := rfc3339(reported_at)),
            "channel": channel,
            "category": opening.category,
            "crime_related": crime_related,
        }
        division = c.text(v, "division")
        if division:
            data["division"] = c.valid(_NAME, "division", c.code("division", division), cache=True)
        grade = c.text(v, "grade")
        if grade:
            data["grade"] = c.valid(_GRADE, "grade", grade, cache=True)
        out = [
            self._event(EventType.INCIDENT_REPORTED, reported_at, reported_text, incident_id, data)
        ]
        closed_at = self._closing(v, reported_at, incident_id)
        change = self._change(v, opening, crime_related, reported_at, closed_at, incident_id)
        if change is not None:
            out.append(change)
        if closed_at is not None:
            code = c.valid(
                _CLOSING_CODE, "closing_code", c.code("closing_code", c.text(v, "closing_code")),
                cache=True,
            )  # fmt: skip
            closed_text = rfc3339(closed_at)
            closing = {"incident_id": incident_id, "closed_at": closed_text, "closing_code": code}
            team = c.text(v, "closed_by_team")
            if team:
                closing["closed_by_team"] = c.valid(_TEAM, "closed_by_team", team, cache=True)
            out.append(
                self._event(EventType.INCIDENT_CLOSED, closed_at, closed_text, incident_id, closing)
            )
        return out

    def _category(self, values: dict[str, Any], name: str, code: str) -> Category:
        c = self.cells
        value = c.code(name, code, table="category")
        if isinstance(value, Category):
            return value
        return Category(c.valid(_CATEGORY, name, value, cache=True), None)

    def _closing(self, values: dict[str, Any], reported_at: int, incident_id: str) -> int | None:
        c = self.cells
        _, closed_at = c.both_or_neither(
            values, ("closing_code", "closing code"), ("closed_at", "closing time")
        )
        if closed_at is not None and closed_at < reported_at:
            raise RowError(
                c.col("closed_at"),
                f"closed at {rfc3339(closed_at)}, before the report at {rfc3339(reported_at)}",
            )
        return closed_at

    def _change(
        self, values: dict[str, Any], opening: Category, crime_related: bool, reported_at: int,
        closed_at: int | None, incident_id: str,
    ) -> ImportEvent | None:  # fmt: skip
        c = self.cells
        code = c.text(values, "current_category")
        if not code:
            return None
        current = self._category(values, "current_category", code)
        changes: dict[str, Any] = {}
        if not self.flag_column and current.crime_related != crime_related:
            changes["crime_related"] = current.crime_related
        if current.category != opening.category:
            changes["category"] = current.category
        if not changes:
            return None
        at = c.time(values, "category_changed_at", required=False)
        if at is None:
            at = closed_at
        if at is None:
            raise RowError(
                c.col("category_changed_at") or c.col("current_category"),
                f"the category changed ({opening.category} to {current.category}) but the row has "
                "no time for the change: neither category_changed_at nor closed_at",
            )
        if at < reported_at:
            raise RowError(
                c.col("category_changed_at"),
                f"changed at {rfc3339(at)}, before the report at {rfc3339(reported_at)}",
            )
        text = rfc3339(at)
        data = {"incident_id": incident_id, "updated_at": text, **changes}
        return self._event(EventType.INCIDENT_UPDATED, at, text, incident_id, data)

    def _event(
        self, event_type: str, at: int, at_text: str, key: str, data: dict[str, Any]
    ) -> ImportEvent:
        event_id, value = encode(event_type, self.source, at_text, data)
        return ImportEvent(at, "incidents", key, event_id, event_type, value)


@dataclass
class _Crime:
    """A crime as the rows so far describe it; its incident references accumulate."""

    file: str
    line: int
    recorded_at: int
    fields: dict[str, Any]
    incident_ids: list[str]
    cancellation: tuple[int, str] | None


class CrimeRows:
    """Crime export rows to ``crime-records`` events, merging the rows of one crime."""

    def __init__(self, section: Section, mapping: Mapping) -> None:
        self.cells = _Cells(section, mapping)
        self.source = section.source
        self.separator = section.list_separator
        # By file and crime: within a file, rows of one crime are its links; across
        # files (overlapping extracts) each row is a version of the crime in its own right.
        self.crimes: dict[tuple[str, str], _Crime] = {}

    def add(self, file: str, row: Row) -> None:
        c, v = self.cells, row.values
        crime_id = c.valid(_CRIME_ID, "crime_id", c.required(v, "crime_id"), cache=False)
        recorded_at = c.time(v, "recorded_at", required=True)
        assert recorded_at is not None  # noqa: S101 - required above
        offence_code = c.valid(
            _OFFENCE_CODE, "offence_code", c.required(v, "offence_code"), cache=True
        )
        group_text = c.text(v, "offence_group")
        group = group_text or c.code("offence_code", offence_code, table="offence_group")
        fields: dict[str, Any] = {
            "offence_code": offence_code,
            "offence_group": c.valid(_OFFENCE_GROUP, "offence_group", group, cache=True),
        }
        victim_ref = c.text(v, "victim_ref")
        if victim_ref:
            fields["victim_ref"] = c.valid(_VICTIM_REF, "victim_ref", victim_ref, cache=False)
        for flag in ("victim_consents_to_referral", "domestic_abuse", "victim_bereaved_relative"):
            value = c.boolean(v, flag)
            if value is not None:
                fields[flag] = value
        cancellation = self._cancellation(v, recorded_at)
        incident_ids = self._incident_ids(v)
        crime = _Crime(file, row.line, recorded_at, fields, incident_ids, cancellation)
        known = self.crimes.get((file, crime_id))
        if known is None:
            self.crimes[file, crime_id] = crime
            return
        self._merge(crime_id, known, crime)

    def _merge(self, crime_id: str, known: _Crime, crime: _Crime) -> None:
        c = self.cells
        differs = []
        if crime.recorded_at != known.recorded_at:
            differs.append("recorded_at")
        differs += [
            k
            for k in known.fields.keys() | crime.fields.keys()
            if known.fields.get(k) != crime.fields.get(k)
        ]
        if crime.cancellation != known.cancellation:
            differs.append("cancelled_at")
        if differs:
            first = sorted(differs)[0]
            raise RowError(
                c.col(first) or c.col("crime_id"),
                f"crime {crime_id} is also on line {known.line} with a different "
                f"{', '.join(sorted(differs))}",
            )
        for incident_id in crime.incident_ids:
            if incident_id not in known.incident_ids:
                known.incident_ids.append(incident_id)

    def _incident_ids(self, values: dict[str, Any]) -> list[str]:
        c = self.cells
        column = c.section.columns.get("incident_ids")
        if column is None:
            return []
        raw = values.get(column)
        items = (
            raw if isinstance(raw, list) else c.text(values, "incident_ids").split(self.separator)
        )
        out: list[str] = []
        for item in items:
            text = str(item).strip() if item is not None else ""
            if text and text not in out:
                out.append(c.valid(_INCIDENT_ID, "incident_ids", text, cache=False))
        if len(out) > 100:
            raise RowError(column, f"{len(out)} incident references; the contract allows 100")
        return out

    def _cancellation(self, values: dict[str, Any], recorded_at: int) -> tuple[int, str] | None:
        c = self.cells
        reason, at = c.both_or_neither(
            values,
            ("cancellation_reason", "cancellation reason"),
            ("cancelled_at", "cancellation time"),
        )
        if at is None:
            return None
        if at < recorded_at:
            raise RowError(
                c.col("cancelled_at"),
                f"cancelled at {rfc3339(at)}, before it was recorded at {rfc3339(recorded_at)}",
            )
        code = c.valid(
            _REASON, "cancellation_reason", c.code("cancellation_reason", reason), cache=True
        )
        return at, code

    def events(self) -> Iterator[tuple[str, int, ImportEvent]]:
        """Each crime's events, with the file and line of its first row."""
        for (_, crime_id), crime in self.crimes.items():
            key = crime.incident_ids[0] if crime.incident_ids else crime_id
            data = {
                "crime_id": crime_id,
                "incident_ids": crime.incident_ids,
                "recorded_at": (recorded_text := rfc3339(crime.recorded_at)),
                **crime.fields,
            }
            yield (
                crime.file,
                crime.line,
                self._event(EventType.CRIME_RECORDED, crime.recorded_at, recorded_text, key, data),
            )
            if crime.cancellation is not None:
                at, reason = crime.cancellation
                text = rfc3339(at)
                cancel = {"crime_id": crime_id, "cancelled_at": text, "reason": reason}
                yield (
                    crime.file,
                    crime.line,
                    self._event(EventType.CRIME_CANCELLED, at, text, key, cancel),
                )

    def _event(
        self, event_type: str, at: int, at_text: str, key: str, data: dict[str, Any]
    ) -> ImportEvent:
        event_id, value = encode(event_type, self.source, at_text, data)
        return ImportEvent(at, "crime-records", key, event_id, event_type, value)
