"""Scenario 5, push: 10, 100, 1,000 and 3,000 lawyers holding `GET /lawyer/stream` (SSE); residents ask
at a steady rate, each question routed to one of them. Latency is from `POST /questions` returning to
the assigned lawyer's client reading the `assigned` event, both seen by one load-generator process
(one clock). Also missed deliveries and the server's resident memory per open stream."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import Bench, loadgen, running_server, script_main, seed_city
from bench.report import fig, not_measured
from fazhizhen.db.pool import connect

TITLE = "5. Push to lawyer streams"


async def run(bench: Bench) -> dict[str, Any]:
    levels = [5, 20] if bench.quick else [10, 100, 1000, 3000]
    if importlib.util.find_spec("fazhizhen.realtime") is None:
        reason = "the lawyer SSE streams have not landed on main yet"
        return {"title": TITLE, "figures": [not_measured(f"{n} streams, p99", reason) for n in levels]}
    rate = 20.0 if bench.quick else 50.0
    duration = 1.5 if bench.quick else 10.0
    dsn = await bench.fresh_database("push")
    conn = await connect(dsn)
    try:
        city = await seed_city(conn, communities=max(levels), residents=200)
    finally:
        await conn.close()
    runs: dict[int, dict[str, Any]] = {}
    for n in levels:
        async with running_server(dsn, bench.work_dir / "logs") as server:
            runs[n] = await loadgen({
                "mode": "push", "base": server.base, "server_pid": server.proc.pid,
                "lawyer_tokens": city.lawyer_tokens[:n], "communities": city.community_ids[:n],
                "resident_tokens": city.resident_tokens, "rate": rate, "duration": duration,
                "connections": n + 200, "grace": 3,
            })  # fmt: skip
    base = runs[levels[0]]
    figures = []
    for n, r in runs.items():
        top = n == levels[-1]
        figures += [
            fig(f"{n:,} streams: event p50", r["p50_ms"], "ms", anchor=f"{levels[0]} streams p50",
                anchor_value=base["p50_ms"]),
            fig(f"{n:,} streams: event p99", r["p99_ms"], "ms", anchor=f"{levels[0]} streams p99",
                anchor_value=base["p99_ms"], target="< 100 ms" if top else None,
                met=r["p99_ms"] < 100 if top and not bench.quick else None),
            fig(f"{n:,} streams: missed deliveries", r["missed"], "", anchor="questions",
                anchor_value=r["posted"], target="0", met=r["missed"] == 0 and r["posted"] > 0, must=True),
            fig(f"{n:,} streams: server memory per stream", r["kib_per_connection"], "KiB"),
        ]  # fmt: skip
    return {
        "title": TITLE,
        "how": f"One server process; {rate:g} questions/s for {duration:g} s at each level, round-robin "
        "over the connected lawyers' communities (each lawyer always on duty in its own). Memory per "
        "stream = growth of the server's RSS from before the streams opened to a second after all had.",
        "figures": figures,
        "raw": runs,
    }


if __name__ == "__main__":
    script_main("push", run)
