"""SQL for the bureau's figures: rollup upkeep, grouped figures (rollup or raw), ledger, callbacks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import asyncpg

from fazhizhen.db.queries import Q

Record = dict[str, Any]


def _one(row: asyncpg.Record | None) -> Record | None:
    return dict(row) if row is not None else None


async def try_lock(conn: asyncpg.Connection) -> bool:
    """The rollup writers' lock for this transaction, if free."""
    return bool(await conn.fetchval(Q.metrics_try_lock))


async def lock(conn: asyncpg.Connection, timeout_ms: int | None = None) -> bool:
    """The rollup writers' lock for this transaction, waiting for it (at most `timeout_ms`)."""
    if timeout_ms is None:
        await conn.execute(Q.metrics_lock)
        return True
    await conn.execute(Q.metrics_lock_timeout, f"{int(timeout_ms)}ms")
    try:
        await conn.execute(Q.metrics_lock)
    except asyncpg.LockNotAvailableError:
        return False
    return True


async def take_touched(conn: asyncpg.Connection, limit: int, tz: str) -> list[Record]:
    return [dict(r) for r in await conn.fetch(Q.metrics_take_touched, limit, tz)]


async def pending_touches(conn: asyncpg.Connection) -> int:
    return int(await conn.fetchval(Q.metrics_pending_touches))


async def recompute(
    conn: asyncpg.Connection, communities: list[int], days: list[date], tz: str, window: float
) -> None:
    await conn.execute(Q.metrics_recompute, communities, days, tz, float(window))


async def clear_rollups(conn: asyncpg.Connection) -> None:
    await conn.execute(Q.metrics_clear_rollups)


async def question_days(conn: asyncpg.Connection, tz: str) -> Record:
    """The first and last local day holding questions (None, None when there are none)."""
    return dict(await conn.fetchrow(Q.metrics_question_days, tz))


async def rebuild(conn: asyncpg.Connection, date_from: date, date_to: date, tz: str, window: float) -> int:
    n: int = await conn.fetchval(Q.metrics_rebuild, date_from, date_to, tz, float(window))
    return n


async def bounds(conn: asyncpg.Connection) -> Record:
    return dict(await conn.fetchrow(Q.metrics_bounds))


async def today(conn: asyncpg.Connection, tz: str) -> date:
    day: date = await conn.fetchval(Q.metrics_today, tz)
    return day


async def community_place(conn: asyncpg.Connection, community_id: int) -> Record | None:
    return _one(await conn.fetchrow(Q.metrics_community_place, community_id))


async def street_place(conn: asyncpg.Connection, street_id: int) -> Record | None:
    return _one(await conn.fetchrow(Q.metrics_street_place, street_id))


async def district_place(conn: asyncpg.Connection, district_id: int) -> Record | None:
    return _one(await conn.fetchrow(Q.metrics_district_place, district_id))


async def place_children(conn: asyncpg.Connection, scope: int, scope_id: int) -> list[Record]:
    return [dict(r) for r in await conn.fetch(Q.metrics_place_children, scope, scope_id)]


async def scope_communities(conn: asyncpg.Connection, scope: int, ids: list[int]) -> list[int] | None:
    found: list[int] | None = await conn.fetchval(Q.metrics_scope_communities, scope, ids)
    return found


async def grouped(
    conn: asyncpg.Connection,
    *,
    raw: bool,
    scope: int,
    ids: list[int],
    months: list[date],
    days: list[date],
    date_from: date,
    date_to: date,
    tz: str,
    window: float,
    category: str | None,
    group: str,
) -> list[Record]:
    rows = await conn.fetch(
        Q.metrics_grouped,
        raw,
        scope,
        ids,
        months,
        days,
        date_from,
        date_to,
        tz,
        float(window),
        category,
        group,
    )
    return [dict(r) for r in rows]


async def lawyers_grouped(
    conn: asyncpg.Connection,
    *,
    raw: bool,
    scope: int,
    ids: list[int],
    months: list[date],
    days: list[date],
    date_from: date,
    date_to: date,
    tz: str,
    category: str | None,
) -> list[Record]:
    rows = await conn.fetch(
        Q.metrics_lawyers_grouped, raw, scope, ids, months, days, date_from, date_to, tz, category
    )
    return [dict(r) for r in rows]


async def exact_percentiles(
    conn: asyncpg.Connection,
    date_from: date,
    date_to: date,
    tz: str,
    communities: list[int] | None,
    category: str | None,
) -> Record:
    return dict(
        await conn.fetchrow(Q.metrics_exact_percentiles, date_from, date_to, tz, communities, category)
    )


async def open_escalations(
    conn: asyncpg.Connection, communities: list[int] | None, limit: int
) -> list[Record]:
    return [dict(r) for r in await conn.fetch(Q.metrics_open_escalations, communities, limit)]


async def export_questions(
    conn: asyncpg.Connection,
    date_from: date,
    date_to: date,
    tz: str,
    communities: list[int] | None,
    category: str | None,
    prefetch: int = 500,
) -> AsyncIterator[Record]:
    """The ledger rows through a server-side cursor (call inside a transaction): constant memory."""
    cursor = conn.cursor(
        Q.metrics_export_questions, date_from, date_to, tz, communities, category, prefetch=prefetch
    )
    async for row in cursor:
        yield dict(row)


async def list_callbacks(
    conn: asyncpg.Connection, status: str | None, communities: list[int] | None, limit: int
) -> list[Record]:
    return [dict(r) for r in await conn.fetch(Q.callbacks_list, status, communities, limit)]


async def get_callback(conn: asyncpg.Connection, callback_id: int) -> Record | None:
    return _one(await conn.fetchrow(Q.callbacks_get, callback_id))


async def assign_callback(conn: asyncpg.Connection, callback_id: int, assignee_id: int) -> Record | None:
    return _one(await conn.fetchrow(Q.callbacks_assign, callback_id, assignee_id))


async def complete_callback(
    conn: asyncpg.Connection, callback_id: int, result: str, outcome: str | None, actor_id: int
) -> Record | None:
    return _one(await conn.fetchrow(Q.callbacks_complete, callback_id, result, outcome, actor_id))


async def open_callback_count(conn: asyncpg.Connection, communities: list[int] | None) -> int:
    return int(await conn.fetchval(Q.callbacks_open_count, communities))


async def bureau_account_exists(conn: asyncpg.Connection, account_id: int) -> bool:
    return bool(await conn.fetchval(Q.bureau_account_exists, account_id))
