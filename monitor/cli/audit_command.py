"""``cdi-monitor audit sample``: draw a period's audit sample from the ledger and store it."""

from __future__ import annotations

import argparse
import getpass
import secrets
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from monitor.application.audit import Sample
from monitor.settings import Settings

MAX_SEED = 2**31 - 1


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    sample = sub.add_parser(
        "sample", help="draw the period's stratified random sample of incidents to audit"
    )
    sample.add_argument(
        "--period",
        default=None,
        help="a month (2026-11), months (2026-04..2026-06) or days (2026-11-01..2026-11-14); "
        "default: last month",
    )
    sample.add_argument(
        "--seed",
        type=int,
        default=None,
        help="the random seed, stored with the sample (default: a new one, printed)",
    )
    how = sample.add_mutually_exclusive_group(required=True)
    how.add_argument(
        "--size",
        type=int,
        help="incidents per category (twice as many for violence, sexual offences, domestic "
        "abuse, harassment and malicious communications)",
    )
    how.add_argument(
        "--margin",
        type=float,
        help="size each category for a 95%% interval of ± this many percentage points at the "
        "last audit's rate (see docs/audit.md)",
    )
    sample.add_argument(
        "--by", default=None, help="who draws it, for the record (default: your login name)"
    )


def run_audit(settings: Settings, args: argparse.Namespace) -> int:
    from monitor.adapters.sql.audit import SqlAudit
    from monitor.adapters.sql.ledger import make_engine
    from monitor.adapters.sql.migrate import check_at_head
    from monitor.application.audit import SampleExists, Sizing, draw_sample
    from monitor.domain.period import parse_period, previous_month

    zone = ZoneInfo(settings.board_timezone)
    now = datetime.now(UTC)
    try:
        period = parse_period(args.period, zone) if args.period else previous_month(now, zone)
        sizing = Sizing(size=args.size, margin=args.margin)
    except ValueError as exc:
        print(f"cdi-monitor audit: {exc}")
        return 2
    if args.size is not None and args.size < 1:
        print("cdi-monitor audit: --size must be at least 1")
        return 2
    if args.margin is not None and not 0 < args.margin < 50:
        print("cdi-monitor audit: --margin is in percentage points, between 0 and 50 (e.g. 2.0)")
        return 2
    seed = args.seed if args.seed is not None else secrets.randbelow(MAX_SEED)
    if not 0 <= seed <= MAX_SEED:
        print(f"cdi-monitor audit: --seed must be between 0 and {MAX_SEED}")
        return 2
    engine = make_engine(settings.database_url.get_secret_value())
    try:
        check_at_head(engine)
        audit = SqlAudit(engine)
        try:
            sample, drawn = draw_sample(
                audit,
                audit,
                period=period,
                seed=seed,
                sizing=sizing,
                now=now,
                actor=args.by or getpass.getuser(),
            )
        except SampleExists as exc:
            print(f"cdi-monitor audit: {exc}")
            return 1
    finally:
        engine.dispose()
    print(describe(sample, drawn))
    return 0


def describe(sample: Sample, drawn: bool) -> str:
    p = sample.period
    state = "drawn now" if drawn else f"already drawn {sample.drawn_at:%Y-%m-%d %H:%M} UTC"
    lines = [
        f"audit sample {sample.sample_id} for {p.label} "
        f"({p.start:%Y-%m-%d %H:%M} to {p.end:%Y-%m-%d %H:%M} UTC), "
        f"--seed {sample.seed} {sample.sizing}: {len(sample.items)} incidents ({state} "
        f"by {sample.drawn_by})",
        f"  {'category':<28}{'incidents':>10}{'sample':>8}  basis",
    ]
    for s in sample.strata:
        name = s.stratum + (" *" if s.priority else "")
        lines.append(f"  {name:<28}{s.population:>10,}{s.size:>8,}  {s.basis}")
    if any(s.priority for s in sample.strata):
        lines.append("  * a category officers find hard (twice the sample with --size)")
    lines.append("audit it on the board's Audit view (role auditor or admin)")
    return "\n".join(lines)
