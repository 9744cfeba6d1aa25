"""Migrations apply from empty, once each, even with two processes starting together."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from fazhizhen.db.dsn import with_database
from fazhizhen.db.migrate import migrate, migration_files
from fazhizhen.db.pool import connect


@pytest.fixture
async def empty_dsn(server_dsn: str) -> AsyncIterator[str]:
    name = "fzz_empty_" + uuid.uuid4().hex[:8]
    admin = await asyncpg.connect(server_dsn)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    yield with_database(server_dsn, name)
    admin = await asyncpg.connect(server_dsn)
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


async def test_from_empty_then_nothing_left(empty_dsn: str) -> None:
    conn = await connect(empty_dsn)
    try:
        applied = await migrate(conn)
        assert applied == [name for _, name, _ in migration_files()]
        assert await migrate(conn) == []
        assert await conn.fetchval("SELECT count(*) FROM schema_migrations") == len(applied)
    finally:
        await conn.close()


async def test_two_migrators_at_once_apply_each_once(empty_dsn: str) -> None:
    a, b = await connect(empty_dsn), await connect(empty_dsn)
    try:
        first, second = await asyncio.gather(migrate(a), migrate(b))
        assert sorted(first + second) == sorted(name for _, name, _ in migration_files())
        assert not (set(first) & set(second))
    finally:
        await a.close()
        await b.close()
