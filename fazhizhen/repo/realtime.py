"""SQL for the live stream: the commit-order sequencer, the hub's reads, replays and reminders."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from fazhizhen.db.queries import Q

Record = dict[str, Any]


async def stream_sequence_pass(conn: asyncpg.Connection, *, wait: bool, batch: int) -> int | None:
    """One sequencer pass in its own transaction (call outside one); the highest new seq, or None."""
    top: int | None = await conn.fetchval(Q.stream_sequence_pass, wait, batch)
    return top


async def stream_head(conn: asyncpg.Connection) -> int:
    return int(await conn.fetchval(Q.stream_head))


async def stream_after(conn: asyncpg.Connection, seq: int, limit: int) -> list[Record]:
    return [dict(r) for r in await conn.fetch(Q.stream_after, seq, limit)]


async def stream_replay(
    conn: asyncpg.Connection, *, lawyer_id: int | None, after: int, upto: int, limit: int
) -> list[Record]:
    """A lawyer's events (or the bureau's, with no lawyer) in (after, upto]."""
    if lawyer_id is None:
        rows = await conn.fetch(Q.stream_replay_bureau, after, upto, limit)
    else:
        rows = await conn.fetch(Q.stream_replay_lawyer, after, upto, lawyer_id, limit)
    return [dict(r) for r in rows]


async def stream_prune(conn: asyncpg.Connection, keep_seconds: float) -> int:
    status: str = await conn.execute(Q.stream_prune, float(keep_seconds))
    return int(status.split()[-1])


async def remind_due(
    conn: asyncpg.Connection, now: datetime | None, before_seconds: float, limit: int
) -> list[Record]:
    return [dict(r) for r in await conn.fetch(Q.remind_due, now, float(before_seconds), limit)]
