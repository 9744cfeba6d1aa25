"""Where questions were resolved: A community lawyer in window, B district pool, C city-wide pool,
D only after the bureau was alerted; and the share resolved at street level or below (A+B) against
the reform's goal of 90%, overall and per district, street or community."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fazhizhen.models.levels import LevelsQuery

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


def place_row(place: Record, counts: Record | None) -> Record:
    """One breakdown row: the place's ids and names, its split and its A+B share against the goal."""
    c = counts or {}
    a, b, cc, d = (int(c.get(f"level_{lv.lower()}") or 0) for lv in ("a", "b", "c", "d"))
    resolved = a + b + cc + d
    questions = int(c.get("questions") or 0)
    return {
        **place,
        "questions": questions,
        "resolved": resolved,
        "unresolved": questions - resolved,
        "levels": {"A": a, "B": b, "C": cc, "D": d},
        **against_goal(a, b, resolved),
    }


def breakdown_result(start: date, end: date, by: str, rows: list[Record]) -> Record:
    """The breakdown's answer: the rows and their total against the goal."""
    total = {lv: sum(r["levels"][lv] for r in rows) for lv in LEVELS}
    resolved = sum(total.values())
    return {
        "from": start,
        "to": end,
        "by": by,
        "goal_ab_share": GOAL_AB_SHARE,
        "total": {
            "questions": sum(r["questions"] for r in rows),
            "resolved": resolved,
            "levels": total,
            **against_goal(total["A"], total["B"], resolved),
        },
        "rows": rows,
    }
