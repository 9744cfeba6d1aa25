"""Where questions were resolved: A community lawyer in window, B district pool, C city-wide pool,
D only after the bureau was alerted; and the share resolved at street level or below (A+B) against
the reform's goal of 90%, overall and per district, street or community."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from fazhizhen.models.levels import LevelsBreakdownQuery, LevelsQuery
from fazhizhen.repo import levels as repo
from fazhizhen.settings import Settings

Record = dict[str, Any]
LEVELS = ("A", "B", "C", "D")
GOAL_AB_SHARE = 0.9
DEFAULT_DAYS = 30


def date_range(q: LevelsQuery, tz: ZoneInfo, now: datetime | None = None) -> tuple[date, date]:
    """The inclusive local date range asked for; missing ends default to the last 30 days."""
    end = q.end or (q.start + timedelta(days=DEFAULT_DAYS - 1) if q.start else None)
    end = end or (now or datetime.now(tz)).astimezone(tz).date()
    return q.start or end - timedelta(days=DEFAULT_DAYS - 1), end


def against_goal(a: int, b: int, resolved: int) -> Record:
    """The share of resolved questions resolved at street level or below (A+B; None with none
    resolved) and whether it meets the 90% goal."""
    share = round((a + b) / resolved, 4) if resolved else None
    return {"ab_share": share, "meets_goal": share is not None and share >= GOAL_AB_SHARE}


def split(counts: dict[str | None, int]) -> list[Record]:
    """`[{level, count, share}]` for A-D; shares are of the resolved questions (0 when none)."""
    resolved = sum(counts.get(lv, 0) for lv in LEVELS)
    return [
        {
            "level": lv,
            "count": counts.get(lv, 0),
            "share": round(counts.get(lv, 0) / resolved, 4) if resolved else 0.0,
        }
        for lv in LEVELS
    ]


def _scope(settings: Settings, q: LevelsQuery) -> repo.Scope:
    start, end = date_range(q, ZoneInfo(settings.timezone))
    return start, end, settings.timezone, q.district_id, q.street_id, q.community_id


def _row(r: Record) -> Record:
    a, b, c, d, resolved = r.pop("a"), r.pop("b"), r.pop("c"), r.pop("d"), r["resolved"]
    return {
        **r,
        "unresolved": r["questions"] - resolved,
        "levels": {"A": a, "B": b, "C": c, "D": d},
        **against_goal(a, b, resolved),
    }


async def breakdown(conn: asyncpg.Connection, settings: Settings, q: LevelsBreakdownQuery) -> Record:
    """The split per district, street or community, each with its A+B share against the goal."""
    scope = _scope(settings, q)
    rows = [_row(r) for r in await repo.level_breakdown(conn, scope, q.by, q.category)]
    total = {lv: sum(r["levels"][lv] for r in rows) for lv in LEVELS}
    resolved = sum(total.values())
    return {
        "from": scope[0],
        "to": scope[1],
        "by": q.by,
        "goal_ab_share": GOAL_AB_SHARE,
        "total": {
            "questions": sum(r["questions"] for r in rows),
            "resolved": resolved,
            "levels": total,
            **against_goal(total["A"], total["B"], resolved),
        },
        "rows": rows,
    }
