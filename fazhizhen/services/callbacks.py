"""Callbacks (回访): a rating of 1 or 2 opens a task (by trigger); bureau staff assign and close it."""

from __future__ import annotations

from typing import Any

import asyncpg

from fazhizhen.errors import Conflict, InvalidInput, NotFound
from fazhizhen.log import get_logger
from fazhizhen.repo import metrics as repo
from fazhizhen.services import metrics
from fazhizhen.services.auth import Principal
from fazhizhen.services.categories import category_name
from fazhizhen.services.privacy import mask_pii

log = get_logger("fazhizhen.callbacks")

Record = dict[str, Any]
RESULTS = ("resolved", "explained", "referred", "unreachable", "other")


async def list_callbacks(
    conn: asyncpg.Connection, f: metrics.Filters, status: str | None, limit: int = 200
) -> list[Record]:
    """Callbacks of a place, open ones first, oldest first; comments masked."""
    rows = await repo.list_callbacks(conn, status, await metrics.communities_of(conn, f), limit)
    for r in rows:
        r["category_name"] = category_name(r["category"])
        r["rating_comment"] = mask_pii(r["rating_comment"])
        r["outcome"] = mask_pii(r["outcome"])
    return rows


async def _existing(conn: asyncpg.Connection, callback_id: int) -> Record:
    cb = await repo.get_callback(conn, callback_id)
    if cb is None:
        raise NotFound("回访任务不存在")
    return cb


async def assign(
    conn: asyncpg.Connection, callback_id: int, who: Principal, assignee_id: int | None
) -> Record:
    """Give an open callback to a bureau account (the caller by default)."""
    target = assignee_id or who.id
    async with conn.transaction():
        await _existing(conn, callback_id)
        if not await repo.bureau_account_exists(conn, target):
            raise InvalidInput.field("assignee_id", "司法局账号不存在")
        cb = await repo.assign_callback(conn, callback_id, target)
        if cb is None:
            raise Conflict("回访已完成", status="done")
    log.info("callback_assigned", callback_id=callback_id, question_id=cb["question_id"], assignee_id=target)
    return cb


async def complete(
    conn: asyncpg.Connection, callback_id: int, who: Principal, result: str, outcome: str | None
) -> Record:
    """Record the outcome of a callback, which closes it."""
    async with conn.transaction():
        await _existing(conn, callback_id)
        cb = await repo.complete_callback(conn, callback_id, result, outcome, who.id)
        if cb is None:
            raise Conflict("回访已完成", status="done")
    log.info("callback_done", callback_id=callback_id, question_id=cb["question_id"], result=result)
    return cb
