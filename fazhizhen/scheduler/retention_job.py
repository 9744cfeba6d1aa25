"""The retention job: once at start and then daily, anonymise old content and delete old audit entries."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import asyncpg

from fazhizhen.log import get_logger
from fazhizhen.services import retention
from fazhizhen.settings import Settings

log = get_logger("fazhizhen.scheduler")

RETENTION_INTERVAL_SECONDS = 24 * 3600.0


def retention_job(pool: asyncpg.Pool, settings: Settings) -> tuple[Callable[[], Awaitable[None]], float]:
    """(job, interval): idempotent, so several processes running it at once do no harm; errors logged."""

    async def job() -> None:
        try:
            async with pool.acquire() as conn:
                await retention.enforce(conn, settings)
        except Exception:  # tomorrow's run catches up
            log.exception("retention_failed")

    return job, RETENTION_INTERVAL_SECONDS
