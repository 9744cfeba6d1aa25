"""The `fazhizhen` command: serve, migrate, create-admin, demo, simulate."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from fazhizhen.log import configure_logging
from fazhizhen.settings import Settings


async def _with_conn(settings: Settings, fn: Callable[[Any], Awaitable[Any]]) -> Any:
    from fazhizhen.db.migrate import migrate
    from fazhizhen.db.pool import connect, database

    async with database(settings) as dsn:
        conn = await connect(dsn)
        try:
            await migrate(conn)
            return await fn(conn)
        finally:
            await conn.close()


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    from fazhizhen.app import create_app
    from fazhizhen.web.lifecycle import serve_until_signalled

    app = create_app(settings)
    host, port = args.host or settings.host, args.port or settings.port
    asyncio.run(serve_until_signalled(app, host, port, settings.shutdown_timeout_seconds))
    return 0


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    from fazhizhen.db.migrate import migrate
    from fazhizhen.db.pool import connect, database

    async def run() -> list[str]:
        async with database(settings) as dsn:
            conn = await connect(dsn)
            try:
                return await migrate(conn)
            finally:
                await conn.close()

    applied = asyncio.run(run())
    print(f"applied {len(applied)} migration(s)" + (": " + ", ".join(applied) if applied else ""))
    return 0


def cmd_create_admin(settings: Settings, args: argparse.Namespace) -> int:
    from fazhizhen.services.auth import create_or_reset_bureau

    if not args.password_stdin:
        print("error: pass --password-stdin and write the password to standard input", file=sys.stderr)
        return 2
    password = sys.stdin.readline().rstrip("\r\n")
    try:
        row = asyncio.run(_with_conn(settings, lambda c: create_or_reset_bureau(c, args.username, password)))
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"bureau account {row['username']} (id {row['id']}) ready")
    return 0


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from fazhizhen.services.demo import load_demo
    from fazhizhen.services.demo_city import load_city

    if args.scale == "city":
        try:
            summary = asyncio.run(_with_conn(settings, lambda c: load_city(c, settings, scale=args.fraction)))
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    else:
        summary = asyncio.run(_with_conn(settings, lambda c: load_demo(c, settings)))
    print(summary)
    return 0


def cmd_import(settings: Settings, args: argparse.Namespace) -> int:
    from pathlib import Path

    from fazhizhen.importer import ImportFileError, parse, read_table
    from fazhizhen.services.importer import run

    try:
        parsed = parse(args.kind, read_table(Path(args.file)))
    except (ImportFileError, OSError) as exc:
        print(f"error: {args.file}: {exc}", file=sys.stderr)
        return 2
    report = asyncio.run(_with_conn(settings, lambda c: run(c, parsed)))
    for err in report.errors:
        print(f"{args.file}: {err}")
    for username, password in report.passwords.items():
        print(f"initial password for {username}: {password}")
    print(report.summary())
    return 0 if report.ok else 1


def cmd_rollup(settings: Settings, args: argparse.Namespace) -> int:
    from datetime import date

    from fazhizhen.services import metrics

    d_from = date.fromisoformat(args.date_from) if args.date_from else None
    d_to = date.fromisoformat(args.date_to) if args.date_to else None

    async def run(conn: Any) -> int:
        if args.rebuild:
            return await metrics.rebuild(conn, settings, d_from, d_to)
        return await metrics.refresh_all(conn, settings)

    n = asyncio.run(_with_conn(settings, run))
    print(f"metrics rollups: {n} community-day(s) recomputed")
    return 0


def cmd_purge(settings: Settings, args: argparse.Namespace) -> int:
    from fazhizhen.services.retention import enforce

    days = args.older_than if args.older_than is not None else settings.retention_days
    if days < 1:
        print("error: --older-than must be at least 1 day", file=sys.stderr)
        return 2

    count, entries = asyncio.run(_with_conn(settings, lambda conn: enforce(conn, settings, days)))
    print(f"anonymised {count} question(s) older than {days} day(s)")
    print(f"deleted {entries} audit log entries older than {settings.audit_retention_days} days")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fazhizhen", description="法指针 community legal-consultation routing")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the HTTP server and the scheduler")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.set_defaults(fn=cmd_serve)
    sub.add_parser("migrate", help="apply pending migrations").set_defaults(fn=cmd_migrate)
    admin = sub.add_parser("create-admin", help="create or reset a bureau account")
    admin.add_argument("--username", required=True)
    admin.add_argument("--password-stdin", action="store_true")
    admin.set_defaults(fn=cmd_create_admin)
    demo = sub.add_parser("demo", help="load demo data (idempotent)")
    demo.add_argument("--scale", choices=("small", "city"), default="small", help="city: a Wuhan-sized year")
    demo.add_argument("--fraction", type=float, default=1.0, help=argparse.SUPPRESS)  # smaller city for tests
    demo.set_defaults(fn=cmd_demo)
    imp = sub.add_parser("import", help="import communities, lawyers, rosters or pools from CSV (UTF-8/GBK) or .xlsx")
    imp.add_argument("kind", choices=("communities", "lawyers", "rosters", "pools"))
    imp.add_argument("file")
    imp.set_defaults(fn=cmd_import)
    rollup = sub.add_parser("rollup", help="fold pending changes into the metrics rollups, or rebuild them")
    rollup.add_argument("--rebuild", action="store_true", help="recompute from the raw tables (after imports)")
    rollup.add_argument("--from", dest="date_from", help="rebuild only days from this date (YYYY-MM-DD)")
    rollup.add_argument("--to", dest="date_to", help="rebuild only days up to this date (YYYY-MM-DD)")
    rollup.set_defaults(fn=cmd_rollup)
    purge = sub.add_parser(
        "purge", help="anonymise question content and delete audit entries older than their retention periods"
    )
    purge.add_argument("--older-than", type=int, metavar="DAYS", help="default: FAZHIZHEN_RETENTION_DAYS")
    purge.set_defaults(fn=cmd_purge)
    sub.add_parser("simulate", help="replay a synthetic city through the routing rules", add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "simulate":
        from fazhizhen.simulate.cli import main as simulate_main

        return simulate_main(argv[1:])
    args = build_parser().parse_args(argv)
    settings = Settings()
    configure_logging(settings.log_format, settings.log_level)
    settings.apply_password_cost()
    result: int = args.fn(settings, args)
    return result


if __name__ == "__main__":
    sys.exit(main())
