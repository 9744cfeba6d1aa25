"""SQL for the notification outbox and the bureau's webhooks."""

from __future__ import annotations

from typing import Any

import asyncpg

from fazhizhen.db.queries import Q

Record = dict[str, Any]


async def outbox_claim_one(conn: asyncpg.Connection) -> Record | None:
    row = await conn.fetchrow(Q.outbox_claim_one)
    return dict(row) if row is not None else None


async def outbox_mark_sent(conn: asyncpg.Connection, outbox_id: int) -> None:
    await conn.execute(Q.outbox_mark_sent, outbox_id)


async def outbox_mark_skipped(conn: asyncpg.Connection, outbox_id: int, reason: str) -> None:
    await conn.execute(Q.outbox_mark_skipped, outbox_id, reason)


async def outbox_mark_failed(
    conn: asyncpg.Connection, outbox_id: int, error: str, retry_in: float, max_attempts: int
) -> Record:
    return dict(await conn.fetchrow(Q.outbox_mark_failed, outbox_id, error, float(retry_in), max_attempts))


async def outbox_list(
    conn: asyncpg.Connection, status: str | None, before_id: int | None, limit: int
) -> list[Record]:
    return [dict(r) for r in await conn.fetch(Q.outbox_list, status, before_id, limit)]


async def outbox_counts(conn: asyncpg.Connection) -> list[Record]:
    return [dict(r) for r in await conn.fetch(Q.outbox_counts)]


async def insert_webhook(
    conn: asyncpg.Connection,
    url: str,
    events: list[str],
    secret: str,
    description: str | None,
    created_by: int | None,
) -> Record:
    return dict(await conn.fetchrow(Q.insert_webhook, url, events, secret, description, created_by))


async def list_webhooks(conn: asyncpg.Connection) -> list[Record]:
    return [dict(r) for r in await conn.fetch(Q.list_webhooks)]


async def deactivate_webhook(conn: asyncpg.Connection, webhook_id: int) -> Record | None:
    row = await conn.fetchrow(Q.deactivate_webhook, webhook_id)
    return dict(row) if row is not None else None
