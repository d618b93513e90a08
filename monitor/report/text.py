"""How the report writes numbers: the same words in the HTML page and the PDF."""

from __future__ import annotations

from monitor.domain.audit_estimate import Interval, Unrecorded


def pct(value: float | None, decimals: int = 1) -> str:
    return "–" if value is None else f"{value * 100:.{decimals}f}%"


def count(value: float | None) -> str:
    return "–" if value is None else f"{round(value):,}"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    minutes = round(seconds / 60)
    return f"{minutes // 60}h {minutes % 60:02d}m"


def interval(value: Interval | None) -> str:
    if value is None:
        return "no crimes found yet"
    return f"{pct(value.estimate)} ({pct(value.lower)} to {pct(value.upper)})"


def unrecorded(value: Unrecorded | None) -> str:
    if value is None:
        return "–"
    upper = count(value.upper) if value.upper is not None else "no upper bound"
    return f"{count(value.estimate)} ({count(value.lower)} to {upper})"


def words(code: str | None) -> str:
    return "–" if code is None else code.replace("_", " ")
