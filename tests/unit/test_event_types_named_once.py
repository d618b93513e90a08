"""Every event type is spelled once, in ``schemas/event_types.py``; the rest imports it."""

from __future__ import annotations

import re
from pathlib import Path

from schemas.event_types import EventType

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("monitor", "streams", "schemas")
# A quoted event type in code: "cdi.recording.overdue" and the like.
_QUOTED = re.compile(r"""["'](cdi\.(?:recording|victim|incident|crime|input)\.[a-z_]+)["']""")


def _quoted_event_types() -> list[str]:
    found = []
    for package in SOURCES:
        for path in sorted((ROOT / package).rglob("*")):
            if path.suffix not in {".py", ".js", ".html"} or path.name == "event_types.py":
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                # A bytes literal holding a whole example event is data, not a name.
                if "b'" in line or 'b"' in line:
                    continue
                for match in _QUOTED.finditer(line):
                    found.append(f"{path.relative_to(ROOT)}:{number}: {match.group(1)}")
    return found


def test_no_event_type_is_spelled_outside_event_types():
    assert _quoted_event_types() == []


def test_the_scan_would_see_a_spelled_event_type(tmp_path):
    # The pattern is the one the scan uses: it must match what it is meant to forbid.
    assert _QUOTED.search(f'kind = "{EventType.OVERDUE.value}"')
    assert _QUOTED.search(f"kind == '{EventType.REFERRAL_DUE.value}'")
