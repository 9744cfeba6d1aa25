"""Notify options: how should a committed question event reach the LISTEN connections?

Five ways, each with 16 writers inserting question events (durable commits, the real schema) for a few
seconds while one LISTEN connection records when each event became known:

  none          inserts only: the ceiling
  in_tx         pg_notify inside the writing transaction (commits that notify serialise on one lock)
  after_commit  the insert commits, then a separate pg_notify statement
  batched       the insert commits, then a per-process notifier sends one NOTIFY per batch (~2 ms)
  tailing       inserts only; the stream sequencer (fazhizhen/realtime/sequencer.py) copies committed
                events into stream_events in commit order and sends one NOTIFY per batch; kicked
                after each commit as the web app does, or (tailing_poll) only by its 50 ms poll, as
                for events written by the sweep or another process

Latency is from the writer's commit returning to the listener knowing the event (for tailing: having
read its stream row, which is what the hub does). python bench/notify_options.py [--quick]
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg

from bench.harness import Bench, pct, quick_or, script_main
from bench.report import fig
from fazhizhen.db.pool import connect, create_pool
from fazhizhen.realtime.sequencer import Sequencer, wait_event
from fazhizhen.repo import realtime as stream_repo

CHANNEL = "bench_notify"
WRITERS = 16
# 'claimed' is a streamed kind with no trigger of another area's on it, so every option pays the same
INSERT = """INSERT INTO question_events (question_id, kind, actor_role, data)
VALUES ($1, 'claimed', 'system', jsonb_build_object('lawyer_id', 1, 'pool_id', 0)) RETURNING id"""
INSERT_NOTIFY = (
    """WITH e AS ("""
    + INSERT
    + """)
SELECT id, pg_notify('"""
    + CHANNEL
    + """', id::text) FROM e"""
)
NOTIFY = f"SELECT pg_notify('{CHANNEL}', $1::text)"


async def _question(dsn: str) -> int:
    conn = await connect(dsn)
    try:
        d = await conn.fetchval("INSERT INTO districts (name) VALUES ('区') RETURNING id")
        s = await conn.fetchval("INSERT INTO streets (district_id, name) VALUES ($1, '街') RETURNING id", d)
        c = await conn.fetchval("INSERT INTO communities (street_id, name) VALUES ($1, '社') RETURNING id", s)
        qid: int = await conn.fetchval(
            "INSERT INTO questions (community_id, category, status) VALUES ($1, 'other', 'escalated') RETURNING id", c
        )
        return qid
    finally:
        await conn.close()


class Batcher:
    """One NOTIFY for everything committed since the last one (what a per-process coalescer would do)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self.pending = 0
        self.wake = asyncio.Event()

    def committed(self, event_id: int) -> None:
        self.pending = max(self.pending, event_id)
        self.wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set() or self.pending:
            await self.wake.wait()
            self.wake.clear()
            await asyncio.sleep(0.002)
            top, self.pending = self.pending, 0
            if top:
                await self.pool.execute(NOTIFY, str(top))


async def measure(dsn: str, option: str, seconds: float) -> dict[str, Any]:
    qid = await _question(dsn)
    pool = await create_pool(dsn, min_size=WRITERS + 2, max_size=WRITERS + 4)
    listen = await connect(dsn)
    committed: dict[int, float] = {}
    known: dict[int, float] = {}
    stop = asyncio.Event()
    seq_after = [await stream_repo.stream_head(listen)]
    got = asyncio.Event()

    def mark(upto: int) -> None:
        now = time.perf_counter()
        for eid in [e for e in committed if e <= upto and e not in known]:
            known[eid] = now

    def on_notify(_c: Any, _pid: int, channel: str, payload: str) -> None:
        if option == "tailing" or option == "tailing_poll":
            got.set()
        elif option == "batched":
            mark(int(payload))
        else:
            known.setdefault(int(payload), time.perf_counter())

    await listen.add_listener("fazhizhen_stream" if option.startswith("tailing") else CHANNEL, on_notify)

    async def reader() -> None:  # the hub: read new stream rows when told
        while not stop.is_set() or len(known) < len(committed):
            try:
                async with asyncio.timeout(0.5):
                    await got.wait()
            except TimeoutError:
                if stop.is_set():
                    return
            got.clear()
            async with pool.acquire() as conn:
                rows = await stream_repo.stream_after(conn, seq_after[0], 100_000)
            now = time.perf_counter()
            for r in rows:
                seq_after[0] = r["seq"]
                known.setdefault(r["data"]["event_id"], now)

    sequencer = Sequencer(pool, 0.05) if option.startswith("tailing") else None
    batcher = Batcher(pool) if option == "batched" else None
    helpers = []
    if sequencer:
        sequencer.start()
        helpers.append(asyncio.create_task(reader()))
    if batcher:
        helpers.append(asyncio.create_task(batcher.run(stop)))

    async def writer() -> None:
        async with pool.acquire() as conn:
            while not stop.is_set():
                if option == "in_tx":
                    eid = (await conn.fetchrow(INSERT_NOTIFY, qid))["id"]
                else:
                    eid = await conn.fetchval(INSERT, qid)
                committed[eid] = time.perf_counter()
                if option == "after_commit":
                    await conn.execute(NOTIFY, str(eid))
                elif batcher:
                    batcher.committed(eid)
                elif sequencer and option == "tailing":
                    sequencer.kick()

    started = time.perf_counter()
    tasks = [asyncio.create_task(writer()) for _ in range(WRITERS)]
    await asyncio.sleep(seconds)
    stop.set()
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - started
    if sequencer:
        sequencer.kick()
    deadline = time.perf_counter() + 10
    while option != "none" and len(known) < len(committed) and time.perf_counter() < deadline:
        await asyncio.sleep(0.01)
        if sequencer:
            sequencer.kick()
            got.set()
    for h in helpers:
        h.cancel()
    await asyncio.gather(*helpers, return_exceptions=True)
    if sequencer:
        await sequencer.stop()
    await listen.close()
    await pool.close()
    lat = [(known[e] - committed[e]) * 1000 for e in committed if e in known]
    return {
        "per_second": len(committed) / elapsed,
        "events": len(committed),
        "lost": 0 if option == "none" else len(committed) - len(known),
        "p50_ms": pct(lat, 50),
        "p99_ms": pct(lat, 99),
        "max_ms": max(lat) if lat else 0.0,
    }


async def push_latency(bench: Bench, streams: int, questions: int, servers: int = 1) -> dict[str, Any]:
    """End to end through real `fazhizhen serve` processes: a resident's POST /questions answered →
    the lawyer's SSE frame received, with `streams` lawyer streams open (spread over `servers`)."""
    import aiohttp

    from bench.harness import running_server, seed_city

    dsn = await bench.fresh_database(f"push_{streams}")
    conn = await connect(dsn)
    try:
        city = await seed_city(conn, communities=streams, residents=questions)
    finally:
        await conn.close()
    lat: list[float] = []
    async with contextlib.AsyncExitStack() as stack:
        procs = [await stack.enter_async_context(running_server(dsn, bench.work_dir / "logs")) for _ in range(servers)]
        # no connection limit: the open streams would otherwise take every connection the POSTs need
        http = await stack.enter_async_context(
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(), connector=aiohttp.TCPConnector(limit=0))
        )
        arrivals: dict[int, float] = {}
        opened = 0
        all_open, arrived = asyncio.Event(), asyncio.Event()

        async def follow(i: int, token: str) -> None:
            nonlocal opened
            url = procs[i % servers].base + "/api/v1/lawyer/stream"
            async with http.get(url, headers={"Authorization": f"Bearer {token}"}) as resp:
                opened += 1
                if opened == streams:
                    all_open.set()
                async for raw in resp.content:
                    line = raw.decode()
                    if line.startswith("data:"):
                        arrivals[json.loads(line[5:])["question_id"]] = time.perf_counter()
                        arrived.set()

        tasks = [asyncio.create_task(follow(i, t)) for i, t in enumerate(city.lawyer_tokens)]
        await asyncio.wait_for(all_open.wait(), 30)
        await asyncio.sleep(0.2)
        for n in range(questions):
            community = city.community_ids[n % streams]
            async with http.post(
                procs[n % servers].base + "/api/v1/questions",
                json={"community_id": community, "content": "邻居装修噪音怎么办？", "category": "neighbor"},
                headers={"Authorization": f"Bearer {city.resident_tokens[n]}"},
            ) as resp:
                body = await resp.json()
                answered = time.perf_counter()
            qid = body["id"]
            end = time.perf_counter() + 5
            while qid not in arrivals and time.perf_counter() < end:
                arrived.clear()
                await wait_event(arrived, 0.5)
            if qid in arrivals:
                lat.append(max(0.0, arrivals[qid] - answered) * 1000)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return {
        "p50_ms": pct(lat, 50),
        "p99_ms": pct(lat, 99),
        "max_ms": max(lat, default=0.0),
        "received": len(lat),
        "questions": questions,
    }


async def run(bench: Bench) -> dict[str, Any]:
    seconds = quick_or(bench, 1.0, 4.0)
    results = {}
    for option in ("none", "in_tx", "after_commit", "batched", "tailing", "tailing_poll"):
        dsn = await bench.fresh_database(f"notify_{option}")
        results[option] = await measure(dsn, option, seconds)
    base = results["none"]["per_second"]
    figures = []
    for option, r in results.items():
        figures.append(fig(f"{option}: durable event inserts", r["per_second"], "/s", anchor="none", anchor_value=base))
        if option != "none":
            figures.append(fig(f"{option}: commit → listener p50", r["p50_ms"], "ms"))
            figures.append(
                fig(f"{option}: commit → listener p99", r["p99_ms"], "ms", target="≤ 1000 ms", met=r["p99_ms"] <= 1000)
            )
            figures.append(fig(f"{option}: events never notified", r["lost"], "", must=True, met=r["lost"] == 0))
    for streams, servers in quick_or(bench, ((10, 1),), ((10, 1), (100, 1), (100, 3))):
        r = await push_latency(bench, streams, quick_or(bench, 20, 200), servers)
        results[f"push_{streams}_{servers}"] = r
        label = f"end to end, {streams} streams on {servers} server(s)"
        figures.append(fig(f"{label}: answer → SSE frame p50", r["p50_ms"], "ms"))
        figures.append(
            fig(f"{label}: answer → SSE frame p99", r["p99_ms"], "ms", target="≤ 1000 ms", met=r["p99_ms"] <= 1000)
        )
        figures.append(
            fig(
                f"{label}: frames missing",
                r["questions"] - r["received"],
                "",
                must=True,
                met=r["received"] == r["questions"],
            )
        )
    return {"title": "Notify options", "figures": figures, "raw": results}


if __name__ == "__main__":
    script_main("notify_options", run)
