"""kill -9 the server while residents submit questions: every question that got a 201 is in the
database afterwards, and after a restart each one escalates on time (exactly once)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bench.harness import running_server, seed_city, start_server_proc, wait_ready
from fazhizhen.db.pool import connect
from tests.faults.load import Submitter, wait_for

WINDOW = 2.0
INTERVAL = 0.1


async def test_acknowledged_questions_survive_kill9_and_escalate_after_restart(db_dsn: str, tmp_path: Path) -> None:
    conn = await connect(db_dsn)
    try:
        city = await seed_city(conn, communities=3, pool_lawyers=2, residents=16)
    finally:
        await conn.close()
    env = {"FAZHIZHEN_ESCALATE_AFTER_SECONDS": WINDOW, "FAZHIZHEN_SWEEP_INTERVAL_SECONDS": INTERVAL}
    server = start_server_proc(db_dsn, tmp_path, **env)
    try:
        await wait_ready(server)
        load = Submitter([server.base], city.resident_tokens, city.community_ids)
        stop = asyncio.Event()
        task = asyncio.create_task(load.run(stop))
        assert await wait_for(lambda: _at_least(load.acked, 30), 10)
        server.kill()  # mid-flight: some requests are in the server, some commits in PostgreSQL
        await asyncio.sleep(0.3)
        stop.set()
        await task
    finally:
        server.stop()
    # A 201 the server wrote just before SIGKILL may still be read by the client after kill()
    # returns, so the count of acks is not frozen at the kill; what matters is that every one of
    # them is in the database (below).
    assert load.failed > 0, "the load generator should have seen the server vanish"

    conn = await connect(db_dsn)
    try:
        found = await conn.fetchval("SELECT count(*) FROM questions WHERE id = ANY($1::bigint[])", load.acked)
        assert found == len(load.acked)

        async with running_server(db_dsn, tmp_path, port=server.port, **env):
            restarted = await conn.fetchval("SELECT now()")

            async def all_escalated() -> bool:
                left = await conn.fetchval(
                    "SELECT count(*) FROM questions WHERE id = ANY($1::bigint[]) AND escalated_at IS NULL",
                    load.acked,
                )
                return bool(left == 0)

            assert await wait_for(all_escalated, WINDOW + 10)
        late = await conn.fetch(
            """SELECT id, extract(epoch FROM escalated_at - greatest(escalate_at, $2))::float8 AS late
               FROM questions WHERE id = ANY($1::bigint[])""",
            load.acked,
            restarted,
        )
        events = await conn.fetchval(
            "SELECT count(*) FROM question_events WHERE question_id = ANY($1::bigint[]) AND level = 1",
            load.acked,
        )
    finally:
        await conn.close()
    # due while the server was down: escalated by the first sweep after restart; due later: on time
    assert max(r["late"] for r in late) < 1.5, sorted(r["late"] for r in late)[-5:]
    assert events == len(load.acked)


async def _at_least(items: list[int], n: int) -> bool:
    return len(items) >= n
