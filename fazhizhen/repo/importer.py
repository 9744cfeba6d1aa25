"""SQL for imports: idempotent upserts keyed by the names and usernames bureaus keep in their sheets."""

from __future__ import annotations

from datetime import time
from typing import Any

import asyncpg

from fazhizhen.db.queries import Q


async def upsert_place(conn: asyncpg.Connection, kind: str, parent_id: int | None, name: str) -> tuple[int, bool]:
    """(id, inserted) of a district, street or community found or created by name under its parent."""
    if kind == "district":
        row = await conn.fetchrow(Q.imp_upsert_district, name)
    elif kind == "street":
        row = await conn.fetchrow(Q.imp_upsert_street, parent_id, name)
    else:
        row = await conn.fetchrow(Q.imp_upsert_community, parent_id, name)
    return int(row["id"]), bool(row["inserted"])


async def community_ids(conn: asyncpg.Connection) -> dict[tuple[str, str, str], int]:
    return {(r["district"], r["street"], r["community"]): r["id"] for r in await conn.fetch(Q.imp_community_ids)}


async def district_ids(conn: asyncpg.Connection) -> dict[str, int]:
    return {r["name"]: r["id"] for r in await conn.fetch(Q.imp_district_ids)}


async def accounts(conn: asyncpg.Connection, usernames: list[str]) -> dict[str, dict[str, Any]]:
    return {r["username"]: dict(r) for r in await conn.fetch(Q.imp_accounts, usernames)}


async def update_lawyer(conn: asyncpg.Connection, lawyer_id: int, row: dict[str, Any]) -> bool:
    """Update a lawyer's profile; True when anything changed."""
    changed = await conn.fetchval(
        Q.imp_update_lawyer,
        lawyer_id,
        row["name"],
        row["firm"],
        row["license_no"],
        row["phone"],
        row["specialties"],
    )
    return changed is not None


async def insert_duty(
    conn: asyncpg.Connection,
    community_id: int,
    lawyer_id: int,
    weekday: int | None,
    start: time | None,
    end: time | None,
) -> bool:
    """Add a duty slot unless the same one exists; True when added."""
    return await conn.fetchval(Q.imp_insert_duty, community_id, lawyer_id, weekday, start, end) is not None


async def find_or_insert_pool(conn: asyncpg.Connection, name: str, district_id: int | None) -> tuple[int, bool]:
    found = await conn.fetchval(Q.imp_find_pool, name, district_id)
    if found is not None:
        return int(found), False
    return int(await conn.fetchval(Q.imp_insert_pool, name, district_id)), True


async def add_member(conn: asyncpg.Connection, pool_id: int, lawyer_id: int) -> bool:
    return await conn.fetchval(Q.imp_add_member, pool_id, lawyer_id) is not None
