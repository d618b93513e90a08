"""Rows that were not imported, with where they are and why, written to a CSV file.

Every row of every file ends up either as events or here: nothing is dropped
silently. The file has one line per rejected row: the export file, its line
number (where the row starts, counting the header as line 1), the column at
fault (empty when the whole row is), a readable reason, and the row's values
as JSON so it can be corrected and imported again.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HEADER = ("file", "line", "column", "reason", "row")


@dataclass(frozen=True, slots=True)
class Reject:
    file: str
    line: int
    column: str
    reason: str
    row: Any = None

    def as_csv_row(self) -> tuple[str, int, str, str, str]:
        values = "" if self.row is None else json.dumps(self.row, ensure_ascii=False, default=str)
        return (self.file, self.line, self.column, self.reason, values)


def write_rejects(path: Path, rejects: Iterable[Reject]) -> None:
    """Write ``path`` afresh (a header alone when nothing was rejected)."""
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        writer.writerows(r.as_csv_row() for r in sorted(rejects, key=lambda r: (r.file, r.line)))


def by_reason(rejects: Iterable[Reject]) -> Counter[str]:
    """Rejects counted by column, for the summary (``Closing Code: 12``)."""
    return Counter(r.column or "(whole row)" for r in rejects)
