"""Operations figures for docs/OPERATIONS.md and docs/SCALING.md, on a dedicated embedded PostgreSQL.

    .venv/bin/python bench/ops.py [--fraction 1.0]

1. `demo --scale city` build time (COPY, then the metrics rollups) and the size of a city-year on disk.
2. `GET /metrics` latency at city scale (it reads queue depth and open questions from the database).
3. The bureau's summary for a year: from the rollups vs raw (what a read replica would carry).
4. A monthly partition's share: the largest month of questions and events, in rows.
Writes bench/ops-results.json and prints a table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiohttp.test_utils import TestClient, TestServer

from fazhizhen.app import create_app
from fazhizhen.db.embedded import EmbeddedPostgres
from fazhizhen.db.migrate import migrate
from fazhizhen.db.pool import connect
from fazhizhen.log import configure_logging
from fazhizhen.services import passwords
from fazhizhen.services.demo_city import load_city
from fazhizhen.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


async def _timed(client: TestClient, path: str, n: int, headers: dict[str, str] | None = None) -> list[float]:  # type: ignore[type-arg]
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        async with client.get(path, headers=headers) as resp:
            await resp.read()
            assert resp.status == 200, (path, resp.status)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def _p(values: list[float], q: float) -> float:
    return round(statistics.quantiles(values, n=100)[int(q) - 1], 1) if len(values) > 1 else values[0]


async def main(fraction: float) -> dict[str, Any]:
    configure_logging("console", "WARNING")
    data = ROOT / "var" / "bench-ops"
    shutil.rmtree(data, ignore_errors=True)
    pg = EmbeddedPostgres(data)
    dsn = pg.start()
    out: dict[str, Any] = {"fraction": fraction}
    try:
        settings = Settings(database_url=dsn, scheduler_enabled=False, log_level="WARNING")  # type: ignore[arg-type]
        passwords.configure(settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism)
        conn = await connect(dsn)
        try:
            await migrate(conn)
            t0 = time.perf_counter()
            summary = await load_city(conn, settings, scale=fraction)
            out["city_build_seconds"] = round(time.perf_counter() - t0, 1)
            out["city_summary"] = summary
            await conn.execute("VACUUM ANALYZE")
            sizes = await conn.fetch(
                "SELECT relname, n_live_tup AS rows, pg_total_relation_size(relid) AS bytes "
                "FROM pg_stat_user_tables WHERE relname IN ('questions', 'messages', 'question_events', "
                "'metrics_rollup', 'metrics_lawyer_rollup', 'callbacks') ORDER BY relname"
            )
            out["tables"] = {r["relname"]: {"rows": r["rows"], "mib": round(r["bytes"] / 2**20, 1)} for r in sizes}
            out["database_mib"] = round(await conn.fetchval("SELECT pg_database_size(current_database())") / 2**20, 1)
            months = await conn.fetch(
                "SELECT date_trunc('month', created_at) AS m, count(*) AS n FROM questions GROUP BY 1 ORDER BY 2 DESC"
            )
            out["largest_month_questions"] = months[0]["n"] if months else 0
            out["months"] = len(months)
            t0 = time.perf_counter()
            dump = await asyncio.create_subprocess_exec(
                str(Path(pg._bin("pg_dump"))), "-Fc", "-f", str(data / "city.dump"), dsn,
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
            )  # fmt: skip
            _, err = await dump.communicate()
            if dump.returncode == 0:
                out["pg_dump_seconds"] = round(time.perf_counter() - t0, 1)
                out["pg_dump_mib"] = round((data / "city.dump").stat().st_size / 2**20, 1)
            else:
                out["pg_dump_error"] = err.decode()[-200:]
            token = await conn.fetchval("SELECT 1")  # keep the connection warm
            del token
        finally:
            await conn.close()
        app = create_app(settings)
        async with TestClient(TestServer(app)) as client:
            login = await client.post(
                "/api/v1/auth/login", json={"username": "admin", "password": "fazhizhen-demo-2026"}
            )
            bearer = {"Authorization": f"Bearer {(await login.json())['token']}"}
            scrape = await _timed(client, "/metrics", 50)
            out["metrics_scrape_ms"] = {"p50": _p(scrape, 50), "p99": _p(scrape, 99)}
            year = "from=2025-01-01&to=2026-12-31"
            rollup = await _timed(client, f"/api/v1/metrics/summary?{year}", 10, bearer)
            raw = await _timed(client, f"/api/v1/metrics/summary?{year}&source=raw", 5, bearer)
            out["summary_year_ms"] = {"rollup_p50": _p(rollup, 50), "raw_p50": _p(raw, 50)}
    finally:
        pg.stop()
        shutil.rmtree(data, ignore_errors=True)
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--fraction", type=float, default=1.0)
    args = parser.parse_args()
    result = asyncio.run(main(args.fraction))
    (ROOT / "bench" / "ops-results.json").write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    print(json.dumps(result, ensure_ascii=False, indent=2))
