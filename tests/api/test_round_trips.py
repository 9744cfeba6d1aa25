"""Round-trip budgets of the hot requests: each database round trip costs more CPU than the rest of the
request on a shared machine (docs/BENCHMARKS.md, scenarios 1 and 7), so a new one must be a decision."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import asyncpg

from tests.factories import Api


async def test_submit_and_queue_read_round_trips(
    statements: list[str], make_api: Callable[..., Awaitable[Api]]
) -> None:
    api = await make_api(realtime_enabled=False)
    city = await api.city()
    on_duty, member = await api.lawyer(), await api.lawyer()
    await api.duty(city.community_id, on_duty)
    await api.pool([on_duty, member], city.district_id)
    resident = await api.resident()
    await api.ask(resident, city.community_id)  # first use: type introspection, plan caching

    statements.clear()
    await api.ask(resident, city.community_id)
    # the submission read (token, clock, roster, loads, pools), the one write under the lock
    assert len(statements) == 2, statements
    assert not any(s.startswith(("BEGIN", "COMMIT")) for s in statements), statements

    await api.ok("GET", "/lawyer/queue", on_duty)
    statements.clear()
    queue = await api.ok("GET", "/lawyer/queue", on_duty)
    assert len(queue["assigned"]) == 2
    # the token, the whole queue with threads and staff rows, the audit entry
    assert len(statements) == 3, statements


async def test_queue_read_survives_a_changed_row_type(make_api: Callable[..., Awaitable[Api]], db_dsn: str) -> None:
    """The queue returns typed rows of messages and notes: a migration that changes one (while this
    process runs) costs a reload of asyncpg's type cache, not a failed poll."""
    api = await make_api(realtime_enabled=False, db_pool_min=1, db_pool_max=1)
    city = await api.city()
    lawyer = await api.lawyer()
    await api.duty(city.community_id, lawyer)
    resident = await api.resident()
    q = await api.ask(resident, city.community_id)
    await api.ok("POST", f"/questions/{q['id']}/messages", resident, {"content": "补充：已经找过物业了。"}, status=201)
    before = await api.ok("GET", "/lawyer/queue", lawyer)
    assert [len(x["messages"]) for x in before["assigned"]] == [1]
    conn = await asyncpg.connect(db_dsn)
    try:
        await conn.execute("ALTER TABLE messages ADD COLUMN later_column integer")
    finally:
        await conn.close()
    assert await api.ok("GET", "/lawyer/queue", lawyer) == before
