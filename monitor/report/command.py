"""``cdi-monitor report --period P --out DIR``: the report as HTML and PDF."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from monitor.settings import Settings


def run_report(settings: Settings, args: argparse.Namespace) -> int:
    from monitor.adapters.sql.audit import SqlAudit
    from monitor.adapters.sql.ledger import make_engine
    from monitor.adapters.sql.migrate import check_at_head
    from monitor.domain.period import last_days, parse_period
    from monitor.report import charts, html, pdf
    from monitor.report.figures import gather, sample_for_report

    zone = ZoneInfo(settings.board_timezone)
    now = datetime.now(UTC)
    try:
        period = parse_period(args.period, zone) if args.period else last_days(now, zone)
    except ValueError as exc:
        print(f"cdi-monitor report: {exc}")
        return 2
    out = Path(args.out)
    engine = make_engine(settings.database_url.get_secret_value())
    try:
        check_at_head(engine)
        audit = SqlAudit(engine)
        sample = sample_for_report(audit, period, period_given=args.period is not None)
        figures = gather(audit, period, now=now, zone=zone, sample=sample)
        force = audit.force_name() or "the force"
    finally:
        engine.dispose()
    drawn = charts.all_charts(figures)
    out.mkdir(parents=True, exist_ok=True)
    stem = f"cdi-report-{period.label.replace('..', '_to_')}"
    html_path, pdf_path = out / f"{stem}.html", out / f"{stem}.pdf"
    html_path.write_text(html.render(figures, drawn, force), encoding="utf-8")
    pdf_path.write_bytes(pdf.render(figures, drawn, force))
    e = figures.estimate
    headline = (
        f"recording rate {e.force.estimate:.1%} ({e.force.lower:.1%} to {e.force.upper:.1%})"
        if e is not None and e.force is not None
        else "no audit estimate yet"
    )
    t = figures.timeliness
    share = "–" if t.share_within_target is None else f"{t.share_within_target:.1%}"
    print(f"{period.label}: {headline}; {share} of {t.recorded} recorded within 24 h")
    print(html_path)
    print(pdf_path)
    return 0
