"""Scenario 7, queue reads: 3,000 lawyers each polling `GET /lawyer/queue` every 10 s (300 req/s), on a
city with 100,000 answered questions of history, 3 open questions per lawyer and 20 in their pool.
Anchor: the same polling schedule against `/healthz` on the same server (the HTTP floor)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import Bench, insert_questions, loadgen, running_server, script_main, seed_city
from bench.report import fig
from fazhizhen.db.pool import connect


async def run(bench: Bench) -> dict[str, Any]:
    lawyers = 20 if bench.quick else 3000
    interval = 1.0 if bench.quick else 10.0
    duration = 1.5 if bench.quick else 40.0
    dsn = await bench.fresh_database("queue")
    conn = await connect(dsn)
    try:
        city = await seed_city(conn, communities=lawyers, pool_lawyers=0)
        pool_id = await conn.fetchval("INSERT INTO pools (name, district_id) VALUES ('全市服务团', NULL) RETURNING id")
        await conn.execute(
            "INSERT INTO pool_members (pool_id, lawyer_id) SELECT $1, unnest($2::bigint[])",
            pool_id,
            city.lawyer_ids,
        )
        city.pool_id = pool_id
        await insert_questions(conn, city, 1_000 if bench.quick else 100_000, status="answered",
                               escalate_in="-1 day", created_ago="2 days")  # fmt: skip
        await insert_questions(conn, city, 3 * lawyers, status="pending", escalate_in="10 minutes")
        await insert_questions(conn, city, 20, status="escalated", escalate_in="-1 minute")
        await conn.execute("VACUUM ANALYZE questions")
    finally:
        await conn.close()
    spec = {"mode": "queue", "tokens": city.lawyer_tokens, "interval": interval, "duration": duration,
            "connections": 256}  # fmt: skip
    async with running_server(dsn, bench.work_dir / "logs", FAZHIZHEN_SCHEDULER_ENABLED="false") as server:
        floor = await loadgen({**spec, "base": server.base, "path": "/healthz"})
        result = await loadgen({**spec, "base": server.base})
    figures = [
        fig(f"GET /healthz at {lawyers / interval:.0f} req/s, p99", floor["p99_ms"], "ms"),
        fig(f"GET /lawyer/queue, {lawyers:,} lawyers every {interval:g} s, p50", result["p50_ms"], "ms",
            anchor="/healthz p50", anchor_value=floor["p50_ms"]),
        fig(f"GET /lawyer/queue, {lawyers:,} lawyers every {interval:g} s, p99", result["p99_ms"], "ms",
            anchor="/healthz p99", anchor_value=floor["p99_ms"]),
        fig("GET /lawyer/queue answered", result["ok"], "requests", anchor="sent",
            anchor_value=result["requests"], target="all 200",
            met=result["ok"] == result["requests"] > 0, must=True),
    ]  # fmt: skip
    return {
        "title": "7. Queue reads — GET /lawyer/queue",
        "how": f"{lawyers:,} lawyer tokens, each polling with a random phase every {interval:g} s for "
        f"{duration:g} s (open loop; latency from the scheduled poll time). Each answer carries the "
        "lawyer's 3 open questions and the pool's 20 with their threads.",
        "figures": figures,
        "raw": {"queue": result, "healthz": floor},
    }


if __name__ == "__main__":
    script_main("queue_reads", run)
