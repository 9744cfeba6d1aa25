"""Audit log retention: the daily job deletes entries past FAZHIZHEN_AUDIT_RETENTION_DAYS through the one
path the append-only trigger allows; every other change, and any purge under 180 days, is refused."""

from __future__ import annotations

import asyncpg
import pytest

from fazhizhen.db.pool import create_pool
from fazhizhen.scheduler.retention_job import retention_job
from fazhizhen.scheduler.runner import build_scheduler
from fazhizhen.services import retention
from tests.conftest import make_settings

OLD, RECENT = "test.old", "test.recent"


async def _entries(conn: asyncpg.Connection) -> dict[str, int]:
    rows = await conn.fetch(
        "SELECT action, count(*) AS n FROM audit_log WHERE action IN ($1, $2, 'audit.purge') GROUP BY action",
        OLD,
        RECENT,
    )
    return {r["action"]: r["n"] for r in rows}


async def _seed(conn: asyncpg.Connection) -> None:
    await conn.execute(
        "INSERT INTO audit_log (at, action) "
        "VALUES (now() - interval '200 days', $1), (now() - interval '170 days', $2)",
        OLD,
        RECENT,
    )


async def _refused(conn: asyncpg.Connection, sql: str, *args: object) -> None:
    with pytest.raises(asyncpg.PostgresError, match=r"append-only|at least 180 days"):
        async with conn.transaction():
            await conn.execute(sql, *args)


async def test_only_the_retention_purge_deletes_and_only_what_is_past_retention(conn: asyncpg.Connection) -> None:
    await _seed(conn)
    await _refused(conn, "DELETE FROM audit_log WHERE action = $1", OLD)
    await _refused(conn, "UPDATE audit_log SET details = '{}' WHERE action = $1", OLD)
    await _refused(conn, "TRUNCATE audit_log")
    await _refused(conn, "SELECT audit_log_purge(179)")
    # setting the purge's cutoff by hand reaches nothing younger than 180 days
    await _refused(
        conn,
        "SELECT set_config('fazhizhen.audit_purge_before', (now() + interval '1 day')::text, true); "
        "DELETE FROM audit_log WHERE action = 'test.recent'",
    )
    assert await _entries(conn) == {OLD: 1, RECENT: 1}

    assert await retention.purge_audit_log(conn, 180) == 1
    assert await _entries(conn) == {RECENT: 1, "audit.purge": 1}  # the purge itself is audited
    await _refused(conn, "DELETE FROM audit_log WHERE action = $1", RECENT)  # the cutoff did not outlive it


async def test_the_scheduler_runs_the_retention_job(db_dsn: str) -> None:
    settings = make_settings(db_dsn, audit_retention_days=190)
    pool = await create_pool(db_dsn, min_size=1, max_size=2)
    try:
        assert "retention" in {job.id for job in build_scheduler(pool, settings).get_jobs()}
        async with pool.acquire() as conn:
            await _seed(conn)
        job, every = retention_job(pool, settings)
        assert every == 24 * 3600
        await job()
        async with pool.acquire() as conn:
            assert await _entries(conn) == {RECENT: 1, "audit.purge": 1}
    finally:
        await pool.close()
