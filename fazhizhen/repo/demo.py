"""SQL for the demo loader: backdated rows with explicit timestamps (never used by the live service)."""

from __future__ import annotations

from typing import Any

import asyncpg

from fazhizhen.db.queries import Q


async def loaded(conn: asyncpg.Connection, marker_district: str) -> bool:
    return bool(await conn.fetchval(Q.demo_loaded, marker_district))


async def insert_question(conn: asyncpg.Connection, *values: Any) -> int:
    qid: int = await conn.fetchval(Q.demo_insert_question, *values)
    return qid


async def insert_event(conn: asyncpg.Connection, *values: Any) -> None:
    await conn.execute(Q.demo_insert_event, *values)


async def insert_message(conn: asyncpg.Connection, *values: Any) -> int:
    mid: int = await conn.fetchval(Q.demo_insert_message, *values)
    return mid


async def set_adopted(conn: asyncpg.Connection, question_id: int, message_id: int) -> None:
    await conn.execute(Q.demo_set_adopted, question_id, message_id)


async def insert_rating(conn: asyncpg.Connection, *values: Any) -> None:
    await conn.execute(Q.demo_insert_rating, *values)
