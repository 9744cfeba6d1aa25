"""SQL and COPY for the city-scale demo."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import asyncpg

from fazhizhen.db.queries import Q

QUESTION_COLUMNS = [
    "id", "community_id", "resident_id", "category", "category_source", "content", "status", "assigned_lawyer_id",
    "pool_id", "created_at", "escalate_at", "escalated_at", "escalation_reason", "alert_at", "alerted_at",
    "claimed_at", "first_answered_at", "first_answered_by", "resolved_level", "closed_at", "rating", "rated_at",
    "updated_at", "routed_lawyer_id", "claimed_lawyer_id", "first_substantive_at", "first_reply_kind",
]  # fmt: skip


async def city_loaded(conn: asyncpg.Connection) -> bool:
    return bool(await conn.fetchval(Q.city_loaded))


async def has_places(conn: asyncpg.Connection) -> bool:
    return bool(await conn.fetchval(Q.city_has_places))


async def reserve(conn: asyncpg.Connection, table: str, n: int) -> list[int]:
    """`n` fresh ids from `table`'s sequence."""
    return [r[0] for r in await conn.fetch(Q.city_reserve_ids, table, n)]


async def copy(conn: asyncpg.Connection, table: str, columns: list[str], rows: Sequence[Sequence[Any]]) -> None:
    """Binary COPY of `rows` into `table`."""
    if rows:
        await conn.copy_records_to_table(table, records=rows, columns=columns)


async def copy_json(conn: asyncpg.Connection, table: str, columns: list[str], rows: Sequence[Sequence[Any]]) -> None:
    """COPY rows with jsonb values (Python objects): binary COPY needs the binary jsonb format for a while."""
    await conn.set_type_codec(
        "jsonb",
        encoder=lambda v: b"\x01" + json.dumps(v, ensure_ascii=False).encode(),
        decoder=lambda b: json.loads(b[1:]),
        schema="pg_catalog",
        format="binary",
    )
    try:
        await copy(conn, table, columns, rows)
    finally:
        await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def set_adopted(conn: asyncpg.Connection, pairs: list[tuple[int, int]]) -> None:
    """Point questions at their adopted answers (written after the messages, which point back)."""
    await conn.execute(Q.city_adopted_temp)
    await copy(conn, "city_adopted", ["question_id", "answer_id"], pairs)
    await conn.execute(Q.city_set_adopted)


async def bookkeeping_triggers(conn: asyncpg.Connection, on: bool) -> None:
    """Switch the per-row bookkeeping triggers of questions, messages and events (inside the load's transaction)."""
    await conn.execute(Q.city_triggers_on if on else Q.city_triggers_off)


async def skip_foreign_key_checks(conn: asyncpg.Connection) -> bool:
    """Skip foreign-key checks until the transaction ends, where the role may; whether it did."""
    if not await conn.fetchval(Q.city_is_superuser):
        return False
    await conn.execute(Q.city_skip_foreign_key_checks)
    return True


async def open_callbacks(conn: asyncpg.Connection) -> None:
    """The callbacks low ratings open, written in one statement."""
    await conn.execute(Q.city_callbacks)
