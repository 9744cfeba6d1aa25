"""SQL for the resolution-level split (A community, B district pool, C city pool, D after alert)."""

from __future__ import annotations

from typing import Any

import asyncpg

from fazhizhen.db.queries import Q

Record = dict[str, Any]


async def level_places(
    conn: asyncpg.Connection, by: str, district_id: int | None, street_id: int | None, community_id: int | None
) -> list[Record]:
    """The districts, streets or communities a breakdown lists, with their names, in display order."""
    return [dict(r) for r in await conn.fetch(Q.level_places, by, district_id, street_id, community_id)]
