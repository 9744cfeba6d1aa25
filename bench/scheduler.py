"""Scenario 6, scheduler precision: escalation lateness (escalated_at − escalate_at) while the server
takes the intake load of scenario 1 (64 clients, closed loop). The window is shortened so questions
submitted during the load also fall due during it; lateness is read from the database afterwards."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import Bench, loadgen, pct, running_server, script_main
from bench.intake import intake_city, intake_spec
from bench.report import fig
from fazhizhen.db.pool import connect

INTERVAL = 0.5


async def run(bench: Bench) -> dict[str, Any]:
    window = 1.0 if bench.quick else 3.0
    seconds = 1.5 if bench.quick else 20.0
    dsn = await bench.fresh_database("sched")
    city = await intake_city(dsn, bench)
    env = {
        "FAZHIZHEN_ESCALATE_AFTER_SECONDS": window,
        "FAZHIZHEN_SWEEP_INTERVAL_SECONDS": INTERVAL,
        "FAZHIZHEN_LOG_LEVEL": "INFO",
    }
    async with running_server(dsn, bench.work_dir / "logs", **env) as server:
        load = await loadgen(intake_spec(bench, server, city, seconds))
        conn = await connect(dsn)
        try:
            load_end = await conn.fetchval("SELECT now()")
            deadline = time.monotonic() + window + 30
            while time.monotonic() < deadline:
                left = await conn.fetchval(
                    "SELECT count(*) FROM questions WHERE status = 'pending' AND escalate_at <= $1", load_end
                )
                if left == 0:
                    break
                await asyncio.sleep(0.1)
            rows = await conn.fetch(
                "SELECT extract(epoch FROM escalated_at - escalate_at)::float8 AS late FROM questions"
                " WHERE escalation_reason = 'window_passed' AND escalate_at <= $1",
                load_end,
            )
        finally:
            await conn.close()
    late = [r["late"] * 1000 for r in rows]
    figures = [
        fig("questions escalated while under load", len(late), "", anchor="submitted during load",
            anchor_value=load["ok"]),
        fig("intake throughput meanwhile", load["throughput"], "req/s"),
        fig("escalation lateness p50", pct(late, 50), "ms", anchor="sweep interval",
            anchor_value=INTERVAL * 1000),
        fig("escalation lateness p99", pct(late, 99), "ms", anchor="sweep interval",
            anchor_value=INTERVAL * 1000, target="< 1 s", met=bool(late) and pct(late, 99) < 1000),
        fig("escalation lateness max", max(late, default=0.0), "ms", anchor="sweep interval",
            anchor_value=INTERVAL * 1000),
        fig("still pending past due after the load", left, "", target="0",
            met=left == 0 and bool(late), must=True),
    ]  # fmt: skip
    return {
        "title": "6. Scheduler precision under intake load",
        "how": f"`FAZHIZHEN_ESCALATE_AFTER_SECONDS={window:g}`, "
        f"`FAZHIZHEN_SWEEP_INTERVAL_SECONDS={INTERVAL:g}`, "
        f"INFO logs on; the intake load of scenario 1 for {seconds:g} s. Lateness = `escalated_at − "
        "escalate_at` for every question that fell due before the load ended (so the sweep interval "
        "itself is the floor: a due time just after a sweep waits for the next).",
        "figures": figures,
        "raw": {"load": load, "late_ms_sample": sorted(late)[:: max(1, len(late) // 50)]},
    }


if __name__ == "__main__":
    script_main("scheduler", run)
