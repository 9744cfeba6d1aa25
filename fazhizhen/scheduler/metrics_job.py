"""The rollup job: fold the touch log into the metrics rollups every few seconds."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import asyncpg

from fazhizhen.log import get_logger
from fazhizhen.services import metrics
from fazhizhen.settings import Settings

log = get_logger("fazhizhen.scheduler")

ROLLUP_INTERVAL_SECONDS = 5.0


def rollup_job(pool: asyncpg.Pool, settings: Settings) -> tuple[Callable[[], Awaitable[None]], float]:
    """(job, interval): single-flight across processes by the rollup lock; errors logged, retried next run."""

    async def job() -> None:
        try:
            async with pool.acquire() as conn:
                await metrics.refresh_all(conn, settings)
        except Exception:  # the next run retries the same touches; nothing is lost
            log.exception("metrics_rollup_failed")

    return job, ROLLUP_INTERVAL_SECONDS
