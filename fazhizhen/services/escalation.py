"""The deadline sweep: level 1 moves due questions to the pool, level 2 alerts the bureau.

Both are set-based statements that lock with SKIP LOCKED, so any number of sweepers in any number of
processes share the work and each question moves at most once per level.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg

from fazhizhen import observability as obs
from fazhizhen.log import get_logger
from fazhizhen.repo import questions as repo
from fazhizhen.settings import Settings

log = get_logger("fazhizhen.escalation")

BATCH = 5000


@dataclass
class SweepResult:
    """What one sweep did."""

    escalated: list[dict[str, Any]] = field(default_factory=list)
    alerted: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0


async def sweep(
    pool: asyncpg.Pool, settings: Settings, now: datetime | None = None, batch: int = BATCH
) -> SweepResult:
    """Escalate every due pending question, then alert every escalated one past the pool window.

    `now` defaults to the database clock; tests pass a later instant instead of waiting.
    """
    started = time.perf_counter()
    result = SweepResult()
    async with pool.acquire() as conn:
        while True:
            rows = await repo.escalate_due(conn, now, batch, settings.pool_sla_seconds)
            result.escalated.extend(rows)
            if len(rows) < batch:
                break
        while True:
            rows = await repo.alert_due(conn, now, batch)
            result.alerted.extend(rows)
            if len(rows) < batch:
                break
    result.seconds = time.perf_counter() - started
    obs.sweep_done(result.seconds, len(result.escalated), len(result.alerted))
    for r in result.escalated:
        log.info(
            "question_escalated",
            question_id=r["id"],
            from_lawyer_id=r["from_lawyer_id"],
            pool_id=r["pool_id"],
            lateness_seconds=(r["escalated_at"] - r["escalate_at"]).total_seconds(),
        )
    for r in result.alerted:
        log.warning(
            "question_alerted",
            question_id=r["id"],
            pool_id=r["pool_id"],
            assigned_lawyer_id=r["assigned_lawyer_id"],
        )
    if result.escalated or result.alerted:
        log.info(
            "sweep_done",
            escalated=len(result.escalated),
            alerted=len(result.alerted),
            seconds=round(result.seconds, 4),
        )
    return result
