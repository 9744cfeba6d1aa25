"""Administration rules: references checked before writing, passwords hashed, no password echoed."""

from __future__ import annotations

from typing import Any

import asyncpg

from fazhizhen.errors import Conflict, InvalidInput, NotFound
from fazhizhen.log import get_logger
from fazhizhen.models.requests import CommunityIn, DistrictIn, DutyIn, LawyerIn, PoolIn, StreetIn
from fazhizhen.repo import admin as repo
from fazhizhen.services.passwords import hash_password

log = get_logger("fazhizhen.admin")

Record = dict[str, Any]


async def _require(conn: asyncpg.Connection, kind: str, ident: int, field: str) -> None:
    if not await repo.exists(conn, kind, ident):
        raise InvalidInput.field(field, f"{kind} {ident} does not exist")


async def _unique(coro: Any, message: str, field: str) -> Record:
    try:
        result: Record = await coro
    except asyncpg.UniqueViolationError:
        raise Conflict(message, details=[{"field": field, "message": "already exists"}]) from None
    return result


async def create_district(conn: asyncpg.Connection, body: DistrictIn) -> Record:
    row = await _unique(repo.insert_district(conn, body.name), "区名称已存在", "name")
    log.info("district_created", district_id=row["id"])
    return row


async def list_districts(conn: asyncpg.Connection) -> list[Record]:
    return await repo.list_districts(conn)


async def create_street(conn: asyncpg.Connection, body: StreetIn) -> Record:
    await _require(conn, "district", body.district_id, "district_id")
    row = await _unique(repo.insert_street(conn, body.district_id, body.name), "该区已有同名街道", "name")
    log.info("street_created", street_id=row["id"])
    return row


async def list_streets(conn: asyncpg.Connection) -> list[Record]:
    return await repo.list_streets(conn)


async def create_community(conn: asyncpg.Connection, body: CommunityIn) -> Record:
    await _require(conn, "street", body.street_id, "street_id")
    row = await _unique(repo.insert_community(conn, body.street_id, body.name), "该街道已有同名社区", "name")
    log.info("community_created", community_id=row["id"])
    return row


async def list_communities(conn: asyncpg.Connection) -> list[Record]:
    return await repo.list_communities(conn)


async def create_lawyer(conn: asyncpg.Connection, body: LawyerIn, *, password_hash: str | None = None) -> Record:
    """Create a lawyer's account and profile (`password_hash` lets bulk loaders hash once)."""
    password_hash = password_hash or await hash_password(body.password)
    async with conn.transaction():
        account = await _unique(
            repo.insert_account(conn, "lawyer", body.username, password_hash), "用户名已被占用", "username"
        )
        lawyer = await repo.insert_lawyer(
            conn, account["id"], body.name, body.firm, body.license_no, body.phone, body.specialties
        )
    log.info("lawyer_created", lawyer_id=lawyer["id"])
    return {**lawyer, "username": account["username"]}


async def list_lawyers(conn: asyncpg.Connection) -> list[Record]:
    return await repo.list_lawyers(conn)


def _duty_out(row: Record) -> Record:
    start, end = row.pop("start_time"), row.pop("end_time")
    row["start"] = start.strftime("%H:%M") if start else None
    row["end"] = end.strftime("%H:%M") if end else None
    row["always"] = row["weekday"] is None and start is None
    return row


async def _community(conn: asyncpg.Connection, community_id: int) -> Record:
    community = await repo.get_community(conn, community_id)
    if community is None:
        raise NotFound("社区不存在")
    return community


async def create_duty(conn: asyncpg.Connection, community_id: int, body: DutyIn) -> Record:
    await _community(conn, community_id)
    lawyer = await repo.get_lawyer(conn, body.lawyer_id)
    if lawyer is None:
        raise InvalidInput.field("lawyer_id", f"lawyer {body.lawyer_id} does not exist")
    start, end = body.window()
    row = await repo.insert_duty_slot(conn, community_id, body.lawyer_id, body.weekday, start, end)
    log.info("duty_slot_created", duty_slot_id=row["id"], community_id=community_id, lawyer_id=body.lawyer_id)
    return _duty_out(row)


async def list_duty(conn: asyncpg.Connection, community_id: int) -> list[Record]:
    await _community(conn, community_id)
    return [_duty_out(r) for r in await repo.list_duty_slots(conn, community_id)]


async def delete_duty(conn: asyncpg.Connection, community_id: int, slot_id: int) -> None:
    if not await repo.delete_duty_slot(conn, community_id, slot_id):
        raise NotFound("值班安排不存在")
    log.info("duty_slot_deleted", duty_slot_id=slot_id, community_id=community_id)


async def create_pool(conn: asyncpg.Connection, body: PoolIn) -> Record:
    if body.district_id is not None:
        await _require(conn, "district", body.district_id, "district_id")
    row = await repo.insert_pool(conn, body.name, body.district_id)
    log.info("pool_created", pool_id=row["id"], district_id=body.district_id)
    return {**row, "member_ids": []}


async def list_pools(conn: asyncpg.Connection) -> list[Record]:
    return await repo.list_pools(conn)


async def add_pool_member(conn: asyncpg.Connection, pool_id: int, lawyer_id: int) -> None:
    if not await repo.exists(conn, "pool", pool_id):
        raise NotFound("律师服务团不存在")
    if await repo.get_lawyer(conn, lawyer_id) is None:
        raise InvalidInput.field("lawyer_id", f"lawyer {lawyer_id} does not exist")
    await repo.insert_pool_member(conn, pool_id, lawyer_id)
    log.info("pool_member_added", pool_id=pool_id, lawyer_id=lawyer_id)


async def remove_pool_member(conn: asyncpg.Connection, pool_id: int, lawyer_id: int) -> None:
    if not await repo.delete_pool_member(conn, pool_id, lawyer_id):
        raise NotFound("该律师不在此律师服务团中")
    log.info("pool_member_removed", pool_id=pool_id, lawyer_id=lawyer_id)
