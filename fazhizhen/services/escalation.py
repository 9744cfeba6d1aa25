"""The deadline sweep: level 1 moves due questions to the pool, level 2 alerts the bureau.

Both are set-based statements that lock with SKIP LOCKED, so any number of sweepers in any number of
processes share the work and each question moves at most once per level.

Logs: one `question_escalated` / `question_alerted` line per question, as for every state change.
A batch of more than `LOG_EACH_UP_TO` questions (a backlog after downtime: 100,000 falling due at
once) is logged as one `questions_escalated` / `questions_alerted` line listing its `question_ids`
instead: rendering a line per question cost as much CPU as the statements' own database work and
doubled the catch-up. Each question's full record is its `question_events` row either way.
"""

from __future__ import annotations

import time
from collections.abc import Callable
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
LOG_EACH_UP_TO = 100

Record = dict[str, Any]


@dataclass
class SweepResult:
    """What one sweep did."""

    escalated: list[Record] = field(default_factory=list)
    alerted: list[Record] = field(default_factory=list)
    seconds: float = 0.0


async def sweep(pool: asyncpg.Pool, settings: Settings, now: datetime | None = None, batch: int = BATCH) -> SweepResult:
    """Escalate every due pending question, then alert every escalated one past the pool window.

    `now` defaults to the database clock; tests pass a later instant instead of waiting.
    """
    started = time.perf_counter()
    result = SweepResult()
    async with pool.acquire() as conn:
        while True:
            rows = await repo.escalate_due(conn, now, batch, settings.pool_sla_seconds)
            result.escalated.extend(rows)
            _log_escalated(rows)
            if len(rows) < batch:
                break
        while True:
            rows = await repo.alert_due(conn, now, batch)
            result.alerted.extend(rows)
            _log_alerted(rows)
            if len(rows) < batch:
                break
    result.seconds = time.perf_counter() - started
    obs.sweep_done(result.seconds, len(result.escalated), len(result.alerted))
    if result.escalated or result.alerted:
        log.info(
            "sweep_done",
            escalated=len(result.escalated),
            alerted=len(result.alerted),
            seconds=round(result.seconds, 4),
        )
    return result


def _lateness(r: Record) -> float:
    return float((r["escalated_at"] - r["escalate_at"]).total_seconds())


def _log_escalated(rows: list[Record]) -> None:
    if len(rows) > LOG_EACH_UP_TO:
        late = [_lateness(r) for r in rows]
        _log_batch(log.info, "questions_escalated", rows, lateness_seconds_max=max(late),
                   lateness_seconds_min=min(late))  # fmt: skip
        return
    for r in rows:
        log.info("question_escalated", question_id=r["id"], from_lawyer_id=r["from_lawyer_id"], pool_id=r["pool_id"],
                 lateness_seconds=_lateness(r))  # fmt: skip


def _log_alerted(rows: list[Record]) -> None:
    if len(rows) > LOG_EACH_UP_TO:
        _log_batch(log.warning, "questions_alerted", rows)
        return
    for r in rows:
        log.warning("question_alerted", question_id=r["id"], pool_id=r["pool_id"],
                    assigned_lawyer_id=r["assigned_lawyer_id"])  # fmt: skip


def _log_batch(emit: Callable[..., Any], event: str, rows: list[Record], **extra: Any) -> None:
    """One line for a large batch: every question id, the pools involved, and a summary."""
    emit(event, count=len(rows), question_ids=[r["id"] for r in rows],
         pool_ids=sorted({r["pool_id"] for r in rows if r["pool_id"] is not None}), **extra)  # fmt: skip
