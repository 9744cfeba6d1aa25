"""Retention: question content after FAZHIZHEN_RETENTION_DAYS, audit entries after FAZHIZHEN_AUDIT_RETENTION_DAYS.

Run daily by the scheduler (and by `fazhizhen purge`). The audit log is append-only in the database; its
purge goes through `audit_log_purge()` (sql/040_allow_audit_log_purge.sql), the one path the trigger lets
delete, and never below 180 days.
"""

from __future__ import annotations

import asyncpg

from fazhizhen.log import get_logger
from fazhizhen.repo import ops as repo
from fazhizhen.services import audit, privacy
from fazhizhen.settings import Settings

log = get_logger("fazhizhen.retention")


async def purge_audit_log(conn: asyncpg.Connection, keep_days: int) -> int:
    """Delete audit entries older than `keep_days` (at least 180) and audit that; returns how many."""
    async with conn.transaction():
        rows = await repo.audit_log_purge(conn, keep_days)
        if rows:
            await audit.record(conn, "audit.purge", details={"rows": rows, "keep_days": keep_days})
    log.info("audit_log_purged", rows=rows, keep_days=keep_days)
    return rows


async def enforce(conn: asyncpg.Connection, settings: Settings, content_days: int | None = None) -> tuple[int, int]:
    """Both retention periods (content: `content_days`, default FAZHIZHEN_RETENTION_DAYS):
    (questions anonymised, audit entries deleted)."""
    questions = await privacy.purge(conn, settings.retention_days if content_days is None else content_days)
    entries = await purge_audit_log(conn, settings.audit_retention_days)
    return questions, entries
