"""What operators watch: the database-derived gauges behind /metrics."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg

from fazhizhen.log import get_logger
from fazhizhen.repo import ops as repo

log = get_logger("fazhizhen.ops")


async def snapshot(pool: asyncpg.Pool, limit_seconds: float = 2.0) -> dict[str, Any] | None:
    """Open questions by status, each pool's queue and overdue deadlines; None when the database is down."""
    try:
        async with asyncio.timeout(limit_seconds), pool.acquire() as conn:
            return {
                "open": await repo.open_questions(conn),
                "pools": await repo.pool_queues(conn),
                "overdue": await repo.overdue(conn),
            }
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError) as exc:
        log.warning("metrics_database_unavailable", error=type(exc).__name__)
        return None
