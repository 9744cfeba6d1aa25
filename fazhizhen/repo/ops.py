"""SQL for the operators' gauges (read at each Prometheus scrape)."""

from __future__ import annotations

from typing import Any

import asyncpg

from fazhizhen.db.queries import Q


async def open_questions(conn: asyncpg.Connection) -> dict[str, int]:
    return {r["status"]: r["n"] for r in await conn.fetch(Q.ops_open_questions)}


async def pool_queues(conn: asyncpg.Connection) -> list[dict[str, Any]]:
    return [dict(r) for r in await conn.fetch(Q.ops_pool_queues)]


async def overdue(conn: asyncpg.Connection) -> int:
    return int(await conn.fetchval(Q.ops_overdue))


async def audit_log_purge(conn: asyncpg.Connection, keep_days: int) -> int:
    return int(await conn.fetchval(Q.audit_log_purge, keep_days))
