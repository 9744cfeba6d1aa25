"""SQL for the resolution-level split (A community, B district pool, C city pool, D after alert)."""

from __future__ import annotations

from datetime import date
from typing import Any

import asyncpg

from fazhizhen.db.queries import Q

Record = dict[str, Any]
# (from, to, time zone, district_id, street_id, community_id): the filter every level query takes
Scope = tuple[date, date, str, int | None, int | None, int | None]


async def level_breakdown(
    conn: asyncpg.Connection, scope: Scope, by: str, category: str | None
) -> list[Record]:
    return [dict(r) for r in await conn.fetch(Q.level_breakdown, *scope, by, category)]
