"""SQL for accounts, residents and bearer tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from fazhizhen.db.queries import Q

Record = dict[str, Any]


async def get_account_by_username(conn: asyncpg.Connection, username: str) -> Record | None:
    row = await conn.fetchrow(Q.get_account_by_username, username)
    return dict(row) if row else None


async def upsert_bureau_account(conn: asyncpg.Connection, username: str, password_hash: str) -> Record | None:
    row = await conn.fetchrow(Q.upsert_bureau_account, username, password_hash)
    return dict(row) if row else None


async def update_password_hash(conn: asyncpg.Connection, account_id: int, password_hash: str) -> None:
    await conn.execute(Q.update_password_hash, account_id, password_hash)


async def upsert_resident_by_openid(conn: asyncpg.Connection, openid: str) -> Record:
    return dict(await conn.fetchrow(Q.upsert_resident_by_openid, openid))


async def insert_token(
    conn: asyncpg.Connection,
    token_hash: bytes,
    role: str,
    account_id: int | None,
    resident_id: int | None,
    ttl_seconds: float,
) -> datetime:
    expires: datetime = await conn.fetchval(
        Q.insert_token, token_hash, role, account_id, resident_id, float(ttl_seconds)
    )
    return expires


async def get_token_principals(conn: asyncpg.Connection, token_hashes: list[bytes]) -> dict[bytes, Record]:
    """The valid tokens among `token_hashes`, by hash."""
    return {bytes(r["token_hash"]): dict(r) for r in await conn.fetch(Q.get_token_principals, token_hashes)}


async def revoke_token(conn: asyncpg.Connection, token_hash: bytes) -> None:
    await conn.execute(Q.revoke_token, token_hash)
