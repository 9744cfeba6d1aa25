"""Resolution levels end to end with compressed windows: each of A, B, C and D produced through the
API and the deadline sweep (run with a later `now` instead of sleeping), then counted by the metrics."""

from __future__ import annotations

from typing import Any

import pytest

from fazhizhen.settings import Settings
from tests.conftest import make_settings
from tests.factories import Api, City, User

WINDOW = 5  # seconds: the community lawyer's window and the pool's, compressed from 15 minutes


@pytest.fixture
def settings(db_dsn: str) -> Settings:
    return make_settings(db_dsn, escalate_after_seconds=WINDOW, pool_sla_seconds=WINDOW)


async def _answer(api: Api, lawyer: User, qid: int) -> dict[str, Any]:
    await api.ok(
        "POST", f"/questions/{qid}/answers", lawyer, {"content": "建议先协商并保留证据。"}, status=201
    )
    return dict(await api.ok("GET", f"/questions/{qid}", lawyer))


async def _claim_answer(api: Api, lawyer: User, qid: int) -> dict[str, Any]:
    await api.ok("POST", f"/questions/{qid}/claim", lawyer)
    return await _answer(api, lawyer, qid)


async def _staffed_city(api: Api, district_id: int | None = None) -> tuple[City, User]:
    city = await api.city(district_id)
    lawyer = await api.lawyer()
    await api.duty(city.community_id, lawyer)
    return city, lawyer


async def test_level_a_community_lawyer_within_window(api: Api) -> None:
    city, lawyer = await _staffed_city(api)
    q = await api.ask(await api.resident(), city.community_id)
    assert q["resolved_level"] is None
    got = await _answer(api, lawyer, q["id"])
    assert got["resolved_level"] == "A"
    # a later sweep and later answers leave the level as it was first set
    await api.sweep_after(WINDOW * 3)
    assert (await _answer(api, lawyer, q["id"]))["resolved_level"] == "A"


async def test_level_b_district_pool_after_window(api: Api) -> None:
    city, community_lawyer = await _staffed_city(api)
    district_lawyer, city_lawyer = await api.lawyer(), await api.lawyer()
    await api.pool([district_lawyer], district_id=city.district_id)
    await api.pool([city_lawyer])
    q = await api.ask(await api.resident(), city.community_id)

    swept = await api.sweep_after(WINDOW + 1)
    assert [r["id"] for r in swept.escalated] == [q["id"]] and not swept.alerted
    # the community lawyer's window is over: they cannot answer it any more
    code, _ = await api.call(
        "POST", f"/questions/{q['id']}/answers", community_lawyer, {"content": "迟到的答复"}
    )
    assert code == 403
    assert (await _claim_answer(api, district_lawyer, q["id"]))["resolved_level"] == "B"


async def test_level_b_straight_to_district_pool_when_nobody_on_duty(api: Api) -> None:
    city = await api.city()
    district_lawyer = await api.lawyer()
    await api.pool([district_lawyer], district_id=city.district_id)
    q = await api.ask(await api.resident(), city.community_id)
    assert q["status"] == "escalated"
    assert (await _claim_answer(api, district_lawyer, q["id"]))["resolved_level"] == "B"


async def test_level_c_city_pool_when_district_has_none(api: Api) -> None:
    city, _ = await _staffed_city(api)
    city_lawyer = await api.lawyer()
    await api.pool([city_lawyer])
    q = await api.ask(await api.resident(), city.community_id)
    await api.sweep_after(WINDOW + 1)
    assert (await _claim_answer(api, city_lawyer, q["id"]))["resolved_level"] == "C"


async def test_level_d_only_after_bureau_alerted(api: Api) -> None:
    city, _ = await _staffed_city(api)
    district_lawyer = await api.lawyer()
    await api.pool([district_lawyer], district_id=city.district_id)
    resident = await api.resident()
    unclaimed = await api.ask(resident, city.community_id)
    claimed_late = await api.ask(resident, city.community_id, "公司拖欠工资三个月怎么办")

    await api.sweep_after(WINDOW + 1)
    await api.ok("POST", f"/questions/{claimed_late['id']}/claim", district_lawyer)
    swept = await api.sweep_after(2 * WINDOW + 2)
    assert sorted(r["id"] for r in swept.alerted) == sorted([unclaimed["id"], claimed_late["id"]])

    assert (await _answer(api, district_lawyer, claimed_late["id"]))["resolved_level"] == "D"
    assert (await _claim_answer(api, district_lawyer, unclaimed["id"]))["resolved_level"] == "D"


async def test_levels_metrics_split_and_breakdown_against_goal(api: Api) -> None:
    """Four questions resolved A, A, B, C in one street and D in another: the split and the A+B share."""
    near, lawyer = await _staffed_city(api)
    far, _ = await _staffed_city(api, near.district_id)
    pool_lawyer, city_lawyer = await api.lawyer(), await api.lawyer()
    await api.pool([pool_lawyer], district_id=near.district_id)
    resident = await api.resident()

    a1 = await api.ask(resident, near.community_id)
    a2 = await api.ask(resident, near.community_id, "物业费涨价合理吗请问")
    await _answer(api, lawyer, a1["id"])
    await _answer(api, lawyer, a2["id"])
    b = await api.ask(resident, near.community_id, "装修噪音扰民怎么维权")
    d = await api.ask(resident, far.community_id, "交通事故对方不赔偿怎么办")
    await api.sweep_after(WINDOW + 1)
    await _claim_answer(api, pool_lawyer, b["id"])
    await api.sweep_after(2 * WINDOW + 2)
    assert (await _claim_answer(api, pool_lawyer, d["id"]))["resolved_level"] == "D"
    # C: a second district without a pool of its own falls back to the city-wide pool
    other, _ = await _staffed_city(api)
    await api.pool([city_lawyer])
    c = await api.ask(resident, other.community_id, "借钱不还怎么起诉")
    await api.sweep_after(WINDOW + 1)
    await _claim_answer(api, city_lawyer, c["id"])
    unanswered = await api.ask(resident, near.community_id, "遗产怎么分配比较合理")
    assert unanswered["resolved_level"] is None

    bureau = await api.bureau()
    split = await api.ok("GET", "/metrics/levels", bureau)
    assert split == [
        {"level": "A", "count": 2, "share": 0.4},
        {"level": "B", "count": 1, "share": 0.2},
        {"level": "C", "count": 1, "share": 0.2},
        {"level": "D", "count": 1, "share": 0.2},
    ]
    only_far = await api.ok("GET", f"/metrics/levels?street_id={far.street_id}", bureau)
    assert [x["count"] for x in only_far] == [0, 0, 0, 1]

    by_street = await api.ok(
        "GET", f"/metrics/levels/breakdown?by=street&district_id={near.district_id}", bureau
    )
    assert by_street["goal_ab_share"] == 0.9
    rows = {r["street_id"]: r for r in by_street["rows"]}
    assert rows[near.street_id]["levels"] == {"A": 2, "B": 1, "C": 0, "D": 0}
    assert rows[near.street_id]["unresolved"] == 1
    assert rows[near.street_id]["ab_share"] == 1.0 and rows[near.street_id]["meets_goal"] is True
    assert rows[far.street_id]["ab_share"] == 0.0 and rows[far.street_id]["meets_goal"] is False
    assert by_street["total"]["ab_share"] == 0.75 and by_street["total"]["meets_goal"] is False

    by_district = await api.ok("GET", "/metrics/levels/breakdown", bureau)
    assert {r["district_id"]: r["levels"]["C"] for r in by_district["rows"]} == {
        near.district_id: 0,
        other.district_id: 1,
    }
    labour_only = await api.ok("GET", "/metrics/levels/breakdown?category=labor", bureau)
    assert labour_only["total"]["questions"] == 0 and by_district["total"]["questions"] == 6
    by_community = await api.ok("GET", "/metrics/levels/breakdown?by=community", bureau)
    assert len(by_community["rows"]) == 3 and all(r["community_name"] for r in by_community["rows"])

    # a range before any question: all zero; a reversed range or unknown `by`: 422; other roles: 403
    empty = await api.ok("GET", "/metrics/levels?from=2020-01-01&to=2020-01-31", bureau)
    assert [x["count"] for x in empty] == [0, 0, 0, 0]
    assert (await api.call("GET", "/metrics/levels?from=2026-02-01&to=2026-01-01", bureau))[0] == 422
    assert (await api.call("GET", "/metrics/levels/breakdown?by=planet", bureau))[0] == 422
    assert (await api.call("GET", "/metrics/levels", lawyer))[0] == 403
