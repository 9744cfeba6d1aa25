"""Two server processes (two schedulers, so two sweepers) on one database through a compressed stretch
of city time (15-minute windows shrunk to half a second): residents submit to both, pool lawyers race
to claim through both. No question is escalated, alerted or claimed twice, and nothing due is missed."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path

import aiohttp

from bench.harness import City, running_server, seed_city
from fazhizhen.db.pool import connect
from tests.faults.load import Submitter

WINDOW = 0.5  # the community lawyer's 15 minutes
POOL_SLA = 1.0  # the pool's window
RUN_SECONDS = 6.0


async def claimers(bases: list[str], city: City, stop: asyncio.Event, wins: Counter[int]) -> None:
    """Every pool lawyer polls its queue and tries to claim the oldest pool question, alternating servers."""
    pool_tokens = city.lawyer_tokens[len(city.community_ids) :]
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:

        async def lawyer(i: int, token: str) -> None:
            headers = {"Authorization": f"Bearer {token}"}
            n = i
            while not stop.is_set():
                n += 1
                base = bases[n % len(bases)]
                async with session.get(base + "/api/v1/lawyer/queue", headers=headers) as resp:
                    queue = await resp.json()
                for q in queue["pool"][:2]:
                    url = f"{bases[(n + 1) % len(bases)]}/api/v1/questions/{q['id']}/claim"
                    async with session.post(url, headers=headers) as resp:
                        await resp.read()
                        if resp.status == 200:
                            wins[q["id"]] += 1
                await asyncio.sleep(0.05)

        await asyncio.gather(*(lawyer(i, t) for i, t in enumerate(pool_tokens)))


def log_events(path: Path, event: str) -> list[int]:
    ids = []
    for line in path.read_text().splitlines():
        if f'"{event}"' in line:
            ids.append(json.loads(line)["question_id"])
    return ids


async def test_two_sweepers_never_double_escalate_alert_or_claim(db_dsn: str, tmp_path: Path) -> None:
    conn = await connect(db_dsn)
    try:
        city = await seed_city(conn, communities=4, pool_lawyers=6, residents=16)
    finally:
        await conn.close()
    env = {
        "FAZHIZHEN_ESCALATE_AFTER_SECONDS": WINDOW,
        "FAZHIZHEN_POOL_SLA_SECONDS": POOL_SLA,
        "FAZHIZHEN_SWEEP_INTERVAL_SECONDS": 0.05,
        "FAZHIZHEN_LOG_LEVEL": "INFO",
    }
    wins: Counter[int] = Counter()
    async with (
        running_server(db_dsn, tmp_path / "a", **env) as a,
        running_server(db_dsn, tmp_path / "b", **env) as b,
    ):
        bases = [a.base, b.base]
        load = Submitter(bases, city.resident_tokens, city.community_ids)
        stop = asyncio.Event()
        tasks = [
            asyncio.create_task(load.run(stop, concurrency=2)),
            asyncio.create_task(claimers(bases, city, stop, wins)),
        ]
        await asyncio.sleep(RUN_SECONDS)
        stop.set()
        await asyncio.gather(*tasks)
        await asyncio.sleep(POOL_SLA + 0.5)  # let the last windows pass and be swept
        conn = await connect(db_dsn)
        try:
            missed_escalations = await conn.fetchval(
                "SELECT count(*) FROM questions"
                " WHERE status = 'pending' AND escalate_at < now() - interval '0.3 s'"
            )
            missed_alerts = await conn.fetchval(
                "SELECT count(*) FROM questions WHERE alerted_at IS NULL"
                " AND status IN ('escalated', 'claimed') AND alert_at < now() - interval '0.3 s'"
            )
            per_kind = await conn.fetch(
                """SELECT kind, count(*) AS events, count(DISTINCT question_id) AS questions
                   FROM question_events WHERE kind IN ('escalated', 'alerted', 'claimed') GROUP BY kind"""
            )
            claimed_rows = await conn.fetchval("SELECT count(*) FROM questions WHERE claimed_at IS NOT NULL")
        finally:
            await conn.close()
    counts = {r["kind"]: (r["events"], r["questions"]) for r in per_kind}
    assert len(load.acked) > 50 and load.failed == 0, load.statuses
    assert missed_escalations == 0 and missed_alerts == 0
    for kind in ("escalated", "alerted", "claimed"):
        events, questions = counts.get(kind, (0, 0))
        assert events > 0, f"no {kind} events: the run did not exercise {kind}"
        assert events == questions, f"{kind}: {events} events for {questions} questions"
    assert all(n == 1 for n in wins.values()), [q for q, n in wins.items() if n > 1]
    assert sum(wins.values()) == counts["claimed"][0] == claimed_rows
    # both schedulers swept, and between them each escalation and alert was logged exactly once
    for event in ("question_escalated", "question_alerted"):
        by_a = log_events(a.log_path, event)
        by_b = log_events(b.log_path, event)
        assert by_a and by_b, f"{event}: one sweeper did all the work ({len(by_a)}, {len(by_b)})"
        assert not set(by_a) & set(by_b)
