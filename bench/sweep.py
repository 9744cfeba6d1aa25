"""Scenario 2, sweep: 100,000 questions falling due at once, escalated by the service's own sweep
(`fazhizhen.services.escalation.sweep`, INFO logs to a file as in production: a line per question, or one
per batch of over 100), against one
bare set-based UPDATE of the same rows; then the cost of a sweep over 1,000,000 open questions none of
which is due, with the plan showing the partial index."""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import Bench, insert_questions, pct, script_main, seed_city, service_logs_to
from bench.report import fig
from fazhizhen.db.pool import connect, create_pool
from fazhizhen.db.queries import Q
from fazhizhen.services.escalation import sweep
from fazhizhen.settings import Settings

BARE_UPDATE = """UPDATE questions SET status = 'escalated', escalated_at = now(), assigned_lawyer_id = NULL,
    alert_at = now() + interval '15 minutes' WHERE status = 'pending' AND escalate_at <= now()"""


async def bare_update_seconds(dsn: str, expected: int) -> float:
    """One set-based UPDATE of every due row, timed, then rolled back (and vacuumed away)."""
    conn = await connect(dsn)
    try:
        tx = conn.transaction()
        await tx.start()
        t = time.perf_counter()
        status = await conn.execute(BARE_UPDATE)
        seconds = time.perf_counter() - t
        await tx.rollback()
        assert int(status.split()[-1]) == expected, status
        await conn.execute("VACUUM ANALYZE questions")
        await conn.execute("CHECKPOINT")
        return seconds
    finally:
        await conn.close()


async def run(bench: Bench) -> dict[str, Any]:
    due_n = 1_000 if bench.quick else 100_000
    open_n = 5_000 if bench.quick else 1_000_000
    dsn = await bench.fresh_database("sweep")
    conn = await connect(dsn)
    try:
        city = await seed_city(conn, communities=10 if bench.quick else 200, pool_lawyers=5)
        t = time.perf_counter()
        await insert_questions(conn, city, open_n, status="pending", escalate_in="1 day")
        await insert_questions(conn, city, due_n, status="pending", escalate_in="-1 minute")
        gen_s = time.perf_counter() - t
        await conn.execute("VACUUM ANALYZE questions")
        await conn.execute("CHECKPOINT")
    finally:
        await conn.close()

    bare_s = await bare_update_seconds(dsn, due_n)

    settings = Settings(database_url=dsn)  # type: ignore[arg-type]
    pool = await create_pool(dsn, min_size=1, max_size=2)
    try:
        with service_logs_to(bench.work_dir / "logs" / "sweep-service.log"):
            t = time.perf_counter()
            result = await sweep(pool, settings)
            sweep_s = time.perf_counter() - t
        escalated = len(result.escalated)
        # nothing due now among the open questions: the steady-state cost of one sweep
        empty = []
        for _ in range(10 if bench.quick else 200):
            t = time.perf_counter()
            r = await sweep(pool, settings)
            empty.append((time.perf_counter() - t) * 1000)
            assert not r.escalated
        async with pool.acquire() as c:
            left = await c.fetchval("SELECT count(*) FROM questions WHERE status = 'pending' AND escalate_at <= now()")
            dup = await c.fetchval(
                "SELECT count(*) FROM (SELECT question_id FROM question_events WHERE level = 1"
                " GROUP BY question_id HAVING count(*) > 1) d"
            )
            plan_rows = await c.fetch("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) " + Q.escalate_due, None, 5000, 900.0)
            alert_rows = await c.fetch("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) " + Q.alert_due, None, 5000)
    finally:
        await pool.close()
    plan = "\n".join(r[0] for r in plan_rows)
    alert_plan = "\n".join(r[0] for r in alert_rows)
    uses_index = "questions_escalate_due_idx" in plan and "questions_alert_due_idx" in alert_plan
    empty_p50 = statistics.median(empty)
    figures = [
        fig(f"bare set-based UPDATE of {due_n:,} due rows", bare_s, "s"),
        fig(f"sweep: all {due_n:,} escalated (with events, logs)", sweep_s, "s", anchor="bare UPDATE",
            anchor_value=bare_s, target="≤ 3× bare", met=sweep_s <= 3 * bare_s and escalated == due_n),
        fig("escalated by the sweep", escalated, "questions", anchor="due", anchor_value=due_n,
            target="all, once", met=escalated == due_n and left == 0 and dup == 0, must=True),
        fig(f"one sweep, {open_n:,} open, none due (p50)", empty_p50, "ms", target="< 5 ms",
            met=empty_p50 < 5),
        fig(f"one sweep, {open_n:,} open, none due (p99)", pct(empty, 99), "ms"),
        fig("sweep plan uses the partial indexes", 1.0 if uses_index else 0.0, "", target="yes",
            met=uses_index, must=True),
    ]  # fmt: skip
    return {
        "title": "2. Sweep — escalation when many questions fall due at once",
        "how": f"{open_n:,} pending questions not due and {due_n:,} due, generated with one "
        f"`INSERT … SELECT generate_series` ({gen_s:.1f} s). The anchor UPDATE runs first and is rolled "
        "back; then `escalation.sweep()` (the scheduler's job: 5,000-row batches, each a single statement "
        "that moves the rows and writes their `question_events`, SKIP LOCKED; INFO logs to a file, one line "
        "per batch) runs until nothing is due.",
        "figures": figures,
        "details": "<details><summary>Plan of <code>escalate_due</code> with nothing due</summary>\n\n"
        f"```\n{plan}\n```\n</details>",
        "raw": {"bare_s": bare_s, "sweep_s": sweep_s, "empty_ms": sorted(empty)[:: max(1, len(empty) // 20)],
                "plan": plan, "alert_plan": alert_plan, "generate_s": gen_s},
    }  # fmt: skip


if __name__ == "__main__":
    script_main("sweep", run)
