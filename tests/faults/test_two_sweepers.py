"""Two server processes (two schedulers: two sweepers and two outbox notifiers) on one database through
a compressed stretch of city time (15-minute windows shrunk to half a second): residents submit to both,
pool lawyers race to claim through both, a bureau webhook hears every escalation and alert. No question
is escalated, alerted or claimed twice, no notification is sent twice, and nothing due is missed."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path

import aiohttp

from bench.harness import City, running_server, seed_city
from fazhizhen.db.pool import connect
from tests.faults.load import Submitter, wait_for
from tests.realtime.fakes import Fake, receiver_app, serve

WINDOW = 0.5  # the community lawyer's 15 minutes
POOL_SLA = 1.0  # the pool's window
RUN_SECONDS = 4.0


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
    """Question ids logged as `event`, one line each, or in a batch's `questions_…` line (escalation.py)."""
    batch_event = event.replace("question_", "questions_", 1)
    ids = []
    for line in path.read_text().splitlines():
        if f'"{event}"' in line:
            ids.append(json.loads(line)["question_id"])
        elif f'"{batch_event}"' in line:
            ids.extend(json.loads(line)["question_ids"])
    return ids


async def test_two_sweepers_never_double_escalate_alert_or_claim(db_dsn: str, tmp_path: Path) -> None:
    conn = await connect(db_dsn)
    try:
        city = await seed_city(conn, communities=4, pool_lawyers=6, residents=16)
    finally:
        await conn.close()
    hook = Fake()
    async with serve(receiver_app(hook), hook, "/hook"):
        await _run(db_dsn, tmp_path, city, hook)


async def _run(db_dsn: str, tmp_path: Path, city: City, hook: Fake) -> None:
    conn = await connect(db_dsn)
    try:
        await conn.execute(
            "INSERT INTO webhooks (url, events, secret) VALUES ($1, ARRAY['escalated', 'alerted'], 'hook-secret')",
            hook.url,
        )
    finally:
        await conn.close()
    env = {
        "FAZHIZHEN_ESCALATE_AFTER_SECONDS": WINDOW,
        "FAZHIZHEN_POOL_SLA_SECONDS": POOL_SLA,
        "FAZHIZHEN_SWEEP_INTERVAL_SECONDS": 0.05,
        "FAZHIZHEN_OUTBOX_INTERVAL_SECONDS": 0.1,
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

            async def outbox_drained() -> bool:
                return not await conn.fetchval("SELECT count(*) FROM outbox WHERE status = 'pending'")

            assert await wait_for(outbox_drained, 10)
            outbox = await conn.fetch("SELECT event_id, status FROM outbox WHERE channel = 'webhook'")
            missed_escalations = await conn.fetchval(
                "SELECT count(*) FROM questions WHERE status = 'pending' AND escalate_at < now() - interval '0.3 s'"
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
    # every answer was a 201 (a client time-out on a starved machine is not a server error)
    assert len(load.acked) > 20 and set(load.statuses) <= {"201", "TimeoutError"}, load.statuses
    assert missed_escalations == 0 and missed_alerts == 0
    for kind in ("escalated", "alerted", "claimed"):
        events, questions = counts.get(kind, (0, 0))
        assert events > 0, f"no {kind} events: the run did not exercise {kind}"
        assert events == questions, f"{kind}: {events} events for {questions} questions"
    assert all(n == 1 for n in wins.values()), [q for q, n in wins.items() if n > 1]
    assert sum(wins.values()) == counts["claimed"][0] == claimed_rows
    # every escalation and alert reached the webhook exactly once, though two notifiers deliver
    delivered = Counter(r["body"]["event_id"] for r in hook.received)
    assert outbox and all(r["status"] == "sent" for r in outbox)
    assert len(outbox) == counts["escalated"][0] + counts["alerted"][0]
    assert set(delivered) == {r["event_id"] for r in outbox}
    assert max(delivered.values()) == 1, [e for e, n in delivered.items() if n > 1]
    # both schedulers swept, and between them each escalation and alert was logged exactly once
    for event in ("question_escalated", "question_alerted"):
        by_a = log_events(a.log_path, event)
        by_b = log_events(b.log_path, event)
        assert by_a and by_b, f"{event}: one sweeper did all the work ({len(by_a)}, {len(by_b)})"
        assert not set(by_a) & set(by_b)
    sent_by = [log_events(p, "notification_sent") for p in (a.log_path, b.log_path)]
    assert all(sent_by), "one notifier did all the deliveries"
