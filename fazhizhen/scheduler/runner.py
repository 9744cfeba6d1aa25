"""The APScheduler runner: the deadline sweep every FAZHIZHEN_SWEEP_INTERVAL_SECONDS."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import asyncpg
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from fazhizhen.log import get_logger
from fazhizhen.scheduler.metrics_job import rollup_job
from fazhizhen.services.escalation import sweep
from fazhizhen.settings import Settings

log = get_logger("fazhizhen.scheduler")

Job = Callable[[], Awaitable[object]]


def build_scheduler(
    pool: asyncpg.Pool, settings: Settings, extra_jobs: dict[str, tuple[Job, float]] | None = None
) -> AsyncIOScheduler:
    """A scheduler with the sweep (first run at once, so deadlines missed while down are caught)."""
    scheduler = AsyncIOScheduler(timezone=UTC)

    async def sweep_job() -> None:
        try:
            await sweep(pool, settings)
        except Exception:  # the next run retries; one bad run must not stop the schedule
            log.exception("sweep_failed")

    jobs: dict[str, tuple[Job, float]] = {"sweep": (sweep_job, settings.sweep_interval_seconds)}
    jobs["metrics_rollup"] = rollup_job(pool, settings)
    jobs |= extra_jobs or {}
    for name, (fn, every) in jobs.items():
        scheduler.add_job(
            fn,
            "interval",
            seconds=every,
            id=name,
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(UTC),
            misfire_grace_time=None,
        )
    return scheduler
