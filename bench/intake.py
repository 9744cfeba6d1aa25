"""Scenario 1, intake: POST /questions from a separate load generator, 64 clients, durable commits.

Anchors in the same run: pgbench single-row INSERT TPS (the durable-write limit) and a bare
aiohttp + asyncpg handler doing one INSERT. Then an open-loop run at 500 req/s for the p99 target.
"""

from __future__ import annotations

import asyncio
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (
    PY,
    ROOT,
    Bench,
    City,
    Server,
    free_port,
    loadgen,
    pg_bin,
    running_server,
    script_main,
    seed_city,
    wait_ready,
)
from bench.report import fig
from fazhizhen.db.pool import connect

CLIENTS = 64


async def pgbench_insert_tps(dsn: str, clients: int, seconds: float) -> float:
    """pgbench with a one-row INSERT script: transactions per second."""
    conn = await connect(dsn)
    try:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS bench_pgbench (id bigserial PRIMARY KEY, v int NOT NULL,"
            " created_at timestamptz NOT NULL DEFAULT now())"
        )
    finally:
        await conn.close()
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write("INSERT INTO bench_pgbench (v) VALUES (1);\n")
        script = f.name
    proc = await asyncio.create_subprocess_exec(
        pg_bin("pgbench"),
        "-n", "-M", "prepared", "-f", script, "-c", str(clients), "-j", "2", "-T", str(int(max(1, seconds))),
        dsn,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await proc.communicate()
    Path(script).unlink()
    m = re.search(r"tps = ([\d.]+)", out.decode())
    if proc.returncode != 0 or not m:
        raise RuntimeError(f"pgbench failed: {out.decode()[-500:]} {err.decode()[-1000:]}")
    return float(m.group(1))


async def bare_handler(dsn: str, spec: dict[str, Any], log_dir: Path) -> dict[str, Any]:
    """The anchor handler as its own process, driven by the same load generator."""
    port = free_port()
    log_dir.mkdir(parents=True, exist_ok=True)
    log = open(log_dir / f"bare-{port}.log", "ab")  # noqa: SIM115 - closed below
    import subprocess

    proc = subprocess.Popen(
        [PY, str(ROOT / "bench" / "bare_server.py"), dsn, str(port)], stdout=log, stderr=subprocess.STDOUT
    )
    try:
        await wait_ready(Server(proc, port, log_dir / f"bare-{port}.log"))
        return await loadgen({**spec, "base": f"http://127.0.0.1:{port}"})
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


def intake_spec(bench: Bench, server: Server, city: City, duration: float, **extra: Any) -> dict[str, Any]:
    return {
        "mode": "post",
        "base": server.base,
        "tokens": city.resident_tokens,
        "communities": city.community_ids,
        "concurrency": CLIENTS,
        "duration": duration,
        "warmup": 0.2 if bench.quick else 2,
        **extra,
    }


async def settle(dsn: str, vacuum: bool) -> None:
    """Between runs: a checkpoint, and with `vacuum` what pgbench does before its own runs, so one
    run's inserts are not cleaned up by autovacuum in the middle of the next. (Not before the first
    run of the service: statistics taken while `questions` is empty would plan its queries for an
    empty table while it fills at a thousand rows a second.)"""
    conn = await connect(dsn)
    try:
        if vacuum:
            await conn.execute("VACUUM ANALYZE")
        await conn.execute("CHECKPOINT")
    finally:
        await conn.close()


async def intake_city(dsn: str, bench: Bench) -> City:
    conn = await connect(dsn)
    try:
        return await seed_city(
            conn, communities=5 if bench.quick else 50, pool_lawyers=2, residents=64 if bench.quick else 2000
        )
    finally:
        await conn.close()


async def run(bench: Bench) -> dict[str, Any]:
    dsn = await bench.fresh_database("intake")
    city = await intake_city(dsn, bench)
    seconds = 0.8 if bench.quick else 15
    conn = await connect(dsn)
    try:
        sync_commit = await conn.fetchval("SHOW synchronous_commit")
        fsync = await conn.fetchval("SHOW fsync")
    finally:
        await conn.close()

    pgbench_tps = await pgbench_insert_tps(dsn, 16, seconds)
    await settle(dsn, vacuum=False)
    logs = bench.work_dir / "logs"
    bare = await bare_handler(
        dsn, {"mode": "post", "communities": city.community_ids, "concurrency": CLIENTS,
              "duration": seconds, "warmup": 0.2 if bench.quick else 2}, logs,
    )  # fmt: skip
    await settle(dsn, vacuum=False)
    async with running_server(dsn, logs, FAZHIZHEN_SCHEDULER_ENABLED="false") as server:
        closed = await loadgen(intake_spec(bench, server, city, seconds, return_ids=True))
        await settle(dsn, vacuum=True)
        rate = 50 if bench.quick else 500
        opened = await loadgen(intake_spec(bench, server, city, seconds, rate=rate, timeout=10))
    conn = await connect(dsn)
    try:
        stored = await conn.fetchval("SELECT count(*) FROM questions WHERE id = ANY($1::bigint[])", closed["ids"])
    finally:
        await conn.close()
    acked = len(closed.pop("ids"))
    figures = [
        fig("pgbench single-row INSERT, 16 clients", pgbench_tps, "TPS"),
        fig("bare aiohttp + asyncpg INSERT handler, 64 clients", bare["throughput"], "req/s",
            anchor="pgbench TPS", anchor_value=pgbench_tps),
        fig("POST /questions throughput, 64 clients", closed["throughput"], "req/s",
            anchor="bare handler", anchor_value=bare["throughput"], target="≥ 0.5× bare",
            met=closed["throughput"] >= 0.5 * bare["throughput"]),
        fig("POST /questions vs pgbench", closed["throughput"], "req/s", anchor="pgbench TPS",
            anchor_value=pgbench_tps),
        fig("POST /questions p50, 64 clients", closed["p50_ms"], "ms", anchor="bare p50",
            anchor_value=bare["p50_ms"]),
        fig("POST /questions p99, 64 clients", closed["p99_ms"], "ms", anchor="bare p99",
            anchor_value=bare["p99_ms"]),
        fig(f"POST /questions p99 at {rate} req/s (open loop)", opened["p99_ms"], "ms",
            target="< 50 ms at 500 req/s", met=opened["p99_ms"] < 50 if rate == 500 else None),
        fig(f"POST /questions p50 at {rate} req/s (open loop)", opened["p50_ms"], "ms"),
        fig("acknowledged (201) questions found in the database", stored, "rows", anchor="201s",
            anchor_value=acked, target="all", met=stored == acked and acked > 0, must=True),
    ]  # fmt: skip
    return {
        "title": "1. Intake — POST /questions over HTTP",
        "how": f"{CLIENTS} closed-loop clients in a separate aiohttp process for {seconds:g} s after "
        "warm-up; "
        f"{len(city.resident_tokens)} residents over {len(city.community_ids)} communities, each with an "
        f"always-on-duty lawyer; every request is a durable commit (`synchronous_commit={sync_commit}`, "
        f"`fsync={fsync}`) of the question and its two events. Rate limits raised for the run. A checkpoint "
        "before each run; before the open-loop run also a VACUUM ANALYZE, as pgbench does before its own.",
        "figures": figures,
        "raw": {"pgbench_tps": pgbench_tps, "bare": bare, "closed": closed, "open": opened},
    }


if __name__ == "__main__":
    script_main("intake", run)
