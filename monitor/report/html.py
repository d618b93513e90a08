"""The report as one self-contained HTML page (Jinja2, autoescaped; charts inlined as PNG)."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from monitor.report import text
from monitor.report.figures import ReportFigures, figures_json

_ENV = Environment(
    loader=PackageLoader("monitor.report", "templates"),
    autoescape=select_autoescape(["html", "j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def method(f: ReportFigures) -> str:
    """How the figures were made, in words, for the page and the PDF."""
    e = f.estimate
    sample = (
        f"Sample {e.sample.period.label}: drawn {e.sample.drawn_at:%d %b %Y} by "
        f"{e.sample.drawn_by} with seed {e.sample.seed} ({e.sample.sizing}), a simple random "
        "sample of each category's incidents closed without a crime record, or still open "
        "and crime-related, or with a crime record. "
        if e is not None
        else ""
    )
    return (
        sample + "Auditors judged from each incident's history whether a crime should have "
        "been recorded; 'cannot tell' answers are left out. A category's rate is the share "
        "of its crimes found that were recorded, with the Wilson score interval (Wilson "
        "1927). The force's rate is the combined ratio estimate of stratified sampling, "
        "each category weighted by its number of incidents (Cochran, Sampling Techniques, "
        "1977, chapter 6), with a linearised variance and a Wilson interval at the "
        "effective sample size (Kish 1965). Crimes unrecorded a year = recorded crimes a "
        "year (not cancelled, from the ledger) x (1 - rate) / rate, the interval carried "
        "through. Timeliness is a census of the ledger's crime-related incidents reported in "
        "the period: recorded within 24 hours of the report (exactly 24 h is in time); "
        "percentiles interpolate between ranks."
    )


def _safe_json(value: Any) -> str:
    """JSON that cannot end the script element it sits in."""
    from monitor.web.context import json_default

    dumped = json.dumps(value, default=json_default, sort_keys=True)
    return dumped.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render(f: ReportFigures, charts: dict[str, bytes], force_name: str) -> str:
    e = f.estimate
    priority = {s.stratum for s in e.sample.strata if s.priority} if e is not None else set()
    last_day = (f.period.end - timedelta(seconds=1)).strftime("%d %b %Y")
    return _ENV.get_template("report.html.j2").render(
        f=f,
        e=e,
        t=f.timeliness,
        priority=priority,
        force_name=force_name,
        last_day=last_day,
        charts={name: base64.b64encode(png).decode() for name, png in charts.items()},
        method=method(f),
        figures_json=_safe_json(figures_json(f)),
        pct=text.pct,
        count=text.count,
        duration=text.duration,
        interval=text.interval,
        unrecorded=text.unrecorded,
        words=text.words,
    )
