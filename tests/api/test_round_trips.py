"""Round-trip budgets of the hot requests: each database round trip costs more CPU than the rest of the
request on a shared machine (docs/BENCHMARKS.md, scenarios 1 and 7), so a new one must be a decision."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import asyncpg
import pytest

from fazhizhen.db import pool as db_pool
from tests.factories import Api


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every statement any pooled connection sends, in order (apps built after this fixture)."""
    sent: list[str] = []
    init = db_pool._init_connection

    async def logged(conn: asyncpg.Connection) -> None:
        await init(conn)
        conn.add_query_logger(lambda q: sent.append(" ".join(q.query.split())))

    monkeypatch.setattr(db_pool, "_init_connection", logged)
    return sent


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
    # the token, the submission read (clock, roster, loads, pools), the one write under the lock
    assert len(statements) == 3, statements
    assert not any(s.startswith(("BEGIN", "COMMIT")) for s in statements), statements

    await api.ok("GET", "/lawyer/queue", on_duty)
    statements.clear()
    queue = await api.ok("GET", "/lawyer/queue", on_duty)
    assert len(queue["assigned"]) == 2
    # the token, the whole queue with threads and staff rows, the audit entry
    assert len(statements) == 3, statements
