"""SQL for districts, streets, communities, lawyers, rosters and pools."""

from __future__ import annotations

from datetime import time
from typing import Any

import asyncpg

from fazhizhen.db.queries import Q

Record = dict[str, Any]


def _one(row: asyncpg.Record | None) -> Record | None:
    return dict(row) if row is not None else None


async def insert_district(conn: asyncpg.Connection, name: str) -> Record:
    return dict(await conn.fetchrow(Q.insert_district, name))


async def list_districts(conn: asyncpg.Connection) -> list[Record]:
    return [dict(r) for r in await conn.fetch(Q.list_districts)]


async def insert_street(conn: asyncpg.Connection, district_id: int, name: str) -> Record:
    return dict(await conn.fetchrow(Q.insert_street, district_id, name))


async def list_streets(conn: asyncpg.Connection, district_id: int | None = None) -> list[Record]:
    return [dict(r) for r in await conn.fetch(Q.list_streets, district_id)]


async def insert_community(conn: asyncpg.Connection, street_id: int, name: str) -> Record:
    return dict(await conn.fetchrow(Q.insert_community, street_id, name))


async def list_communities(
    conn: asyncpg.Connection, street_id: int | None = None, district_id: int | None = None
) -> list[Record]:
    return [dict(r) for r in await conn.fetch(Q.list_communities, street_id, district_id)]


async def get_community(conn: asyncpg.Connection, community_id: int) -> Record | None:
    return _one(await conn.fetchrow(Q.get_community, community_id))


async def exists(conn: asyncpg.Connection, kind: str, ident: int) -> bool:
    """Whether a district, street or pool with this id exists."""
    query = {"district": Q.exists_district, "street": Q.exists_street, "pool": Q.exists_pool}[kind]
    return bool(await conn.fetchval(query, ident))


async def insert_account(conn: asyncpg.Connection, role: str, username: str, password_hash: str) -> Record:
    return dict(await conn.fetchrow(Q.insert_account, role, username, password_hash))


async def insert_lawyer(
    conn: asyncpg.Connection,
    lawyer_id: int,
    name: str,
    firm: str | None,
    license_no: str | None,
    phone: str | None,
    specialties: list[str],
) -> Record:
    row = await conn.fetchrow(Q.insert_lawyer, lawyer_id, name, firm, license_no, phone, specialties)
    return dict(row)


async def list_lawyers(conn: asyncpg.Connection) -> list[Record]:
    return [dict(r) for r in await conn.fetch(Q.list_lawyers)]


async def get_lawyer(conn: asyncpg.Connection, lawyer_id: int) -> Record | None:
    return _one(await conn.fetchrow(Q.get_lawyer, lawyer_id))


async def insert_duty_slot(
    conn: asyncpg.Connection,
    community_id: int,
    lawyer_id: int,
    weekday: int | None,
    start: time | None,
    end: time | None,
) -> Record:
    return dict(await conn.fetchrow(Q.insert_duty_slot, community_id, lawyer_id, weekday, start, end))


async def list_duty_slots(conn: asyncpg.Connection, community_id: int) -> list[Record]:
    return [dict(r) for r in await conn.fetch(Q.list_duty_slots, community_id)]


async def delete_duty_slot(conn: asyncpg.Connection, community_id: int, slot_id: int) -> bool:
    return await conn.fetchval(Q.delete_duty_slot, slot_id, community_id) is not None


async def insert_pool(conn: asyncpg.Connection, name: str, district_id: int | None) -> Record:
    return dict(await conn.fetchrow(Q.insert_pool, name, district_id))


async def list_pools(conn: asyncpg.Connection) -> list[Record]:
    return [dict(r) for r in await conn.fetch(Q.list_pools)]


async def insert_pool_member(conn: asyncpg.Connection, pool_id: int, lawyer_id: int) -> None:
    await conn.execute(Q.insert_pool_member, pool_id, lawyer_id)


async def delete_pool_member(conn: asyncpg.Connection, pool_id: int, lawyer_id: int) -> bool:
    return await conn.fetchval(Q.delete_pool_member, pool_id, lawyer_id) is not None
