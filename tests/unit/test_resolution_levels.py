"""Pure rules of resolution levels: which level a first answer earns, the split, the A+B goal."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from fazhizhen.models.levels import LevelsQuery
from fazhizhen.services.levels import against_goal, date_range, split
from fazhizhen.services.routing import resolved_level


@pytest.mark.parametrize(
    ("escalated", "alerted", "pool_district", "level"),
    [
        (False, False, None, "A"),
        (True, False, 7, "B"),
        (True, False, None, "C"),
        (True, True, 7, "D"),
        (True, True, None, "D"),
    ],
)
def test_resolved_level(escalated: bool, alerted: bool, pool_district: int | None, level: str) -> None:
    got = resolved_level(escalated=escalated, alerted_before_answer=alerted, pool_district_id=pool_district)
    assert got == level


def test_split_shares_of_resolved_only() -> None:
    got = split({"A": 3, "C": 1, None: 4})
    assert got == [
        {"level": "A", "count": 3, "share": 0.75},
        {"level": "B", "count": 0, "share": 0.0},
        {"level": "C", "count": 1, "share": 0.25},
        {"level": "D", "count": 0, "share": 0.0},
    ]
    assert [x["share"] for x in split({})] == [0.0] * 4


def test_goal_is_ninety_percent_at_street_level_or_below() -> None:
    assert against_goal(8, 1, 10) == {"ab_share": 0.9, "meets_goal": True}
    assert against_goal(8, 0, 10) == {"ab_share": 0.8, "meets_goal": False}
    assert against_goal(0, 0, 0) == {"ab_share": None, "meets_goal": False}


def test_date_range_defaults_to_last_30_local_days() -> None:
    tz = ZoneInfo("Asia/Shanghai")
    # 2026-03-01 17:00 UTC is already 2 March in Shanghai
    now = datetime(2026, 3, 1, 17, 0, tzinfo=UTC)
    assert date_range(LevelsQuery(), tz, now) == (date(2026, 2, 1), date(2026, 3, 2))
    q = LevelsQuery.model_validate({"from": "2026-01-10"})
    assert date_range(q, tz, now) == (date(2026, 1, 10), date(2026, 2, 8))
