"""The audit log: who did what, when, from where; append-only (the database refuses changes)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import asyncpg
import structlog

from fazhizhen.log import get_logger
from fazhizhen.repo import security as repo

if TYPE_CHECKING:
    from fazhizhen.services.auth import Principal

log = get_logger("fazhizhen.audit")

Record = dict[str, Any]


async def record(
    conn: asyncpg.Connection,
    action: str,
    *,
    actor: Principal | None = None,
    actor_role: str | None = None,
    actor_id: int | None = None,
    target_type: str | None = None,
    target_id: int | None = None,
    success: bool = True,
    client_addr: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Append one audit entry; the request id bound to the log context is kept with it."""
    request_id = structlog.contextvars.get_contextvars().get("request_id")
    await repo.insert_audit(
        conn,
        actor_role=actor.role if actor else actor_role,
        actor_id=actor.id if actor else actor_id,
        action=action,
        target_type=target_type,
        target_id=target_id,
        success=success,
        client_addr=client_addr,
        request_id=request_id if isinstance(request_id, str) else None,
        details=details or {},
    )


async def page(conn: asyncpg.Connection, filters: dict[str, Any], limit: int) -> dict[str, Any]:
    """One page of the log, newest first, with the cursor of the next page."""
    rows = await repo.list_audit(conn, filters, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": rows, "next_before_id": rows[-1]["id"] if more and rows else None}
