"""The APScheduler runner: the deadline sweep every FAZHIZHEN_SWEEP_INTERVAL_SECONDS."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import asyncpg
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from fazhizhen.log import get_logger
from fazhizhen.observability import SWEEP_FAILURES
from fazhizhen.scheduler.metrics_job import rollup_job
from fazhizhen.scheduler.retention_job import retention_job
from fazhizhen.services.escalation import sweep
from fazhizhen.settings import Settings

log = get_logger("fazhizhen.scheduler")

Job = Callable[[], Awaitable[object]]


class InFlight:
    """The job runs under way, so shutdown can let the current one finish instead of cutting it."""

    def __init__(self) -> None:
        self.tasks: set[asyncio.Task[object]] = set()

    def wrap(self, fn: Job) -> Job:
        """`fn`, registered while it runs."""

        async def tracked() -> object:
            task = asyncio.current_task()
            assert task is not None
            self.tasks.add(task)
            try:
                return await fn()
            finally:
                self.tasks.discard(task)

        return tracked

    async def wait(self, limit_seconds: float) -> bool:
        """Wait for the runs under way (at most `limit_seconds`); True when none is left."""
        if self.tasks:
            await asyncio.wait(set(self.tasks), timeout=limit_seconds)
        return not self.tasks


async def stop_scheduler(scheduler: AsyncIOScheduler, inflight: InFlight, limit_seconds: float) -> None:
    """Start no new run, then let the current ones finish."""
    scheduler.shutdown(wait=False)
    if not await inflight.wait(limit_seconds):
        log.warning("scheduler_jobs_cut", running=len(inflight.tasks))


def build_scheduler(
    pool: asyncpg.Pool,
    settings: Settings,
    extra_jobs: dict[str, tuple[Job, float]] | None = None,
    inflight: InFlight | None = None,
) -> AsyncIOScheduler:
    """A scheduler with the sweep (first run at once, so deadlines missed while down are caught)."""
    scheduler = AsyncIOScheduler(timezone=UTC)

    async def sweep_job() -> None:
        try:
            await sweep(pool, settings)
        except Exception:  # the next run retries; one bad run must not stop the schedule
            SWEEP_FAILURES.inc()
            log.exception("sweep_failed")

    jobs: dict[str, tuple[Job, float]] = {"sweep": (sweep_job, settings.sweep_interval_seconds)}
    jobs["metrics_rollup"] = rollup_job(pool, settings)
    jobs["retention"] = retention_job(pool, settings)
    jobs |= extra_jobs or {}
    for name, (fn, every) in jobs.items():
        scheduler.add_job(
            inflight.wrap(fn) if inflight else fn,
            "interval",
            seconds=every,
            id=name,
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(UTC),
            misfire_grace_time=None,
        )
    return scheduler
