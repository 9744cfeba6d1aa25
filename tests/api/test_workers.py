"""Community workers: confined to their communities, asking for offline residents, internal notes and
referrals that lawyers and the bureau see and the resident never does."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from fazhizhen.keys import DB_POOL
from fazhizhen.services import privacy
from tests.factories import PASSWORD, Api

NOTE_MARK = "内部备注-仅工作人员可见-7731"
REFERRAL_MARK = "转介说明-仅工作人员可见-4419"


async def test_bureau_creates_worker_bound_to_communities(api: Api) -> None:
    a, b = await api.city(), await api.city()
    bureau = await api.bureau()
    body = {
        "name": "王社工",
        "username": "wang-sg",
        "password": PASSWORD,
        "community_ids": [b.community_id, a.community_id],
    }
    created = await api.ok("POST", "/admin/workers", bureau, body, status=201)
    assert created["community_ids"] == sorted([a.community_id, b.community_id])
    assert "password" not in created and "password_hash" not in created
    login = await api.ok("POST", "/auth/login", json={"username": "wang-sg", "password": PASSWORD})
    assert login["role"] == "worker" and login["user_id"] == created["id"]

    assert (await api.call("POST", "/admin/workers", bureau, body))[0] == 409
    bad = {**body, "username": "other-sg", "community_ids": [10**9]}
    code, err = await api.call("POST", "/admin/workers", bureau, bad)
    assert code == 422 and err["error"]["details"][0]["field"] == "community_ids"
    assert (await api.call("POST", "/admin/workers", bureau, {**body, "community_ids": []}))[0] == 422
    lawyer = await api.lawyer()
    assert (await api.call("POST", "/admin/workers", lawyer, {**body, "username": "x-sg"}))[0] == 403
    listed = await api.ok("GET", "/admin/workers", bureau)
    assert [w["id"] for w in listed] == [created["id"]]
    worker_headers = {"Authorization": f"Bearer {login['token']}"}
    async with api.client.get("/api/v1/worker/me", headers=worker_headers) as resp:
        me = await resp.json()
    assert me["name"] == "王社工"
    assert [c["id"] for c in me["communities"]] == sorted([a.community_id, b.community_id])


async def test_worker_confined_to_own_communities(api: Api) -> None:
    mine, other = await api.city(), await api.city()
    worker = await api.worker([mine.community_id])
    resident = await api.resident()
    q_mine = await api.ask(resident, mine.community_id)
    q_other = await api.ask(resident, other.community_id)

    listed = await api.ok("GET", "/worker/questions", worker)
    assert [q["id"] for q in listed] == [q_mine["id"]]
    assert (await api.call("GET", f"/questions/{q_other['id']}", worker))[0] == 404
    assert (await api.call("GET", f"/worker/questions/{q_other['id']}/print", worker))[0] == 404
    assert (await api.call("POST", f"/questions/{q_other['id']}/notes", worker, {"content": "看看"}))[0] == 404
    code, _ = await api.call("POST", f"/questions/{q_other['id']}/referrals", worker, {"to": "mediation"})
    assert code == 404
    ask_other = {"community_id": other.community_id, "content": "老人想咨询赡养费的问题"}
    assert (await api.call("POST", "/worker/questions", worker, ask_other))[0] == 403
    # residents' own endpoints stay closed to workers
    assert (await api.call("GET", "/questions", worker))[0] == 403
    assert (await api.call("GET", "/lawyer/queue", worker))[0] == 403
    assert (await api.call("POST", f"/questions/{q_mine['id']}/answers", worker, {"content": "答复"}))[0] == 403

    # the bureau rebinds the worker: the other community's questions come into view, its own go
    bureau = await api.bureau()
    path = f"/admin/workers/{worker.id}/communities"
    await api.ok("PUT", path, bureau, {"community_ids": [other.community_id]})
    listed = await api.ok("GET", "/worker/questions", worker)
    assert [q["id"] for q in listed] == [q_other["id"]]
    assert (await api.call("GET", f"/questions/{q_mine['id']}", worker))[0] == 404


async def test_worker_sees_masked_numbers_newest_first(api: Api) -> None:
    city = await api.city()
    worker = await api.worker([city.community_id])
    resident = await api.resident()
    first = await api.ask(resident, city.community_id, "房东不退押金，我电话13812345678，怎么办")
    second = await api.ask(resident, city.community_id, "邻居装修太吵了怎么办呢")
    listed = await api.ok("GET", "/worker/questions", worker)
    assert [q["id"] for q in listed] == [second["id"], first["id"]]
    assert "13812345678" not in listed[1]["content"] and "138****5678" in listed[1]["content"]
    one = await api.ok("GET", f"/questions/{first['id']}", worker)
    assert "13812345678" not in one["content"]
    paged = await api.ok("GET", f"/worker/questions?before_id={second['id']}&limit=5", worker)
    assert [q["id"] for q in paged] == [first["id"]]


async def test_worker_asks_for_offline_resident(api: Api) -> None:
    city = await api.city()
    lawyer = await api.lawyer()
    await api.duty(city.community_id, lawyer)
    worker = await api.worker([city.community_id])
    colleague = await api.worker([city.community_id])
    body = {
        "community_id": city.community_id,
        "content": "张大爷的儿子不付赡养费，大爷电话13900001111，怎么办",
        "resident_name": "张建国",
        "resident_phone": "13900001111",
    }
    q = await api.ok("POST", "/worker/questions", worker, body, status=201)
    assert q["status"] == "pending" and q["assigned_lawyer_id"] == lawyer.id
    assert q["category"] == "marriage_family"  # classified like a resident's question
    assert q["asked_by_worker_id"] == worker.id
    # the worker who entered it sees the numbers, to call the resident back
    assert q["offline_resident"] == {"name": "张建国", "phone": "13900001111"}
    assert "13900001111" in q["content"]
    # so does the assigned lawyer
    as_lawyer = await api.ok("GET", f"/questions/{q['id']}", lawyer)
    assert as_lawyer["offline_resident"] == {"name": "张建国", "phone": "13900001111"}
    # another worker of the community and the bureau get them masked
    for other in (colleague, await api.bureau()):
        seen = await api.ok("GET", f"/questions/{q['id']}", other)
        assert seen["offline_resident"] == {"name": "张**", "phone": "139****1111"}
        assert "13900001111" not in str(seen)

    code, err = await api.call("POST", "/worker/questions", worker, {**body, "resident_phone": "call me"})
    assert code == 422 and err["error"]["details"][0]["field"] == "resident_phone"
    # name and phone are optional
    bare = {"community_id": city.community_id, "content": "帮一位老人问问遗嘱怎么写"}
    assert (await api.ok("POST", "/worker/questions", worker, bare, status=201))["offline_resident"] == {
        "name": None,
        "phone": None,
    }


async def test_worker_question_escalates_and_prints_answer(api: Api) -> None:
    city = await api.city()
    community_lawyer, pool_lawyer = await api.lawyer(), await api.lawyer()
    await api.duty(city.community_id, community_lawyer)
    await api.pool([pool_lawyer], district_id=city.district_id)
    worker = await api.worker([city.community_id])
    body = {
        "community_id": city.community_id,
        "content": "李阿姨被物业收了不合理的停车费",
        "resident_name": "李秀英",
    }
    q = await api.ok("POST", "/worker/questions", worker, body, status=201)

    await api.sweep_after(api.settings.escalate_after_seconds + 1)
    seen = await api.ok("GET", f"/questions/{q['id']}", worker)
    assert seen["status"] == "escalated" and seen["escalation_reason"] == "window_passed"
    queue = await api.ok("GET", "/lawyer/queue", pool_lawyer)
    assert [x["id"] for x in queue["pool"]] == [q["id"]]
    await api.ok("POST", f"/questions/{q['id']}/claim", pool_lawyer)
    await api.ok(
        "POST",
        f"/questions/{q['id']}/answers",
        pool_lawyer,
        {"content": "可要求物业公示收费依据<b>"},
        status=201,
    )

    seen = await api.ok("GET", f"/questions/{q['id']}", worker)
    assert seen["status"] == "answered" and seen["resolved_level"] == "B"
    await api.ok("POST", f"/questions/{q['id']}/notes", worker, {"content": NOTE_MARK}, status=201)

    async with api.client.get(f"/api/v1/worker/questions/{q['id']}/print", headers=worker.headers) as resp:
        assert resp.status == 200 and resp.content_type == "text/html"
        html = await resp.text()
    assert "李秀英" in html and "可要求物业公示收费依据&lt;b&gt;" in html and "<b>" not in html
    assert "律师解答" in html and NOTE_MARK not in html
    async with api.client.get(f"/api/v1/worker/questions/{q['id']}/print?format=text", headers=worker.headers) as resp:
        assert resp.content_type == "text/plain"
        text = await resp.text()
    assert "可要求物业公示收费依据<b>" in text and NOTE_MARK not in text


async def test_notes_and_referrals_beside_lawyer_queue(api: Api) -> None:
    city = await api.city()
    lawyer = await api.lawyer()
    await api.duty(city.community_id, lawyer)
    worker = await api.worker([city.community_id])
    q = await api.ask(await api.resident(), city.community_id)
    qid = q["id"]

    note = await api.ok("POST", f"/questions/{qid}/notes", worker, {"content": "该居民上周已来社区反映过"}, status=201)
    assert note["author_role"] == "worker" and note["author_id"] == worker.id
    await api.ok("POST", f"/questions/{qid}/notes", lawyer, {"content": "需要核实租赁合同"}, status=201)
    ref = await api.ok(
        "POST", f"/questions/{qid}/referrals", worker, {"to": "mediation", "note": "约周三调解"}, status=201
    )
    assert ref["to"] == "mediation" and ref["outcome"] is None

    queue = await api.ok("GET", "/lawyer/queue", lawyer)
    [item] = queue["assigned"]
    assert [n["content"] for n in item["notes"]] == ["该居民上周已来社区反映过", "需要核实租赁合同"]
    assert [n["author_role"] for n in item["notes"]] == ["worker", "lawyer"]
    assert [(r["to"], r["note"]) for r in item["referrals"]] == [("mediation", "约周三调解")]

    out_path = f"/questions/{qid}/referrals/{ref['id']}/outcome"
    done = await api.ok("POST", out_path, lawyer, {"outcome": "resolved", "note": "双方达成协议"})
    assert done["outcome"] == "resolved" and done["outcome_by"] == lawyer.id and done["outcome_at"]
    assert (await api.call("POST", out_path, worker, {"outcome": "unresolved"}))[0] == 409
    code, err = await api.call("POST", f"/questions/{qid}/referrals", worker, {"to": "police"})
    assert code == 422 and err["error"]["details"][0]["field"] == "to"
    assert (await api.call("POST", f"/questions/{qid}/referrals/999999/outcome", worker, {"outcome": "resolved"}))[
        0
    ] == 404
    # the worker's follow-up list: open referrals of my communities only
    second = await api.ok("POST", f"/questions/{qid}/referrals", worker, {"to": "hotline_12345"}, status=201)
    assert [r["id"] for r in await api.ok("GET", "/worker/referrals?open=true", worker)] == [second["id"]]
    everything = await api.ok("GET", "/worker/referrals", worker)
    assert [r["id"] for r in everything] == [second["id"], ref["id"]]
    assert everything[0]["community_id"] == city.community_id
    outsider = await api.worker([(await api.city()).community_id])
    assert await api.ok("GET", "/worker/referrals", outsider) == []
    for path in (f"/questions/{qid}/notes", f"/questions/{qid}/referrals"):
        assert len(await api.ok("GET", path, await api.bureau())) >= 1
    # the bureau reads notes but does not write them; a lawyer who cannot see the question cannot either
    assert (await api.call("POST", f"/questions/{qid}/notes", await api.bureau(), {"content": "x"}))[0] == 403
    stranger = await api.lawyer()
    assert (await api.call("POST", f"/questions/{qid}/notes", stranger, {"content": "看看"}))[0] == 404


def _concrete(path: str, ids: dict[str, int]) -> str | None:
    names = re.findall(r"{(\w+)}", path)
    if any(n not in ids for n in names):
        return None
    for n in names:
        path = path.replace("{" + n + "}", str(ids[n]))
    return path


async def test_notes_never_reach_the_resident(api: Api) -> None:
    """Through every GET the resident can call (the print sheet too), no note or referral text appears."""
    city = await api.city()
    lawyer = await api.lawyer()
    await api.duty(city.community_id, lawyer)
    worker = await api.worker([city.community_id])
    resident = await api.resident()
    q = await api.ask(resident, city.community_id)
    qid = q["id"]
    await api.ok("POST", f"/questions/{qid}/notes", worker, {"content": NOTE_MARK}, status=201)
    await api.ok("POST", f"/questions/{qid}/notes", lawyer, {"content": NOTE_MARK}, status=201)
    ref = await api.ok(
        "POST", f"/questions/{qid}/referrals", worker, {"to": "legal_aid", "note": REFERRAL_MARK}, status=201
    )
    await api.ok(
        "POST",
        f"/questions/{qid}/referrals/{ref['id']}/outcome",
        worker,
        {"outcome": "resolved", "note": REFERRAL_MARK},
    )
    answer = await api.ok("POST", f"/questions/{qid}/answers", lawyer, {"content": "建议申请法律援助"}, status=201)
    await api.ok("POST", f"/questions/{qid}/adopt", resident, {"answer_id": answer["id"]})

    ids: dict[str, int] = {"id": qid, "referral_id": ref["id"], "answer_id": answer["id"]}
    bodies: list[Any] = []
    checked = []
    for route in api.client.app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        raw = info.get("path") or info.get("formatter")
        if route.method != "GET" or not raw or not raw.startswith("/api/v1") or raw.endswith("/stream"):
            continue
        path = _concrete(raw, ids)
        if path is None:
            continue
        code, body = await api.call("GET", path[len("/api/v1") :], resident)
        checked.append((path, code))
        if code == 200:
            bodies.append(body)
    text = str(bodies)
    assert NOTE_MARK not in text and REFERRAL_MARK not in text
    assert ("/api/v1/questions/{qid}".replace("{qid}", str(qid)), 200) in checked
    assert (f"/api/v1/questions/{qid}/notes", 403) in checked
    assert (f"/api/v1/questions/{qid}/referrals", 403) in checked
    # the resident's own view carries none of the staff-only fields
    mine = await api.ok("GET", f"/questions/{qid}", resident)
    assert not {"notes", "referrals", "offline_resident"} & mine.keys()
    # and residents cannot write notes or referrals
    assert (await api.call("POST", f"/questions/{qid}/notes", resident, {"content": "我自己的备注"}))[0] == 403
    assert (await api.call("POST", f"/questions/{qid}/referrals", resident, {"to": "mediation"}))[0] == 403


async def test_ledger_carries_level_channel_and_referrals_but_no_notes(api: Api) -> None:
    city = await api.city()
    lawyer = await api.lawyer()
    await api.duty(city.community_id, lawyer)
    worker = await api.worker([city.community_id])
    body = {"community_id": city.community_id, "content": "老人养老金被子女拿走了怎么办", "resident_name": "赵大妈"}
    offline = await api.ok("POST", "/worker/questions", worker, body, status=201)
    online = await api.ask(await api.resident(), city.community_id)
    await api.ok("POST", f"/questions/{offline['id']}/answers", lawyer, {"content": "可以申请调解"}, status=201)
    await api.ok("POST", f"/questions/{offline['id']}/notes", worker, {"content": NOTE_MARK}, status=201)
    ref_body = {"to": "mediation", "note": REFERRAL_MARK}
    ref = await api.ok("POST", f"/questions/{offline['id']}/referrals", worker, ref_body, status=201)
    await api.ok("POST", f"/questions/{offline['id']}/referrals/{ref['id']}/outcome", worker, {"outcome": "resolved"})
    await api.ok("POST", f"/questions/{offline['id']}/referrals", lawyer, {"to": "hotline_12345"}, status=201)

    async with api.client.get("/api/v1/exports/questions.csv", headers=(await api.bureau()).headers) as resp:
        assert resp.status == 200
        text = (await resp.read()).decode("utf-8-sig")
    assert NOTE_MARK not in text and REFERRAL_MARK not in text and "赵大妈" not in text
    rows = list(csv.reader(io.StringIO(text)))
    by_id = {r[0]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    got = by_id[str(offline["id"])]
    assert got["解决层级"] == "A"
    assert got["提问渠道"] == "社工代问" and got["代问社工"].startswith("社工")
    assert got["转介"] == "人民调解（已解决）；12345 热线（办理中）"
    plain = by_id[str(online["id"])]
    assert (plain["提问渠道"], plain["代问社工"], plain["转介"], plain["解决层级"]) == ("小程序", "", "", "")


async def test_erasure_and_purge_reach_internal_texts(api: Api) -> None:
    """A resident's erasure, and the retention purge, also erase notes, referral notes and offline residents."""
    city = await api.city()
    lawyer = await api.lawyer()
    await api.duty(city.community_id, lawyer)
    worker = await api.worker([city.community_id])
    resident = await api.resident()
    q = await api.ask(resident, city.community_id)
    await api.ok("POST", f"/questions/{q['id']}/notes", worker, {"content": NOTE_MARK}, status=201)
    ref_body = {"to": "mediation", "note": REFERRAL_MARK}
    await api.ok("POST", f"/questions/{q['id']}/referrals", worker, ref_body, status=201)
    assert (await api.call("DELETE", "/me", resident))[0] == 204
    bureau = await api.bureau()
    [note] = await api.ok("GET", f"/questions/{q['id']}/notes", bureau)
    [ref] = await api.ok("GET", f"/questions/{q['id']}/referrals", bureau)
    assert note["content"] is None and ref["note"] is None and ref["to"] == "mediation"

    body = {"community_id": city.community_id, "content": "帮老人问问继承的事情", "resident_name": "钱老伯"}
    offline = await api.ok("POST", "/worker/questions", worker, body | {"resident_phone": "13700001234"}, status=201)
    await api.ok("POST", f"/questions/{offline['id']}/notes", worker, {"content": NOTE_MARK}, status=201)
    async with api.client.app[DB_POOL].acquire() as conn:
        await privacy.purge(conn, 0)
    seen = await api.ok("GET", f"/questions/{offline['id']}", worker)
    assert seen["offline_resident"] == {"name": None, "phone": None}
    assert [n["content"] for n in seen["notes"]] == [None]
