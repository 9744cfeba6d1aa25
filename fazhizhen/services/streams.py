"""What a stream client missed: the events after its Last-Event-ID, in commit order."""

from __future__ import annotations

from typing import Any

import asyncpg

from fazhizhen.repo import realtime as repo


async def missed_events(
    conn: asyncpg.Connection, *, lawyer_id: int | None, after: int, upto: int, limit: int
) -> list[dict[str, Any]]:
    """One page of a lawyer's (or, with no lawyer, the bureau's) events in (after, upto]."""
    return await repo.stream_replay(conn, lawyer_id=lawyer_id, after=after, upto=upto, limit=limit)
