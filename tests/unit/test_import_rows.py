# ruff: noqa: E501 - the tables of rejected rows read best one case a line
"""Export rows to events, and every reason a row is rejected, each with its own test row.

The files use the example mapping (examples/storm-niche-mapping.toml): a
STORM-like incident extract (comma, UTF-8) and a Niche-like crime extract
(pipe, cp1252). Every row is either imported or rejected with its line, the
column at fault and a reason; the counts always add up.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter

from monitor.importer.command import Mapped, map_files
from monitor.importer.mapping import load_mapping, parse_mapping
from monitor.importer.rejects import write_rejects
from schemas.crimes import CrimeEvent
from schemas.incidents import IncidentEvent

ROOT = Path(__file__).resolve().parents[2]
MAPPING = load_mapping(ROOT / "examples" / "storm-niche-mapping.toml")

INCIDENT = {
    "Incident Number": "LP-20250512-0001",
    "Created Date/Time": "12/05/2025 10:00:00",
    "Contact Method": "999",
    "Grade": "1",
    "LPA": "Harborough, Oadby & Wigston",
    "Opening Code": "VIOL",
    "Current Code": "VIOL",
    "Code Changed Date/Time": "",
    "Closing Code": "CRIME RECORDED",
    "Closed Date/Time": "12/05/2025 14:00:00",
}
CRIME = {
    "Crime Number": "CR/0000001/25",
    "Recorded Date": "2025-05-12 11:00:00",
    "Linked STORM Refs": "LP-20250512-0001",
    "HO Offence Code": "8N",
    "Victim Ref": "V-00A001",
    "VSS Consent": "Y",
    "DA Flag": "",
    "Cancelled Date": "",
    "Cancellation Reason": "",
}


def write_csv(path: Path, rows: list[dict[str, str]], delimiter: str, encoding: str) -> Path:
    with path.open("w", newline="", encoding=encoding) as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]), delimiter=delimiter)
        writer.writeheader()
        writer.writerows(rows)
    return path


def incidents_file(tmp_path: Path, *rows: dict[str, str]) -> Path:
    return write_csv(tmp_path / "incidents.csv", list(rows), ",", "utf-8-sig")


def crimes_file(tmp_path: Path, *rows: dict[str, str]) -> Path:
    return write_csv(tmp_path / "crimes.csv", list(rows), "|", "cp1252")


def mapped(*paths: Path, mapping=MAPPING) -> Mapped:
    return map_files(mapping, list(paths), progress=False)


def data(result: Mapped, event_type: str) -> list[dict[str, Any]]:
    return [json.loads(e.value)["data"] for e in result.events if e.event_type == event_type]


def test_an_incident_row_becomes_its_report_and_its_closing(tmp_path) -> None:
    result = mapped(incidents_file(tmp_path, INCIDENT))
    assert not result.rejects
    assert [e.event_type for e in result.events] == ["cdi.incident.reported", "cdi.incident.closed"]
    assert data(result, "cdi.incident.reported") == [
        {
            "incident_id": "LP-20250512-0001",
            "force": "leicestershire",
            "reported_at": "2025-05-12T09:00:00Z",  # 10:00 BST
            "channel": "999",
            "category": "violence",
            "crime_related": True,
            "division": "harborough_oadby_wigston",
            "grade": "1",
        }
    ]
    assert data(result, "cdi.incident.closed") == [
        {
            "incident_id": "LP-20250512-0001",
            "closed_at": "2025-05-12T13:00:00Z",
            "closing_code": "crime_recorded",
        }
    ]
    event = json.loads(result.events[0].value)
    assert event["source"] == "urn:force:leicestershire:storm"
    assert event["time"] == "2025-05-12T09:00:00Z"  # the event time of the fact
    assert result.events[0].key == "LP-20250512-0001"


def test_a_changed_category_is_an_update_at_its_time_and_an_open_incident_has_no_closing(
    tmp_path,
) -> None:
    row = {
        **INCIDENT,
        "Opening Code": "HARI",  # harassment, not crime-related
        "Current Code": "DOMC",  # domestic abuse, a crime
        "Code Changed Date/Time": "12/05/2025 11:30:00",
        "Closing Code": "",
        "Closed Date/Time": "",
    }
    result = mapped(incidents_file(tmp_path, row))
    assert [e.event_type for e in result.events] == [
        "cdi.incident.reported",
        "cdi.incident.updated",
    ]
    assert data(result, "cdi.incident.reported")[0]["crime_related"] is False
    assert data(result, "cdi.incident.updated") == [
        {
            "incident_id": "LP-20250512-0001",
            "updated_at": "2025-05-12T10:30:00Z",
            "crime_related": True,
            "category": "domestic_abuse",
        }
    ]


def test_a_change_without_its_own_time_is_dated_at_the_closing(tmp_path) -> None:
    row = {**INCIDENT, "Opening Code": "HARI", "Current Code": "HARC"}
    result = mapped(incidents_file(tmp_path, row))
    assert data(result, "cdi.incident.updated") == [
        {
            "incident_id": "LP-20250512-0001",
            "updated_at": "2025-05-12T13:00:00Z",
            "crime_related": True,
        }
    ]


def test_a_crime_row_links_several_incidents_and_carries_its_cancellation(tmp_path) -> None:
    row = {
        **CRIME,
        "Linked STORM Refs": "LP-20250512-0001; LP-20250512-0007;LP-20250512-0001",
        "Cancelled Date": "2025-05-20 09:00:00",
        "Cancellation Reason": "AVI",
        "DA Flag": "N",
    }
    result = mapped(crimes_file(tmp_path, row))
    assert not result.rejects
    assert data(result, "cdi.crime.recorded") == [
        {
            "crime_id": "CR/0000001/25",
            "incident_ids": ["LP-20250512-0001", "LP-20250512-0007"],
            "recorded_at": "2025-05-12T10:00:00Z",
            "offence_code": "8N",
            "offence_group": "violence_against_the_person",
            "victim_ref": "V-00A001",
            "victim_consents_to_referral": True,
            "domestic_abuse": False,
        }
    ]
    assert data(result, "cdi.crime.cancelled") == [
        {
            "crime_id": "CR/0000001/25",
            "cancelled_at": "2025-05-20T08:00:00Z",
            "reason": "additional_verifiable_information",
        }
    ]
    assert {e.key for e in result.events} == {"LP-20250512-0001"}  # the first-named incident


def test_rows_of_one_crime_in_one_file_are_one_record_with_every_link(tmp_path) -> None:
    rows = [
        {**CRIME, "Linked STORM Refs": "LP-1"},
        {**CRIME, "Linked STORM Refs": "LP-2"},
        {**CRIME, "Crime Number": "CR/0000002/25", "Linked STORM Refs": ""},
    ]
    result = mapped(crimes_file(tmp_path, *rows))
    records = data(result, "cdi.crime.recorded")
    assert [(r["crime_id"], r["incident_ids"]) for r in records] == [
        ("CR/0000001/25", ["LP-1", "LP-2"]),
        ("CR/0000002/25", []),
    ]
    unlinked = next(e for e in result.events if "CR/0000002/25" in e.value.decode())
    assert unlinked.key == "CR/0000002/25"  # no incident: keyed by the crime


def test_incidents_and_crimes_come_out_interleaved_in_event_time_order(tmp_path) -> None:
    incidents = incidents_file(
        tmp_path,
        INCIDENT,
        {**INCIDENT, "Incident Number": "LP-2", "Created Date/Time": "12/05/2025 12:00:00"},
    )
    crimes = crimes_file(tmp_path, CRIME)  # recorded at 11:00, between the two reports
    result = mapped(incidents, crimes)
    assert [e.event_type for e in result.events] == [
        "cdi.incident.reported",
        "cdi.crime.recorded",
        "cdi.incident.reported",
        "cdi.incident.closed",
        "cdi.incident.closed",
    ]
    assert [e.at for e in result.events] == sorted(e.at for e in result.events)


def test_every_event_is_valid_by_the_contract_and_ids_depend_only_on_content(tmp_path) -> None:
    changed = {**INCIDENT, "Opening Code": "HARI", "Current Code": "DOMC"}
    cancelled = {**CRIME, "Cancelled Date": "2025-05-20 09:00:00", "Cancellation Reason": "AVI"}
    first = mapped(incidents_file(tmp_path, changed), crimes_file(tmp_path, cancelled))
    again = mapped(incidents_file(tmp_path, changed), crimes_file(tmp_path, cancelled))
    assert len(first.events) == 5
    incident = TypeAdapter(IncidentEvent)
    crime = TypeAdapter(CrimeEvent)
    for event in first.events:
        adapter = incident if event.topic == "incidents" else crime
        assert adapter.validate_json(event.value).id == event.event_id
    assert [e.event_id for e in first.events] == [e.event_id for e in again.events]
    assert len({e.event_id for e in first.events}) == 5
    edited = mapped(incidents_file(tmp_path, {**changed, "Closing Code": "NO CRIME"}))
    closings = [e.event_id for e in edited.events if e.event_type == "cdi.incident.closed"]
    assert closings and closings[0] not in {e.event_id for e in first.events}


def test_the_same_row_twice_in_the_files_is_sent_once(tmp_path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    result = mapped(
        incidents_file(tmp_path / "a", INCIDENT), incidents_file(tmp_path / "b", INCIDENT)
    )
    assert len(result.events) == 2
    assert result.duplicates == 2


# -- every reason a row is rejected ---------------------------------------------------------

INCIDENT_REJECTS = [
    ("empty id", {"Incident Number": ""}, "Incident Number", "empty, but incident_id is required"),
    ("id too long", {"Incident Number": "X" * 65}, "Incident Number", "not a valid incident_id"),
    ("no report time", {"Created Date/Time": " "}, "Created Date/Time", "reported_at is required"),
    ("wrong format", {"Created Date/Time": "2025-05-12 10:00"}, "Created Date/Time", "not a time in the format"),
    ("no such date", {"Created Date/Time": "29/02/2025 10:00:00"}, "Created Date/Time", "not a valid date"),
    ("no such time", {"Created Date/Time": "12/05/2025 25:00:00"}, "Created Date/Time", "not a valid time of day"),
    ("skipped in spring", {"Created Date/Time": "30/03/2025 01:30:00"}, "Created Date/Time", "does not exist in Europe/London"),
    ("unknown channel", {"Contact Method": "PIGEON"}, "Contact Method", "'PIGEON' is not a code in incidents.codes.channel"),
    ("unknown opening code", {"Opening Code": "ZZZZ"}, "Opening Code", "not a code in incidents.codes.category"),
    ("unknown current code", {"Current Code": "ZZZZ"}, "Current Code", "not a code in incidents.codes.category"),
    ("unknown division", {"LPA": "Atlantis"}, "LPA", "not a code in incidents.codes.division"),
    ("grade too long", {"Grade": "G" * 17}, "Grade", "not a valid grade"),
    ("unknown closing code", {"Closing Code": "SHRUG"}, "Closing Code", "not a code in incidents.codes.closing_code"),
    ("closing code, no time", {"Closed Date/Time": ""}, "Closed Date/Time", "has a closing code: give both"),
    ("closing time, no code", {"Closing Code": ""}, "Closing Code", "has a closing time: give both"),
    ("closed before reported", {"Closed Date/Time": "12/05/2025 09:59:59"}, "Closed Date/Time", "before the report"),
    (
        "change without any time",
        {"Opening Code": "HARI", "Current Code": "HARC", "Closing Code": "", "Closed Date/Time": ""},
        "Code Changed Date/Time",
        "no time for the change",
    ),
    (
        "changed before reported",
        {"Current Code": "DOMC", "Code Changed Date/Time": "12/05/2025 09:00:00"},
        "Code Changed Date/Time",
        "before the report",
    ),
    ("control character", {"Incident Number": "LP-\x07-1"}, "Incident Number", "not a valid incident_id"),
]  # fmt: skip

CRIME_REJECTS = [
    ("empty crime number", {"Crime Number": ""}, "Crime Number", "crime_id is required"),
    ("no record time", {"Recorded Date": ""}, "Recorded Date", "recorded_at is required"),
    ("record time format", {"Recorded Date": "12/05/2025 11:00:00"}, "Recorded Date", "not a time in the format"),
    ("no offence code", {"HO Offence Code": ""}, "HO Offence Code", "offence_code is required"),
    ("offence code unknown", {"HO Offence Code": "999Z"}, "HO Offence Code", "not a code in crimes.codes.offence_group"),
    ("offence code malformed", {"HO Offence Code": "8 N"}, "HO Offence Code", "not a valid offence_code"),
    ("victim ref with a space", {"Victim Ref": "Jane Doe"}, "Victim Ref", "not a valid victim_ref"),
    ("not yes or no", {"VSS Consent": "maybe"}, "VSS Consent", "'maybe' is not yes or no"),
    ("bad incident ref", {"Linked STORM Refs": "LP-1;" + "X" * 70}, "Linked STORM Refs", "not a valid incident_ids"),
    ("too many incident refs", {"Linked STORM Refs": ";".join(f"LP-{i}" for i in range(101))}, "Linked STORM Refs", "101 incident references"),
    ("cancelled, no reason", {"Cancelled Date": "2025-05-20 09:00:00"}, "Cancellation Reason", "has a cancellation time"),
    ("reason, no date", {"Cancellation Reason": "AVI"}, "Cancelled Date", "has a cancellation reason"),
    ("unknown reason", {"Cancelled Date": "2025-05-20 09:00:00", "Cancellation Reason": "OOPS"}, "Cancellation Reason", "not a code in crimes.codes.cancellation_reason"),
    ("cancelled before recorded", {"Cancelled Date": "2025-05-12 10:00:00", "Cancellation Reason": "AVI"}, "Cancelled Date", "before it was recorded"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("change", "column", "reason"),
    [case[1:] for case in INCIDENT_REJECTS],
    ids=[case[0] for case in INCIDENT_REJECTS],
)
def test_an_incident_row_that_cannot_be_imported_is_rejected_with_column_and_reason(
    tmp_path, change, column, reason
) -> None:
    path = incidents_file(
        tmp_path,
        INCIDENT,
        {**INCIDENT, **change, "Incident Number": change.get("Incident Number", "LP-2")},
    )
    result = mapped(path)
    assert result.rows["incidents"] == 2
    [reject] = result.rejects
    assert (reject.file, reject.line, reject.column) == (str(path), 3, column)
    assert reason in reject.reason
    assert reject.row["Incident Number"] == change.get("Incident Number", "LP-2")
    assert {e.key for e in result.events} == {"LP-20250512-0001"}  # the good row is imported


@pytest.mark.parametrize(
    ("change", "column", "reason"),
    [case[1:] for case in CRIME_REJECTS],
    ids=[case[0] for case in CRIME_REJECTS],
)
def test_a_crime_row_that_cannot_be_imported_is_rejected_with_column_and_reason(
    tmp_path, change, column, reason
) -> None:
    path = crimes_file(tmp_path, CRIME, {**CRIME, "Crime Number": "CR/2", **change})
    result = mapped(path)
    [reject] = result.rejects
    assert (reject.line, reject.column) == (3, column)
    assert reason in reject.reason
    assert len(data(result, "cdi.crime.recorded")) == 1


def test_the_repeated_autumn_hour_is_rejected_when_the_rule_says_reject(tmp_path) -> None:
    raw = _example_toml().replace('repeated_hour = "earlier"', 'repeated_hour = "reject"')
    mapping = parse_mapping(_toml(raw))
    path = incidents_file(
        tmp_path,
        {
            **INCIDENT,
            "Created Date/Time": "26/10/2025 01:30:00",
            "Closed Date/Time": "26/10/2025 03:00:00",
        },
    )
    [reject] = mapped(path, mapping=mapping).rejects
    assert reject.column == "Created Date/Time"
    assert "happened twice" in reject.reason


def test_rows_of_one_crime_that_disagree_are_rejected(tmp_path) -> None:
    path = crimes_file(
        tmp_path, CRIME, {**CRIME, "HO Offence Code": "8L", "Linked STORM Refs": "LP-9"}
    )
    result = mapped(path)
    [reject] = result.rejects
    assert reject.line == 3
    assert "also on line 2 with a different offence_code" in reject.reason


def test_a_row_with_the_wrong_number_of_fields_is_rejected(tmp_path) -> None:
    path = incidents_file(tmp_path, INCIDENT)
    with path.open("a", encoding="utf-8") as f:
        f.write("LP-3,12/05/2025 10:00:00,999\n")
    [reject] = mapped(path).rejects
    assert (reject.line, reject.column) == (3, "")
    assert "the row has 3 fields, the header 10" in reject.reason


def test_a_row_that_is_not_text_in_the_files_encoding_is_rejected_alone(tmp_path) -> None:
    path = incidents_file(tmp_path, INCIDENT)
    with path.open("ab") as f:
        f.write(b"LP-3,12/05/2025 10:00:00,999,1,City,VIOL,VIOL,,,\xff\xfe\n")
        f.write(b"LP-4,12/05/2025 10:00:00,999,1,City,VIOL,VIOL,,,\n")
    result = mapped(path)
    [reject] = result.rejects
    assert (reject.line, reject.column, reject.reason) == (
        3,
        "Closed Date/Time",
        "not utf-8-sig text",
    )
    assert {e.key for e in result.events} == {"LP-20250512-0001", "LP-4"}


def test_a_row_that_breaks_csv_quoting_is_rejected(tmp_path) -> None:
    path = incidents_file(tmp_path, INCIDENT)
    with path.open("a", encoding="utf-8") as f:
        f.write('LP-3,"12/05/2025 10:00:00"x,999,1,City,VIOL,VIOL,,,\n')
    [reject] = mapped(path).rejects
    assert reject.line == 3
    assert "not a CSV row" in reject.reason


def test_a_multi_line_quoted_row_is_reported_at_the_line_it_starts_on(tmp_path) -> None:
    path = incidents_file(
        tmp_path, {**INCIDENT, "Grade": "a\nb"}, {**INCIDENT, "Incident Number": "", "Grade": "1"}
    )
    [reject] = mapped(path).rejects
    assert reject.line == 4  # header 1, the first row on lines 2-3


JSONL_MAPPING = {
    "force": "leicestershire",
    "time": {"zone": "Europe/London", "formats": ["%Y-%m-%dT%H:%M:%S"], "repeated_hour": "reject"},
    "incidents": {
        "source": "urn:force:test:cad",
        "format": "jsonl",
        "columns": {
            "incident_id": "id",
            "reported_at": "created",
            "channel": "channel",
            "category": "type",
            "crime_related": "crime",
        },
    },
}


def test_json_lines_rows_map_and_bad_lines_are_rejected(tmp_path) -> None:
    path = tmp_path / "cad.jsonl"
    good = {
        "id": "INC-1",
        "created": "2025-05-12T10:00:00",
        "channel": "101",
        "type": "theft",
        "crime": True,
    }
    lines = [
        json.dumps(good),
        "{not json",
        "[1, 2]",
        json.dumps({**good, "id": "INC-2", "crime": "perhaps"}),
        json.dumps({**good, "id": {"nested": 1}}),
        "",
        json.dumps({**good, "id": "INC-3", "type": "Not A Slug"}),
    ]
    path.write_bytes(("\n".join(lines) + "\n").encode() + b'{"id": "\xff"}\n')
    result = mapped(path, mapping=parse_mapping(JSONL_MAPPING))
    assert data(result, "cdi.incident.reported") == [
        {"incident_id": "INC-1", "force": "leicestershire", "reported_at": "2025-05-12T09:00:00Z",
         "channel": "101", "category": "theft", "crime_related": True}
    ]  # fmt: skip
    reasons = {(r.line, r.column): r.reason for r in result.rejects}
    assert reasons.keys() == {(2, ""), (3, ""), (4, "crime"), (5, "id"), (7, "type"), (8, "")}
    assert reasons[2, ""].startswith("not JSON")
    assert reasons[3, ""] == "not a JSON object"
    assert "'perhaps' is not yes or no" in reasons[4, "crime"]
    assert "expected a single value" in reasons[5, "id"]
    assert "not a valid category" in reasons[7, "type"]
    assert reasons[8, ""] == "not utf-8-sig text"
    assert result.rows["incidents"] == 7 == len(result.rejects) + 1


def test_the_rejects_file_has_file_line_column_reason_and_the_row(tmp_path) -> None:
    path = incidents_file(
        tmp_path, INCIDENT, {**INCIDENT, "Incident Number": "LP-2", "Contact Method": "PIGEON"}
    )
    out = tmp_path / "rejects.csv"
    write_rejects(out, mapped(path).rejects)
    with out.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 1
    assert rows[0]["file"] == str(path)
    assert rows[0]["line"] == "3"
    assert rows[0]["column"] == "Contact Method"
    assert "PIGEON" in rows[0]["reason"]
    assert json.loads(rows[0]["row"])["Incident Number"] == "LP-2"


def _example_toml() -> str:
    return (ROOT / "examples" / "storm-niche-mapping.toml").read_text()


def _toml(text: str) -> dict[str, Any]:
    import tomllib

    return tomllib.loads(text)
