"""Reminders to the assignee `FAZHIZHEN_REMIND_BEFORE_SECONDS` before a deadline, once per deadline.

Each reminder is a 'reminded' question event (unique per question and deadline), so any number of
processes may run the job and the stream delivers it like every other event.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from fazhizhen.log import get_logger
from fazhizhen.repo import realtime as repo
from fazhizhen.settings import Settings

log = get_logger("fazhizhen.reminders")

BATCH = 5000


async def remind(
    pool: asyncpg.Pool, settings: Settings, now: datetime | None = None, batch: int = BATCH
) -> list[dict[str, Any]]:
    """Record a reminder for every open question whose deadline is near; return those recorded."""
    if settings.remind_before_seconds <= 0:
        return []
    out: list[dict[str, Any]] = []
    async with pool.acquire() as conn:
        while True:
            rows = await repo.remind_due(conn, now, settings.remind_before_seconds, batch)
            out.extend(rows)
            if len(rows) < batch:
                break
    for r in out:
        log.info(
            "question_reminded",
            question_id=r["question_id"],
            lawyer_id=r["data"]["lawyer_id"],
            due_at=r["data"]["due_at"],
        )
    return out
