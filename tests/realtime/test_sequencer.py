"""The stream sequencer: commit order, not id order, and exactly once under concurrency."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator

import asyncpg
import pytest

from fazhizhen.db.pool import create_pool
from fazhizhen.realtime.sequencer import Sequencer, sequence_once
from fazhizhen.repo import realtime as repo


@pytest.fixture
async def pool(db_dsn: str) -> AsyncIterator[asyncpg.Pool]:
    p = await create_pool(db_dsn, min_size=1, max_size=12)
    yield p
    await p.close()


async def _question(conn: asyncpg.Connection) -> tuple[int, int]:
    """A minimal question row and a lawyer id to address events to."""
    d = await conn.fetchval("INSERT INTO districts (name) VALUES ('区') RETURNING id")
    s = await conn.fetchval("INSERT INTO streets (district_id, name) VALUES ($1, '街') RETURNING id", d)
    c = await conn.fetchval("INSERT INTO communities (street_id, name) VALUES ($1, '社') RETURNING id", s)
    a = await conn.fetchval(
        "INSERT INTO accounts (role, username, password_hash) VALUES ('lawyer', 'l', 'x') RETURNING id"
    )
    await conn.execute("INSERT INTO lawyers (id, name) VALUES ($1, '律师')", a)
    q = await conn.fetchval(
        "INSERT INTO questions (community_id, category, status, assigned_lawyer_id) "
        "VALUES ($1, 'other', 'pending', $2) RETURNING id",
        c,
        a,
    )
    return q, a


async def _routed(conn: asyncpg.Connection, qid: int, lawyer: int) -> int:
    eid: int = await conn.fetchval(
        "INSERT INTO question_events (question_id, kind, actor_role, data) "
        "VALUES ($1, 'routed', 'system', jsonb_build_object('lawyer_id', $2::bigint)) RETURNING id",
        qid,
        lawyer,
    )
    return eid


async def test_an_older_id_committed_late_is_streamed_after_a_newer_one(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as setup:
        qid, lawyer = await _question(setup)
    a, b = await pool.acquire(), await pool.acquire()
    try:
        tx_a = a.transaction()
        await tx_a.start()
        older = await _routed(a, qid, lawyer)  # id taken now, committed last
        async with b.transaction():
            newer = await _routed(b, qid, lawyer)
        assert older < newer

        await sequence_once(pool)
        async with pool.acquire() as conn:
            first = await repo.stream_after(conn, 0, 100)
            # the pitfall: a reader tailing question_events by id has now passed the older event for ever
            naive = await conn.fetch("SELECT id FROM question_events WHERE id > $1", newer)
        assert [r["data"]["event_id"] for r in first] == [newer]

        await tx_a.commit()
        assert older not in [r["id"] for r in naive]
        await sequence_once(pool)
        async with pool.acquire() as conn:
            second = await repo.stream_after(conn, first[-1]["seq"], 100)
        assert [r["data"]["event_id"] for r in second] == [older]
        assert second[0]["seq"] > first[-1]["seq"]
        assert second[0]["lawyer_ids"] == [lawyer] and second[0]["event"] == "assigned"
    finally:
        await pool.release(a)
        await pool.release(b)


async def test_concurrent_writers_and_sequencers_deliver_each_event_once(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as setup:
        qid, lawyer = await _question(setup)
    rng = random.Random(7)
    written: list[int] = []
    seen: list[int] = []
    done = asyncio.Event()

    async def writer() -> None:
        for _ in range(25):
            async with pool.acquire() as conn, conn.transaction():
                written.append(await _routed(conn, qid, lawyer))
                await asyncio.sleep(rng.random() * 0.004)  # hold the id uncommitted for a while

    async def sequencer() -> None:  # one per "process", racing for the lock
        while not done.is_set():
            await sequence_once(pool, wait=rng.random() < 0.5)
            await asyncio.sleep(0.001)

    async def reader() -> None:
        last = 0
        while True:
            async with pool.acquire() as conn:
                rows = await repo.stream_after(conn, last, 1000)
            for r in rows:
                assert r["seq"] > last
                last = r["seq"]
                seen.append(r["data"]["event_id"])
            if done.is_set() and not rows:
                return
            await asyncio.sleep(0.002)

    sequencers = [asyncio.create_task(sequencer()) for _ in range(3)]
    read = asyncio.create_task(reader())
    await asyncio.gather(*(writer() for _ in range(4)))
    await sequence_once(pool)
    done.set()
    await asyncio.gather(*sequencers)
    await sequence_once(pool)
    await read
    assert sorted(seen) == sorted(written) and len(seen) == 100


async def test_a_kicked_sequencer_tells_its_own_hub_the_new_head_at_once(pool: asyncpg.Pool) -> None:
    heads: list[int] = []
    told = asyncio.Event()

    def published(seq: int) -> None:
        heads.append(seq)
        told.set()

    sequencer = Sequencer(pool, poll_seconds=30, published=published)  # no poll within the test
    sequencer.start()
    try:
        async with pool.acquire() as conn:
            qid, lawyer = await _question(conn)
            await _routed(conn, qid, lawyer)
        sequencer.kick()
        await asyncio.wait_for(told.wait(), 5)
    finally:
        await sequencer.stop()
    async with pool.acquire() as conn:
        assert heads == [await repo.stream_head(conn)] and heads[0] > 0
