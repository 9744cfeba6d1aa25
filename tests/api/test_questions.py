"""Routing at submit, claims, answers, follow-ups, adoption and rating through the real API."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tests.factories import Api

SH = ZoneInfo("Asia/Shanghai")


def _window(offset_from: timedelta, offset_to: timedelta) -> dict[str, object]:
    """A roster window relative to the current Shanghai time, on the weekday it starts."""
    now = datetime.now(SH)
    start, end = now + offset_from, now + offset_to
    return {"weekday": start.weekday(), "start": start.strftime("%H:%M"), "end": end.strftime("%H:%M")}


async def test_routes_to_lawyer_on_duty_now_not_to_others(api: Api) -> None:
    city = await api.city()
    on, off, other_day = await api.lawyer(), await api.lawyer(), await api.lawyer()
    await api.duty(city.community_id, on, **_window(timedelta(hours=-1), timedelta(hours=1)))
    await api.duty(city.community_id, off, **_window(timedelta(hours=2), timedelta(hours=3)))
    tomorrow = datetime.now(SH) + timedelta(days=1)
    await api.duty(city.community_id, other_day, weekday=tomorrow.weekday())
    resident = await api.resident()
    for _ in range(3):
        q = await api.ask(resident, city.community_id)
        assert q["assigned_lawyer_id"] == on.id
        assert q["status"] == "pending"


async def test_several_on_duty_fewest_open_questions_wins(api: Api) -> None:
    city = await api.city()
    a, b = await api.lawyer(), await api.lawyer()
    await api.duty(city.community_id, a)
    await api.duty(city.community_id, b)
    resident = await api.resident()
    got = [(await api.ask(resident, city.community_id))["assigned_lawyer_id"] for _ in range(4)]
    assert sorted(got) == sorted([a.id, a.id, b.id, b.id])
    q = await api.ask(resident, city.community_id)  # tie again: the least recently assigned
    assert q["assigned_lawyer_id"] == min(a.id, b.id)


async def test_nobody_on_duty_goes_straight_to_the_pool(api: Api) -> None:
    city = await api.city()
    off, member = await api.lawyer(), await api.lawyer()
    await api.duty(city.community_id, off, **_window(timedelta(hours=2), timedelta(hours=3)))
    pool_id = await api.pool([member])
    q = await api.ask(await api.resident(), city.community_id)
    assert q["status"] == "escalated" and q["assigned_lawyer_id"] is None
    assert q["pool_id"] == pool_id and q["escalation_reason"] == "no_lawyer_on_duty"
    queue = await api.ok("GET", "/lawyer/queue", member)
    assert [x["id"] for x in queue["pool"]] == [q["id"]] and queue["assigned"] == []


async def test_escalate_at_is_created_plus_window(make_api: object) -> None:
    api = await make_api(escalate_after_seconds=42)  # type: ignore[operator]
    city = await api.city()
    lawyer = await api.lawyer()
    await api.duty(city.community_id, lawyer)
    q = await api.ask(await api.resident(), city.community_id)
    delta = datetime.fromisoformat(q["escalate_at"]) - datetime.fromisoformat(q["created_at"])
    assert delta == timedelta(seconds=42)


async def test_twenty_concurrent_claimers_one_winner(api: Api) -> None:
    city = await api.city()
    members = [await api.lawyer() for _ in range(20)]
    await api.pool(members)
    q = await api.ask(await api.resident(), city.community_id)
    results = await asyncio.gather(*(api.call("POST", f"/questions/{q['id']}/claim", m) for m in members))
    codes = [code for code, _ in results]
    assert codes.count(200) == 1 and codes.count(409) == 19
    winner = members[codes.index(200)]
    got = await api.ok("GET", f"/questions/{q['id']}", winner)
    assert got["status"] == "claimed" and got["assigned_lawyer_id"] == winner.id
    assert all(body["error"]["code"] == "conflict" for code, body in results if code == 409)
    # the claim is idempotent for the winner, and only the winner may answer
    assert (await api.call("POST", f"/questions/{q['id']}/claim", winner))[0] == 200
    loser = members[(codes.index(200) + 1) % 20]
    assert (await api.call("POST", f"/questions/{q['id']}/answers", loser, {"content": "我来答"}))[0] == 403
    await api.ok(
        "POST", f"/questions/{q['id']}/answers", winner, {"content": "依法可以主张赔偿。"}, status=201
    )
    got = await api.ok("GET", f"/questions/{q['id']}", winner)
    assert got["status"] == "answered" and got["resolved_level"] == "C"


async def test_claim_needs_membership_and_an_escalated_question(api: Api) -> None:
    city = await api.city()
    lawyer, member, outsider = await api.lawyer(), await api.lawyer(), await api.lawyer()
    await api.pool([member])
    await api.pool([outsider], district_id=(await api.city()).district_id)
    q = await api.ask(await api.resident(), city.community_id)
    assert (await api.call("POST", f"/questions/{q['id']}/claim", outsider))[0] == 403
    assert (await api.call("POST", "/questions/999999/claim", member))[0] == 404
    await api.duty(city.community_id, lawyer)
    pending = await api.ask(await api.resident(), city.community_id)
    code, body = await api.call("POST", f"/questions/{pending['id']}/claim", member)
    assert code == 409, body  # the member's pool serves it, but it is not escalated (wrong status)
    assert (await api.call("POST", f"/questions/{pending['id']}/claim", outsider))[0] == 403


async def test_answers_follow_ups_adoption_rating(api: Api) -> None:
    city = await api.city()
    lawyer = await api.lawyer()
    await api.duty(city.community_id, lawyer)
    resident, stranger = await api.resident(), await api.resident()
    q = await api.ask(resident, city.community_id)
    qid = q["id"]
    # rating and adoption need an answer first
    assert (await api.call("POST", f"/questions/{qid}/rating", resident, {"score": 5}))[0] == 409
    assert (await api.call("POST", f"/questions/{qid}/adopt", resident, {"answer_id": 1}))[0] == 422
    clar = await api.ok(
        "POST",
        f"/questions/{qid}/answers",
        lawyer,
        {"content": "请问对方是否签过书面协议？", "kind": "clarification"},
        status=201,
    )
    first = (await api.ok("GET", f"/questions/{qid}", resident))["first_answered_at"]
    await api.ok(
        "POST", f"/questions/{qid}/messages", resident, {"content": "没有签，只是口头说的"}, status=201
    )
    ans = await api.ok(
        "POST", f"/questions/{qid}/answers", lawyer, {"content": "口头约定同样有效，需举证。"}, status=201
    )
    got = await api.ok("GET", f"/questions/{qid}", resident)
    assert got["first_answered_at"] == first  # later answers do not move the first response
    assert [(m["author_role"], m["kind"]) for m in got["messages"]] == [
        ("lawyer", "clarification"),
        ("resident", "followup"),
        ("lawyer", "answer"),
    ]
    # other residents cannot see or touch it
    assert (await api.call("GET", f"/questions/{qid}", stranger))[0] == 404
    assert (await api.call("POST", f"/questions/{qid}/messages", stranger, {"content": "我也想问"}))[0] == 404
    assert (await api.call("POST", f"/questions/{qid}/adopt", stranger, {"answer_id": ans["id"]}))[0] == 404
    # adopting a resident message is refused; a lawyer answer closes the question
    followup_id = got["messages"][1]["id"]
    code, body = await api.call("POST", f"/questions/{qid}/adopt", resident, {"answer_id": followup_id})
    assert code == 422 and body["error"]["details"][0]["field"] == "answer_id"
    closed = await api.ok("POST", f"/questions/{qid}/adopt", resident, {"answer_id": ans["id"]})
    assert closed["status"] == "closed" and closed["adopted_answer_id"] == ans["id"]
    assert (await api.call("POST", f"/questions/{qid}/adopt", resident, {"answer_id": clar["id"]}))[0] == 409
    assert (await api.call("POST", f"/questions/{qid}/answers", lawyer, {"content": "补充一点"}))[0] == 409
    assert (await api.call("POST", f"/questions/{qid}/messages", resident, {"content": "谢谢律师"}))[0] == 409
    rated = await api.ok("POST", f"/questions/{qid}/rating", resident, {"score": 4})
    assert rated["rating"] == 4
    events = await api.ok("GET", f"/questions/{qid}/events", await api.bureau())
    assert [e["kind"] for e in events] == [
        "created",
        "routed",
        "answered",
        "followup",
        "message",
        "adopted",
        "rated",
    ]


async def test_resident_lists_own_questions_newest_first(api: Api) -> None:
    city = await api.city()
    a, b = await api.resident(), await api.resident()
    ids = [(await api.ask(a, city.community_id))["id"] for _ in range(3)]
    await api.ask(b, city.community_id)
    mine = await api.ok("GET", "/questions", a)
    assert [q["id"] for q in mine] == ids[::-1]
    page = await api.ok("GET", f"/questions?limit=1&before_id={ids[2]}", a)
    assert [q["id"] for q in page] == [ids[1]]


async def test_unclassified_question_gets_a_category(api: Api) -> None:
    city = await api.city()
    q = await api.ask(
        await api.resident(),
        city.community_id,
        "物业费年年涨，电梯坏了半年都不修，能不交物业费吗",
        category=None,
    )
    assert q["category"] == "property" and q["category_name"] == "物业纠纷"


async def test_pool_lists_mask_personal_numbers_but_assignee_sees_them(api: Api) -> None:
    city = await api.city()
    member = await api.lawyer()
    await api.pool([member])
    resident = await api.resident()
    text = "对方电话13812345678，邮箱zhang@example.com，一直不还钱"
    q = await api.ask(resident, city.community_id, text, "debt")
    assert q["content"] == text  # the asker sees it in clear
    pool_view = (await api.ok("GET", "/lawyer/queue", member))["pool"][0]["content"]
    assert "13812345678" not in pool_view and "138****5678" in pool_view and "zhang@" not in pool_view
    await api.ok("POST", f"/questions/{q['id']}/claim", member)
    assert (await api.ok("GET", f"/questions/{q['id']}", member))["content"] == text
