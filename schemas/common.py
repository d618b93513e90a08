"""Field types shared by the event models."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    AwareDatetime,
    BeforeValidator,
    Field,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
)

_RFC3339 = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$"
)


# Far outside any police record; also keeps deadline arithmetic clear of year 9999.
_EARLIEST_YEAR, _LATEST_YEAR = 1900, 2999


def _rfc3339_text(value: Any) -> Any:
    """Only RFC 3339 text with an offset is a timestamp: no epoch numbers, no naive times."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise ValueError("a timestamp must be an RFC 3339 string such as 2024-05-01T09:30:00Z")
    match = _RFC3339.match(value)
    if match is None:
        # The messages never quote the value: they reach logs and dead letters.
        raise ValueError(
            "not an RFC 3339 timestamp with an offset "
            "(expected e.g. 2024-05-01T09:30:00Z or 2024-05-01T10:30:00+01:00)"
        )
    day, clock, fraction, offset = match.groups()
    # Python keeps microseconds: finer fractions are truncated, not rounded.
    micros = (fraction or "").ljust(6, "0")[:6]
    offset = "+00:00" if offset in ("Z", "z") else offset
    text = f"{day}T{clock}.{micros}{offset}"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        # Python names the field out of range ("day is out of range for month"); should
        # its message ever quote the text, say less rather than echo it.
        detail = "a field is out of range" if day in str(exc) else str(exc)
        raise ValueError(f"not a valid date and time: {detail}") from None
    if not _EARLIEST_YEAR <= moment.year <= _LATEST_YEAR:
        raise ValueError(f"out of range: years {_EARLIEST_YEAR} to {_LATEST_YEAR} are accepted")
    return moment


def _as_utc_text(value: datetime) -> str:
    text = value.isoformat().replace("+00:00", "Z")
    return text


TIMESTAMP_PATTERN = r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$"

Timestamp = Annotated[
    AwareDatetime,
    BeforeValidator(_rfc3339_text),
    PlainSerializer(_as_utc_text, return_type=str, when_used="json"),
    WithJsonSchema(
        {
            "type": "string",
            "format": "date-time",
            "pattern": TIMESTAMP_PATTERN,
            "description": "RFC 3339 date-time with an offset (Z or +01:00)",
        }
    ),
]

# Identifiers come from force systems; refuse control characters so they print
# and log safely, and cap their length.
_PRINTABLE = r"^[^\x00-\x1f\x7f]+$"

IncidentId = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64, pattern=_PRINTABLE),
    Field(description="Command-and-control incident number", examples=["LP-20240501-0173"]),
]
CrimeId = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64, pattern=_PRINTABLE),
    Field(description="Crime reference number in the records system", examples=["CR/012345/24"]),
]
Name = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=_PRINTABLE)]
Slug = Annotated[
    str,
    StringConstraints(min_length=1, max_length=48, pattern=r"^[a-z0-9][a-z0-9_]*$"),
]
