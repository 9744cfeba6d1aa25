"""`make bench`: every scenario in turn on the bench's embedded PostgreSQL, then docs/BENCHMARKS.md.

python bench/run_all.py [--quick] [--only intake,sweep] [--no-write]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import report
from bench.harness import ROOT, bench_context, prioritise, server_version
from bench.peer import peer

SCENARIOS = ["intake", "sweep", "claim", "metrics", "push", "scheduler", "queue_reads"]


def _add_peer(results: dict[str, dict[str, Any]], p: dict[str, Any], quick: bool) -> None:
    """django-helpdesk figures next to ours, as ratios."""
    intake, sweep = results.get("intake"), results.get("sweep")
    if "error" in p:
        for res, name in (
            (intake, "django-helpdesk ticket creation"),
            (sweep, "django-helpdesk escalate_tickets"),
        ):
            if res:
                res["figures"].append(report.not_measured(name, p["error"]))
        return
    if intake:
        ours = intake["raw"]["closed"]["throughput"]
        intake["figures"].append(report.fig(
            "POST /questions vs django-helpdesk ticket creation", ours, "req/s",
            anchor="django-helpdesk tickets/s", anchor_value=p["tickets_per_s"]))  # fmt: skip
        intake.setdefault("notes", []).append(
            f"Peer: django-helpdesk {p['helpdesk']} on Django {p['django']}, its public ticket form "
            f"(ticket, follow-up, mail to memory), one process: {p['tickets_per_s']:.0f} tickets/s "
            f"over {p['created']:,} tickets."
        )
    if sweep:
        due = 1_000 if quick else 100_000
        ours = sweep["raw"]["sweep_s"]
        projected = due / p["escalated_per_s"]
        sweep["figures"].append(report.fig(
            f"django-helpdesk `escalate_tickets`, {due:,} tickets (projected from its rate)", projected, "s",
            anchor="our sweep", anchor_value=ours))  # fmt: skip
        sweep.setdefault("notes", []).append(
            f"Peer: `escalate_tickets` escalated {p['escalated']:,} due tickets at "
            f"{p['escalated_per_s']:.0f}/s (one at a time, whole-day granularity); "
            f"{due:,} would take {projected / 60:.1f} min."
        )


async def main_async(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    only = args.only.split(",") if args.only else SCENARIOS
    results: dict[str, dict[str, Any]] = {}
    prioritise()
    async with bench_context(args.quick) as bench:
        info = report.machine()
        info["nice"] = str(prioritise())
        info["load_before"] = Path("/proc/loadavg").read_text().split()[0]
        conn_dsn = bench.server_dsn
        info["postgresql"] = await server_version(conn_dsn)
        import asyncpg

        c = await asyncpg.connect(conn_dsn)
        info["synchronous_commit"] = await c.fetchval("SHOW synchronous_commit")
        await c.close()
        for name in only:
            started = time.perf_counter()
            print(f"== {name}", flush=True)
            try:
                module = importlib.import_module(f"bench.{name}")
                results[name] = await module.run(bench)
            except Exception as exc:  # one broken scenario must not lose the others' figures
                traceback.print_exc()
                results[name] = {
                    "title": name,
                    "figures": [report.not_measured(name, f"{type(exc).__name__}: {exc}"[:200])],
                }
            finally:
                await bench.cleanup()
            print(f"   {time.perf_counter() - started:.0f} s", flush=True)
        if not args.only or "peer" in only or "intake" in only:
            p = await peer.measure(bench, 50 if args.quick else 1000, 50 if args.quick else 1000)
            await bench.cleanup()
            results.setdefault("_peer", {"raw": p})
            _add_peer(results, p, args.quick)
        info["load_after"] = Path("/proc/loadavg").read_text().split()[0]
    results.pop("_peer", None)
    out = ROOT / "var" / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "all.json").write_text(json.dumps({"info": info, "results": results}, indent=2, default=str))
    if not args.no_write:
        report.write(results, info)
    print(report.render(results, info))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description="run every benchmark scenario, write docs/BENCHMARKS.md")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", help="comma-separated scenario names")
    parser.add_argument("--no-write", action="store_true", help="do not touch docs/BENCHMARKS.md")
    parser.add_argument("--render-only", action="store_true", help="rewrite the doc from the last run's JSON")
    args = parser.parse_args()
    if args.render_only:
        saved = json.loads((ROOT / "var" / "bench" / "results" / "all.json").read_text())
        report.write(saved["results"], saved["info"])
        return
    os.environ.setdefault("XDG_RUNTIME_DIR", str(ROOT / "var" / "run"))
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
