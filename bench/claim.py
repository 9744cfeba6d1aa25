"""Scenario 3, claim race: 200 concurrent lawyers (one connection each, separate load-generator process)
race over 1,000 pool questions through `POST /questions/{id}/claim`; every question is contended by
several lawyers at the same moment. Anchor: the same plan as bare conditional UPDATEs over 64 asyncpg
connections in one process."""

from __future__ import annotations

import asyncio
import random
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import Bench, insert_questions, loadgen, running_server, script_main, seed_city
from bench.report import fig
from fazhizhen.db.pool import connect, create_pool

BARE_CLAIM = """UPDATE questions SET status = 'claimed', assigned_lawyer_id = $2, claimed_at = now()
WHERE id = $1 AND status = 'escalated' AND assigned_lawyer_id IS NULL RETURNING id"""


def plans(question_ids: list[int], lawyers: int, contenders: int, seed: int = 7) -> list[list[int]]:
    """Each question goes into `contenders` random lawyers' lists; each list in ascending id order, so
    the contenders of one question reach it at about the same time."""
    rng = random.Random(seed)
    out: list[list[int]] = [[] for _ in range(lawyers)]
    for qid in question_ids:
        for lawyer in rng.sample(range(lawyers), contenders):
            out[lawyer].append(qid)
    return [sorted(p) for p in out]


async def bare_claims_per_second(dsn: str, qids: list[int], lawyer_ids: list[int], plan: list[list[int]]) -> float:
    pool = await create_pool(dsn, min_size=64, max_size=64)
    sem = asyncio.Semaphore(64)
    wins = 0

    async def lawyer(lid: int, mine: list[int]) -> None:
        nonlocal wins
        for qid in mine:
            async with sem:
                if await pool.fetchval(BARE_CLAIM, qid, lid) is not None:
                    wins += 1

    try:
        t = time.perf_counter()
        await asyncio.gather(*(lawyer(lid, p) for lid, p in zip(lawyer_ids, plan, strict=True)))
        elapsed = time.perf_counter() - t
    finally:
        await pool.close()
    assert wins == len(qids), (wins, len(qids))
    return wins / elapsed


async def run(bench: Bench) -> dict[str, Any]:
    lawyers = 10 if bench.quick else 200
    n = 40 if bench.quick else 1000
    contenders = 3 if bench.quick else 10
    dsn = await bench.fresh_database("claim")
    conn = await connect(dsn)
    try:
        city = await seed_city(conn, communities=1, duty_lawyers=False, pool_lawyers=lawyers)
        await insert_questions(conn, city, n, status="escalated", escalate_in="-1 minute")
        qids = [r["id"] for r in await conn.fetch("SELECT id FROM questions ORDER BY id")]
    finally:
        await conn.close()
    plan = plans(qids, lawyers, contenders)
    async with running_server(dsn, bench.work_dir / "logs", FAZHIZHEN_SCHEDULER_ENABLED="false") as server:
        result = await loadgen(
            {"mode": "claim", "base": server.base, "tokens": city.lawyer_tokens, "plans": plan,
             "connections": lawyers}
        )  # fmt: skip
    conn = await connect(dsn)
    try:
        claimed = await conn.fetchval("SELECT count(*) FROM questions WHERE status = 'claimed'")
        double_events = await conn.fetchval(
            "SELECT count(*) FROM (SELECT question_id FROM question_events WHERE kind = 'claimed'"
            " GROUP BY question_id HAVING count(*) > 1) d"
        )
        winners = {(r["id"], r["assigned_lawyer_id"]) for r in await conn.fetch(
            "SELECT id, assigned_lawyer_id FROM questions WHERE status = 'claimed'")}  # fmt: skip
        # the anchor on fresh rows: put the same questions back into the pool
        await conn.execute("UPDATE questions SET status = 'escalated', assigned_lawyer_id = NULL, claimed_at = NULL")
    finally:
        await conn.close()
    wins = [(q, city.lawyer_ids[i]) for q, i in result.pop("wins")]
    won_twice = len(wins) - len({q for q, _ in wins})
    agree = set(wins) == winners
    bare = await bare_claims_per_second(dsn, qids, city.lawyer_ids, plan)
    rate = len(wins) / result["elapsed_s"]
    figures = [
        fig("bare conditional UPDATE claims, 64 connections", bare, "claims/s"),
        fig(f"claims over HTTP, {lawyers} lawyers racing", rate, "claims/s", anchor="bare UPDATE",
            anchor_value=bare),
        fig("claim attempts answered (200 + 409) per second", result["attempts_per_s"], "req/s"),
        fig("claim attempt p99", result["p99_ms"], "ms"),
        fig("double claims (two 200s, or two `claimed` events, for one question)",
            won_twice + double_events, "", target="0", met=won_twice + double_events == 0, must=True),
        fig("questions claimed exactly once", claimed, "", anchor="questions", anchor_value=n,
            target="all", met=claimed == n and agree, must=True),
    ]  # fmt: skip
    return {
        "title": "3. Claim race",
        "how": f"{n:,} escalated questions in one pool of {lawyers} lawyers; each question is in "
        f"{contenders} random lawyers' lists (ascending ids, so contenders arrive together); each lawyer "
        "claims down its list over its own connection, moving on at a 409.",
        "figures": figures,
        "raw": {"http": result, "bare_claims_per_s": bare, "statuses": result["statuses"]},
    }


if __name__ == "__main__":
    script_main("claim", run)
