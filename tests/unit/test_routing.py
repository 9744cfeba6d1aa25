"""The pure routing rules: duty windows, picking a lawyer, choosing a pool, levels."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from fazhizhen.services import routing
from fazhizhen.services.routing import Candidate, DutySlot, PoolRef

SH = ZoneInfo("Asia/Shanghai")


def at(local: str) -> datetime:
    """An aware instant from a Shanghai local time string (2026-11-23 is a Monday)."""
    return datetime.fromisoformat(local).replace(tzinfo=SH)


@pytest.mark.parametrize(
    ("slot", "instant", "expected"),
    [
        (DutySlot(1), "2026-11-23 03:00", True),  # always
        (DutySlot(1, weekday=0), "2026-11-23 23:59", True),  # whole Monday
        (DutySlot(1, weekday=0), "2026-11-24 00:00", False),
        (DutySlot(1, 0, time(9), time(17)), "2026-11-23 09:00", True),  # start inclusive
        (DutySlot(1, 0, time(9), time(17)), "2026-11-23 17:00", False),  # end exclusive
        (DutySlot(1, 0, time(9), time(17)), "2026-11-23 08:59", False),
        (DutySlot(1, 0, time(9), time(17)), "2026-11-24 10:00", False),  # Tuesday
        (DutySlot(1, None, time(9), time(17)), "2026-11-29 10:00", True),  # every day
        (DutySlot(1, 0, time(22), time(8)), "2026-11-23 23:00", True),  # overnight, Monday part
        (DutySlot(1, 0, time(22), time(8)), "2026-11-24 03:00", True),  # ...and Tuesday morning
        (DutySlot(1, 0, time(22), time(8)), "2026-11-24 08:00", False),
        (DutySlot(1, 0, time(22), time(8)), "2026-11-23 03:00", False),  # Monday morning is Sunday's
        (DutySlot(1, 6, time(22), time(8)), "2026-11-23 03:00", True),  # Sunday night into Monday
    ],
)
def test_is_on_duty(slot: DutySlot, instant: str, expected: bool) -> None:
    assert routing.is_on_duty(slot, at(instant), SH) is expected


def test_on_duty_reads_utc_instants_in_roster_time_zone() -> None:
    # 01:30 UTC is 09:30 in Shanghai
    slot = DutySlot(7, 0, time(9), time(10))
    assert routing.is_on_duty(slot, datetime(2026, 11, 23, 1, 30, tzinfo=UTC), SH)
    assert not routing.is_on_duty(slot, datetime(2026, 11, 23, 9, 30, tzinfo=UTC), SH)


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError):
        routing.is_on_duty(DutySlot(1), datetime(2026, 11, 23, 9), SH)


def test_on_duty_lists_each_lawyer_once_in_roster_order() -> None:
    slots = [
        DutySlot(3),
        DutySlot(1, 0, time(9), time(17)),
        DutySlot(3, 0, time(9), time(12)),
        DutySlot(2, 1),
    ]
    assert routing.on_duty(slots, at("2026-11-23 10:00"), SH) == [3, 1]


def test_pick_lawyer_prefers_fewest_open_then_lowest_id() -> None:
    assert routing.pick_lawyer([]) is None
    assert routing.pick_lawyer([Candidate(5, 2), Candidate(9, 0), Candidate(2, 1)]) == 9
    assert routing.pick_lawyer([Candidate(5, 1), Candidate(2, 1)]) == 2


def test_pool_for_prefers_own_district_then_city() -> None:
    pools = [PoolRef(4, None), PoolRef(3, 10), PoolRef(2, 10), PoolRef(1, 11)]
    assert routing.pool_for(10, pools) == PoolRef(2, 10)
    assert routing.pool_for(12, pools) == PoolRef(4, None)
    assert routing.pool_for(12, [PoolRef(1, 11)]) is None


def test_deadlines() -> None:
    t0 = at("2026-11-23 10:00")
    assert routing.escalate_at(t0, 900) == t0 + timedelta(minutes=15)
    assert routing.alert_at(t0, 1.5) == t0 + timedelta(seconds=1.5)
    assert routing.is_due(t0, t0) and not routing.is_due(t0, t0 - timedelta(microseconds=1))
    assert not routing.is_due(None, t0)


@pytest.mark.parametrize(
    ("escalated", "alerted", "district", "level"),
    [(False, False, None, "A"), (True, False, 10, "B"), (True, False, None, "C"), (True, True, 10, "D")],
)
def test_resolved_level(escalated: bool, alerted: bool, district: int | None, level: str) -> None:
    got = routing.resolved_level(escalated=escalated, alerted_before_answer=alerted, pool_district_id=district)
    assert got == level


def test_equal_loads_go_to_the_least_recently_assigned() -> None:
    t = at("2026-11-23 10:00")
    cands = [Candidate(1, 0, t), Candidate(2, 0, t - timedelta(minutes=5)), Candidate(3, 1, None)]
    assert routing.pick_lawyer(cands) == 2
    assert routing.pick_lawyer([*cands, Candidate(9, 0, None)]) == 9  # never assigned goes first
