"""``cdi-monitor``: the command line.

- ``worker``   run a worker against the configured broker and database
- ``migrate``  bring the ledger database schema up to date
- ``simulate`` produce a realistic stream of incidents and crime records
- ``demo``     all of it on embedded defaults, on an accelerated clock
- ``schemas``  write (or ``--check``) the JSON Schemas and the AsyncAPI document
- ``board``    serve the supervisors' live board
- ``users``    add, remove and list the board's users, and set their roles
- ``subscribe`` print a topic's events as a partner sees them
- ``bench``    measure throughput, latency, alert delay and memory per incident
- ``import``   load a force's incident and crime exports (CSV, JSON Lines) onto the input topics
- ``audit``    draw a period's internal-audit sample (``audit sample``)
- ``report``   write the crime-data-integrity report (HTML and PDF)
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import timedelta

from monitor.settings import SettingsError, load_settings, parse_duration


def _duration_arg(text: str) -> timedelta:
    value = parse_duration(text)
    if not isinstance(value, timedelta):
        try:
            value = timedelta(seconds=float(text))
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"not a duration: {text!r} (try 30m, 24h, 7d)"
            ) from None
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cdi-monitor",
        description="Monitor of crime-recording timeliness (the NCRS 24-hour rule). "
        "Settings come from CDI_* environment variables; see the README.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    worker = sub.add_parser(
        "worker", help="run a worker against the configured broker and database"
    )
    worker.add_argument(
        "--migrate", action="store_true", help="bring the ledger schema up to date before starting"
    )

    sub.add_parser("migrate", help="bring the ledger database schema up to date (CDI_DATABASE_URL)")

    simulate = sub.add_parser(
        "simulate", help="produce a realistic stream of incidents and crime records"
    )
    simulate.add_argument(
        "--speed",
        type=float,
        default=None,
        help="simulated seconds per real second (default CDI_CLOCK_RATE, 1)",
    )
    simulate.add_argument(
        "--backfill",
        type=_duration_arg,
        default=timedelta(0),
        help="start this far in the simulated past, sent at once (e.g. 30h)",
    )
    simulate.add_argument(
        "--duration",
        type=_duration_arg,
        default=None,
        help="stop after this much simulated time (default: run until Ctrl-C)",
    )
    simulate.add_argument(
        "--incidents-per-year",
        type=int,
        default=None,
        help="the force's volume (default 260000, like the primer's force)",
    )
    simulate.add_argument("--seed", type=int, default=1)
    from monitor.devtools.simulate.csv_export import add_arguments as add_export_arguments

    add_export_arguments(simulate)

    demo = sub.add_parser(
        "demo", help="run everything on embedded defaults with an accelerated clock"
    )
    demo.add_argument(
        "--speed",
        type=float,
        default=120.0,
        help="simulated seconds per real second (default 120: an hour in 30 s)",
    )
    demo.add_argument(
        "--run-for",
        type=float,
        default=None,
        metavar="SECONDS",
        help="stop after this many real seconds (default: until Ctrl-C)",
    )
    demo.add_argument(
        "--data-dir",
        default="cdi-monitor-data",
        help="where the demo keeps its ledger and logs (default ./cdi-monitor-data)",
    )
    demo.add_argument("--seed", type=int, default=1)
    demo.add_argument(
        "--import",
        dest="import_files",
        nargs="+",
        default=None,
        metavar="FILE",
        help="instead of the simulator: import these exports first (a backfill, real-time "
        "clock), then start the worker and the board (see docs/import.md)",
    )
    demo.add_argument(
        "--mapping", default=None, metavar="MAPPING.toml", help="the mapping for --import"
    )

    bench = sub.add_parser(
        "bench", help="measure throughput, latency, alert delay and memory (docs/benchmarks.md)"
    )
    from monitor.devtools.bench.command import add_arguments as add_bench_arguments

    add_bench_arguments(bench)

    schemas = sub.add_parser("schemas", help="write the JSON Schemas of the event contract")
    schemas.add_argument(
        "--check", action="store_true", help="fail if the committed schemas differ from the models"
    )
    schemas.add_argument(
        "--publish",
        action="store_true",
        help="make the current schemas the published contract (schemas/published); "
        "refused if that would break subscribers",
    )
    _add_subscribe(sub)
    _add_board_commands(sub)
    importer = sub.add_parser(
        "import",
        help="load incident and crime exports (CSV, JSON Lines) onto the input topics",
        description="Map a force's exports onto the event contract with a mapping file and "
        "produce them to the input topics in event-time order. See docs/import.md.",
    )
    from monitor.importer.command import add_arguments as add_import_arguments

    add_import_arguments(importer)
    _add_audit_commands(sub)
    return parser


def _add_audit_commands(sub: argparse._SubParsersAction) -> None:
    from monitor.cli.audit_command import add_arguments as add_audit_arguments

    audit = sub.add_parser("audit", help="the internal crime-data-integrity audit: draw a sample")
    add_audit_arguments(audit)
    report = sub.add_parser(
        "report", help="write the crime-data-integrity report (HTML and PDF) for a period"
    )
    report.add_argument(
        "--period",
        default=None,
        help="a month (2026-11), months or days (see audit sample); default: the last 30 days",
    )
    report.add_argument("--out", required=True, help="the folder to write the report into")


def _add_subscribe(sub: argparse._SubParsersAction) -> None:
    subscribe = sub.add_parser(
        "subscribe", help="print a topic's events as a partner sees them (Ctrl-C stops)"
    )
    subscribe.add_argument("topic", metavar="TOPIC", help="e.g. victim-referrals")
    subscribe.add_argument(
        "--json", action="store_true", help="one CloudEvent per line, exactly as published"
    )
    subscribe.add_argument(
        "--from-beginning", action="store_true", help="read from the start, not only new events"
    )
    subscribe.add_argument(
        "--max", type=int, default=None, metavar="N", help="stop after N events (exit 0)"
    )
    subscribe.add_argument(
        "--timeout",
        type=_duration_arg,
        default=None,
        help="stop after this long without an event (e.g. 10s); exit 1 if --max was not reached",
    )


def _add_board_commands(sub: argparse._SubParsersAction) -> None:
    board = sub.add_parser("board", help="serve the supervisors' live board (CDI_BOARD_*)")
    board.add_argument(
        "--migrate", action="store_true", help="bring the ledger schema up to date before starting"
    )
    users = sub.add_parser("users", help="manage the board's users: add, remove, list, set-role")
    from monitor.cli.users_command import add_arguments

    add_arguments(users)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _COMMANDS[args.command](args)
    except SettingsError as exc:
        print(f"cdi-monitor: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        # Known start-up failures (broker unreachable, ledger not migrated,
        # broker not installed) are reported as one line, not a traceback.
        if type(exc).__name__ in _KNOWN_FAILURES:
            print(f"cdi-monitor: {exc}", file=sys.stderr)
            return 2
        raise


_KNOWN_FAILURES = {
    "TopologyError",
    "LedgerNotMigrated",
    "EmbeddedBrokerError",
    "OperationalError",
    "SubscribeError",
    "NoBrokersAvailable",
}


def _worker(args: argparse.Namespace) -> int:
    from monitor.bootstrap import run_worker

    return run_worker(load_settings(), migrate=args.migrate)


def _migrate(args: argparse.Namespace) -> int:
    from monitor.adapters.sql.migrate import head_revision, mask_url, upgrade

    settings = load_settings()
    url = settings.database_url.get_secret_value()
    upgrade(url)
    print(f"ledger at {mask_url(url)} is at revision {head_revision()}")
    return 0


def _simulate(args: argparse.Namespace) -> int:
    if args.export_csv is not None:
        from monitor.devtools.simulate.csv_export import export_command

        return export_command(args)
    from monitor.devtools.simulate.command import simulate

    settings = load_settings()
    return asyncio.run(simulate(settings, args))


def _demo(args: argparse.Namespace) -> int:
    from monitor.devtools.demo.run import run_demo

    return asyncio.run(run_demo(args))


def _schemas(args: argparse.Namespace) -> int:
    from monitor.adapters.bank_holidays import EnglandAndWalesWorkingDays
    from monitor.adapters.wire.examples import examples
    from schemas import asyncapi
    from schemas.envelope import DEFAULT_SCHEMA_BASE
    from schemas.export import JSON_DIR, stale, write

    # The document's examples use the default schema base, so it never depends on settings.
    samples = examples(EnglandAndWalesWorkingDays(), DEFAULT_SCHEMA_BASE)
    if args.check:
        changed = stale() + (["asyncapi.json"] if asyncapi.stale(samples) else [])
        if changed:
            print("stale JSON Schemas (run `cdi-monitor schemas`): " + ", ".join(changed))
            return 1
        print(f"JSON Schemas in {JSON_DIR} and {asyncapi.DOCUMENT} match the models")
        return 0
    for name in write():
        print(JSON_DIR / name)
    print(asyncapi.write(samples))
    if args.publish:
        from schemas.compatibility import PUBLISHED_DIR, publish

        try:
            names = publish()
        except ValueError as exc:
            print(f"cdi-monitor: {exc}", file=sys.stderr)
            return 1
        print(f"published {len(names)} schemas to {PUBLISHED_DIR}")
    return 0


def _board(args: argparse.Namespace) -> int:
    from monitor.web.run import run_board

    return run_board(load_settings(), migrate=args.migrate)


def _users(args: argparse.Namespace) -> int:
    from monitor.cli.users_command import run_users

    return run_users(load_settings(), args)


def _subscribe(args: argparse.Namespace) -> int:
    from monitor.adapters.kafka.subscriber import subscribe

    return subscribe(
        load_settings(),
        args.topic,
        json_lines=args.json,
        from_beginning=args.from_beginning,
        max_events=args.max,
        idle_timeout=None if args.timeout is None else args.timeout.total_seconds(),
    )


def _import(args: argparse.Namespace) -> int:
    from monitor.importer.command import run_import

    return run_import(load_settings(), args)


def _audit(args: argparse.Namespace) -> int:
    from monitor.cli.audit_command import run_audit

    return run_audit(load_settings(), args)


def _report(args: argparse.Namespace) -> int:
    from monitor.report.command import run_report

    return run_report(load_settings(), args)


def _bench(args: argparse.Namespace) -> int:
    from monitor.devtools.bench.command import run_bench

    return run_bench(args, sys.argv[2:])


_COMMANDS = {
    "bench": _bench,
    "worker": _worker,
    "migrate": _migrate,
    "simulate": _simulate,
    "demo": _demo,
    "schemas": _schemas,
    "board": _board,
    "users": _users,
    "subscribe": _subscribe,
    "import": _import,
    "audit": _audit,
    "report": _report,
}

if __name__ == "__main__":
    sys.exit(main())
