"""The bureau's metrics API end to end: a small city driven through the real API, then its figures."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
from openpyxl import load_workbook

from fazhizhen.keys import DB_POOL
from fazhizhen.services import escalation
from tests.factories import Api, User

ENDPOINTS = ["summary", "levels", "categories", "daily", "lawyers", "places", "histogram"]


async def _now(api: Api) -> Any:
    async with api.client.app[DB_POOL].acquire() as conn:
        return await conn.fetchval("SELECT now()")


async def _answer(api: Api, lawyer: User, qid: int, content: str, kind: str = "answer") -> dict[str, Any]:
    body = {"content": content, "kind": kind}
    result: dict[str, Any] = await api.ok("POST", f"/questions/{qid}/answers", lawyer, body, status=201)
    return result


@pytest.fixture
async def city(api: Api) -> dict[str, Any]:
    """Two districts; in the first, a community lawyer and a district pool; five questions in all states."""
    a = await api.city()
    a2 = await api.city(district_id=a.district_id)
    b = await api.city()
    community_lawyer, pool_lawyer = await api.lawyer("社区"), await api.lawyer("团员")
    other = await api.lawyer()
    await api.duty(a.community_id, community_lawyer)
    await api.duty(b.community_id, other)
    await api.pool([pool_lawyer], district_id=a.district_id)
    resident = await api.resident()

    # 1: answered at once by the community lawyer (A), adopted, rated 5
    q1 = await api.ask(resident, a.community_id, "楼上邻居每天半夜拖椅子怎么办？", "neighbor")
    m1 = await _answer(api, community_lawyer, q1["id"], "建议先协商，保留录音证据，不成可申请调解。")
    await api.ok("POST", f"/questions/{q1['id']}/adopt", resident, {"answer_id": m1["id"]})
    await api.ok("POST", f"/questions/{q1['id']}/rating", resident, {"score": 5})
    # 2: first reply only "收到", then a real answer; rated 1 (opens a callback)
    q2 = await api.ask(resident, a.community_id, "物业不修电梯还要涨物业费，可以拒交吗？", "property")
    await _answer(api, community_lawyer, q2["id"], "收到，请稍等")
    await _answer(api, community_lawyer, q2["id"], "物业应履行维修义务，但不宜直接拒交物业费。")
    low = {"score": 1, "comment": "电话13812345678"}
    await api.ok("POST", f"/questions/{q2['id']}/rating", resident, low)
    # 3: nobody answers in the window: escalated to the district pool, claimed and answered (B)
    q3 = await api.ask(resident, a.community_id, "公司拖欠三个月工资怎么办？", "labor")
    # 4: in the other district, escalated with no pool to take it, still open
    q4 = await api.ask(resident, b.community_id, "离婚时孩子抚养权怎么争取？", "marriage_family")
    # 5: a second community of the first district, no lawyer on duty: straight to the pool, unanswered
    q5 = await api.ask(resident, a2.community_id, "邻居占用楼道堆放杂物怎么办？", "neighbor")

    later = await _now(api) + timedelta(seconds=api.settings.escalate_after_seconds + 1)
    result = await escalation.sweep(api.client.app[DB_POOL], api.settings, now=later)
    assert {r["id"] for r in result.escalated} == {q3["id"], q4["id"]}
    await api.ok("POST", f"/questions/{q3['id']}/claim", pool_lawyer)
    await _answer(api, pool_lawyer, q3["id"], "可向劳动监察大队投诉或申请劳动仲裁，保留工资条。")
    return {
        "a": a,
        "a2": a2,
        "b": b,
        "lawyers": (community_lawyer, pool_lawyer, other),
        "questions": [q1, q2, q3, q4, q5],
    }


async def test_metrics_need_a_bureau_token(api: Api) -> None:
    lawyer = await api.lawyer()
    for name in ENDPOINTS:
        assert (await api.call("GET", f"/metrics/{name}"))[0] == 401
        assert (await api.call("GET", f"/metrics/{name}", lawyer))[0] == 403
    for path in ("/exports/questions.csv", "/bureau/open-escalations", "/callbacks"):
        assert (await api.call("GET", path))[0] == 401
        assert (await api.call("GET", path, lawyer))[0] == 403


INVALID = [
    ("from=2026-13-01", "from"),
    ("to=yesterday", "to"),
    ("to=0", "to"),  # not 1970-01-01: dates are YYYY-MM-DD only
    ("from=1767225600", "from"),
    ("from=2026-1-5", "from"),
    ("from=2026-02-01&to=2026-01-01", "from"),
    ("from=2000-01-01&to=2026-01-01", "to"),
    ("district_id=abc", "district_id"),
    ("district_id=999999", "district_id"),
    ("street_id=0", "street_id"),
    ("community_id=999999", "community_id"),
    ("category=astrology", "category"),
    ("colour=red", "colour"),
]


async def test_invalid_queries_name_the_field(api: Api) -> None:
    for query, field in INVALID:
        status, body = await api.call("GET", f"/metrics/summary?{query}", await api.bureau())
        assert status == 422, body
        assert [d["field"] for d in body["error"]["details"]] == [field], query


async def test_levels_breakdown_takes_the_same_strict_dates(api: Api) -> None:
    bureau = await api.bureau()
    for query, field in [("to=0", "to"), ("from=2026-02-01&to=2026-01-01", "from"), ("from=2026/01/01", "from")]:
        status, body = await api.call("GET", f"/metrics/levels/breakdown?{query}", bureau)
        assert status == 422, body
        assert [d["field"] for d in body["error"]["details"]] == [field], query


async def test_places_must_nest(api: Api) -> None:
    a, b = await api.city(), await api.city()
    query = f"district_id={b.district_id}&community_id={a.community_id}"
    status, body = await api.call("GET", f"/metrics/summary?{query}", await api.bureau())
    assert status == 422 and body["error"]["details"][0]["field"] == "community_id"


async def test_default_range_is_the_last_30_days(api: Api) -> None:
    body = await api.ok("GET", "/metrics/daily", await api.bureau())
    assert len(body) == 30
    assert body[-1]["date"] > body[0]["date"]


async def test_summary_of_a_small_city(api: Api, city: dict[str, Any]) -> None:
    b = await api.bureau()
    s = await api.ok("GET", "/metrics/summary", b)
    assert s["questions"] == 5
    assert s["answered"] == 3
    assert s["response_rate"] == 0.6
    assert s["escalated"] == 3 and s["escalation_rate"] == 0.6  # two by the sweep, one at once
    # by response time: q3 was escalated on a virtual clock but answered seconds after it was asked
    assert s["within_sla"] == 3 and s["within_sla_rate"] == 0.6
    assert s["adopted"] == 1 and s["adoption_rate"] == round(1 / 3, 4)
    assert s["avg_rating"] == 3.0 and s["rated"] == 2 and s["evaluation_rate"] == round(2 / 3, 4)
    assert s["satisfaction_rate"] == 0.5  # q1 (5 and adopted) of q1, q2
    assert s["acknowledgement_first"] == 1 and s["acknowledgement_first_rate"] == round(1 / 3, 4)
    assert s["substantive_answered"] == 3
    assert s["escalations_by_window"] == 2
    assert 1.0 <= s["lateness_max_seconds"] < 5  # swept 1 s after the later question was due
    assert s["percentiles"] == "exact"
    assert s["p50_response_seconds"] is not None and s["p90_response_seconds"] >= s["p50_response_seconds"]
    assert s["open_callbacks"] == 1
    assert s["denominators"]["adoption_rate"] == {"of": "answered", "count": 3}
    contract = {
        "questions", "answered", "response_rate", "avg_response_seconds", "p50_response_seconds",
        "p90_response_seconds", "within_sla_rate", "escalated", "escalation_rate", "adopted",
        "adoption_rate", "avg_rating",
    }  # fmt: skip
    assert contract <= s.keys()

    district = await api.ok("GET", f"/metrics/summary?district_id={city['a'].district_id}", b)
    assert district["questions"] == 4
    community = await api.ok("GET", f"/metrics/summary?community_id={city['b'].community_id}", b)
    assert community["questions"] == 1 and community["answered"] == 0 and community["response_rate"] == 0
    only_labor = await api.ok("GET", "/metrics/summary?category=labor", b)
    assert only_labor["questions"] == 1 and only_labor["answered"] == 1

    levels = await api.ok("GET", "/metrics/levels", b)
    assert [(x["level"], x["count"]) for x in levels] == [("A", 2), ("B", 1), ("C", 0), ("D", 0)]
    assert sum(x["share"] for x in levels) == pytest.approx(1.0, abs=1e-3)

    cats = await api.ok("GET", "/metrics/categories", b)
    assert cats[0] == {"category": "neighbor", "name": "邻里纠纷", "count": 2, "share": 0.4}
    assert [c["count"] for c in cats] == sorted((c["count"] for c in cats), reverse=True)
    assert len(cats) == 11

    daily = await api.ok("GET", "/metrics/daily", b)
    today = daily[-1]
    assert today["questions"] == 5 and today["answered"] == 3 and today["escalated"] == 3
    assert all(d["questions"] == 0 and d["avg_response_seconds"] is None for d in daily[:-1])
    one_day = await api.ok("GET", f"/metrics/daily?from={today['date']}&to={today['date']}", b)
    assert one_day == [today]

    h = await api.ok("GET", "/metrics/histogram", b)
    assert sum(x["count"] for x in h["buckets"]) == 3
    assert h["buckets"][0]["from_seconds"] == 0 and h["buckets"][-1]["to_seconds"] is None


async def test_lawyers_places_escalations(api: Api, city: dict[str, Any]) -> None:
    community_lawyer, pool_lawyer, other = city["lawyers"]
    cards = {c["lawyer_id"]: c for c in await api.ok("GET", "/metrics/lawyers", await api.bureau())}
    c = cards[community_lawyer.id]
    # routed q1, q2, q3; answered q1, q2 in the window; q3 escalated away from them
    assert (c["assigned"], c["answered"]) == (3, 2)
    assert c["response_rate"] == round(2 / 3, 4) and c["completion_rate"] == round(2 / 3, 4)
    assert c["satisfaction_rate"] == 0.5
    assert c["score"] == pytest.approx(10 * 2 / 3 + 40 * 2 / 3 + 50 * 0.5, abs=0.01)
    p = cards[pool_lawyer.id]
    assert (p["assigned"], p["answered"], p["response_rate"], p["completion_rate"]) == (1, 1, 1.0, 1.0)
    assert p["satisfaction_rate"] is None and p["score"] is None  # nothing rated or adopted yet
    o = cards[other.id]
    assert (o["assigned"], o["answered"], o["response_rate"]) == (1, 0, 0.0)
    assert next(iter(cards)) == community_lawyer.id  # scored before unscored

    b = await api.bureau()
    top = await api.ok("GET", "/metrics/places", b)
    assert top["level"] == "district"
    by_id = {x["id"]: x for x in top["items"]}
    assert by_id[city["a"].district_id]["questions"] == 4
    assert by_id[city["b"].district_id]["questions"] == 1
    streets = await api.ok("GET", f"/metrics/places?district_id={city['a'].district_id}", b)
    assert streets["level"] == "street" and sum(x["questions"] for x in streets["items"]) == 4
    communities = await api.ok("GET", f"/metrics/places?street_id={city['a'].street_id}", b)
    assert communities["level"] == "community"
    assert [(x["id"], x["questions"]) for x in communities["items"]] == [(city["a"].community_id, 3)]

    for name in ENDPOINTS:
        fast = await api.ok("GET", f"/metrics/{name}", b)
        exact = await api.ok("GET", f"/metrics/{name}?source=raw", b)
        assert fast == exact, name

    rows = await api.ok("GET", "/bureau/open-escalations", b)
    q4, q5 = city["questions"][3], city["questions"][4]
    assert {r["id"] for r in rows} == {q4["id"], q5["id"]}
    assert all("content" not in r for r in rows)


async def test_ledger_xlsx_holds_the_csv_rows(api: Api, city: dict[str, Any]) -> None:
    """The .xlsx ledger: the CSV's header and every cell (as text), personal numbers masked."""
    headers = (await api.bureau()).headers
    async with api.client.get("/api/v1/exports/questions.csv", headers=headers) as resp:
        csv_rows = list(csv.reader(io.StringIO((await resp.read()).decode("utf-8-sig"))))
    async with api.client.get("/api/v1/exports/questions.xlsx", headers=headers) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("application/vnd.openxmlformats")
        assert resp.headers["Content-Disposition"].startswith('attachment; filename="questions-')
        raw = await resp.read()
    sheet = load_workbook(io.BytesIO(raw), read_only=True)["台账"]
    xlsx_rows = [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    assert len(xlsx_rows) == 6
    assert xlsx_rows == csv_rows
    cells = [c for r in xlsx_rows for c in r]
    assert "电话138****5678" in cells and not any("13812345678" in c for c in cells)


async def test_ledger_csv_and_callbacks(api: Api, city: dict[str, Any]) -> None:
    async with api.client.get("/api/v1/exports/questions.csv", headers=(await api.bureau()).headers) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/csv")
        assert "attachment" in resp.headers["Content-Disposition"]
        raw = await resp.read()
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:3] == ["编号", "提问时间", "区"]
    assert len(rows) == 6
    by_id = {r[0]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    q2 = by_id[str(city["questions"][1]["id"])]
    assert q2["首次回复类型"] == "仅确认收到" and q2["评分"] == "1"
    assert q2["评价内容"] == "电话138****5678"
    assert "13812345678" not in raw.decode("utf-8-sig")

    b = await api.bureau()
    open_ = await api.ok("GET", "/callbacks?status=open", b)
    assert [c["question_id"] for c in open_] == [city["questions"][1]["id"]]
    cb = open_[0]
    assert cb["rating"] == 1 and cb["rating_comment"] == "电话138****5678"
    assigned = await api.ok("POST", f"/callbacks/{cb['id']}/assign", b, {})
    assert assigned["status"] == "assigned" and assigned["assignee_id"] == b.id
    bad = await api.call("POST", f"/callbacks/{cb['id']}/outcome", b, {"result": "maybe"})
    assert bad[0] == 422 and bad[1]["error"]["details"][0]["field"] == "result"
    done = await api.ok(
        "POST", f"/callbacks/{cb['id']}/outcome", b, {"result": "explained", "outcome": "已电话回访并解释"}
    )
    assert done["status"] == "done" and done["result"] == "explained"
    again = await api.call("POST", f"/callbacks/{cb['id']}/outcome", b, {"result": "resolved"})
    assert again[0] == 409
    assert await api.ok("GET", "/callbacks?status=open", b) == []
    assert (await api.ok("GET", "/metrics/summary", b))["open_callbacks"] == 0
