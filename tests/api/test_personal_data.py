"""Personal data: masking on every surface, a resident's export, erasure, and retention purge."""

from __future__ import annotations

import asyncio
import io
import os
import sys
from pathlib import Path

import asyncpg
import structlog

from fazhizhen.log import configure_logging, get_logger
from tests.factories import Api

PHONE, MASKED_PHONE = "13812345678", "138****5678"
ID_NO = "11010519491231002X"
EMAIL = "zhangsan@example.com"
TEXT = f"我的电话{PHONE}，身份证{ID_NO}，邮箱{EMAIL}，房东不退押金"
ROOT = Path(__file__).resolve().parent.parent.parent


def _clear(s: str) -> bool:
    return PHONE in s and ID_NO in s and EMAIL in s


def _masked(s: str) -> bool:
    return PHONE not in s and ID_NO not in s and EMAIL not in s and MASKED_PHONE in s


async def test_masked_for_everyone_but_asker_and_assignee(api: Api) -> None:
    city = await api.city()
    duty_lawyer, pool_lawyer, other = await api.lawyer(), await api.lawyer(), await api.lawyer()
    await api.pool([pool_lawyer], city.district_id)
    resident = await api.resident()
    # no one on duty: straight to the pool, where it shows in pool lists
    q = await api.ask(resident, city.community_id, TEXT)
    assert q["status"] == "escalated" and _clear(q["content"])  # the asker sees it in clear
    queue = await api.ok("GET", "/lawyer/queue", pool_lawyer)
    (listed,) = queue["pool"]
    assert _masked(listed["content"])  # the pool list
    seen = await api.ok("GET", f"/questions/{q['id']}", pool_lawyer)
    assert _masked(seen["content"])  # a pool member before claiming
    assert _masked((await api.ok("GET", f"/questions/{q['id']}", await api.bureau()))["content"])  # bureau
    claimed = await api.ok("POST", f"/questions/{q['id']}/claim", pool_lawyer)
    assert _clear(claimed["content"])  # the assigned lawyer
    assert (await api.call("GET", f"/questions/{q['id']}", other))[0] == 404
    # the asker's follow-up is masked for the bureau too
    await api.ok(
        "POST", f"/questions/{q['id']}/messages", resident, {"content": f"再补充{PHONE}"}, status=201
    )
    seen = await api.ok("GET", f"/questions/{q['id']}", await api.bureau())
    assert all(PHONE not in m["content"] for m in seen["messages"])
    mine = await api.ok("GET", f"/questions/{q['id']}", resident)
    assert PHONE in mine["messages"][-1]["content"]
    del duty_lawyer


def test_logs_never_carry_personal_numbers() -> None:
    buf = io.StringIO()
    configure_logging("json", "INFO")
    processors = structlog.get_config()["processors"]
    structlog.configure(processors=processors, logger_factory=structlog.PrintLoggerFactory(buf))
    try:
        get_logger("t").info("something_happened", note=TEXT, nested={"phone": PHONE}, items=[EMAIL])
    finally:
        configure_logging("console", "WARNING")
    line = buf.getvalue()
    assert "something_happened" in line and _masked(line)


async def test_export_gives_a_resident_everything(api: Api) -> None:
    city = await api.city()
    lawyer = await api.lawyer()
    await api.duty(city.community_id, lawyer)
    resident = await api.resident("openid-export")
    q = await api.ask(resident, city.community_id, TEXT)
    await api.ok("POST", f"/questions/{q['id']}/answers", lawyer, {"content": "建议起诉"}, status=201)
    other = await api.resident()
    await api.ask(other, city.community_id, "别人的问题内容")
    async with api.client.get("/api/v1/me/export", headers=resident.headers) as resp:
        assert resp.status == 200 and "attachment" in resp.headers["Content-Disposition"]
        data = await resp.json()
    assert data["resident"]["openid"] == "openid-export" and data["resident"]["id"] == resident.id
    (mine,) = data["questions"]
    assert _clear(mine["content"])  # their own data, in clear
    assert [m["content"] for m in mine["messages"]] == ["建议起诉"]
    assert data["sessions"] and "token" not in str(data["sessions"][0].keys())
    assert "别人的问题内容" not in str(data)
    # exports are audited
    page = await api.ok("GET", "/admin/audit?action=export", await api.bureau())
    assert [(e["actor_role"], e["actor_id"]) for e in page["items"]] == [("resident", resident.id)]


async def test_delete_me_anonymises_but_keeps_statistics(api: Api, db_dsn: str) -> None:
    city = await api.city()
    lawyer = await api.lawyer()
    await api.duty(city.community_id, lawyer)
    resident = await api.resident("openid-gone")
    answered = await api.ask(resident, city.community_id, TEXT)
    msg = await api.ok(
        "POST", f"/questions/{answered['id']}/answers", lawyer, {"content": "答复"}, status=201
    )
    await api.ok(
        "POST", f"/questions/{answered['id']}/rating", resident, {"score": 4, "comment": f"好{PHONE}"}
    )
    still_open = await api.ask(resident, city.community_id, "还没人回答的问题")
    assert (await api.call("DELETE", "/me", resident))[0] == 204
    # the token is gone with the resident
    assert (await api.call("GET", "/questions", resident))[0] == 401
    conn = await asyncpg.connect(db_dsn)
    try:
        rows = await conn.fetch("SELECT * FROM questions ORDER BY id")
        msgs = await conn.fetch("SELECT content FROM messages WHERE question_id = $1", answered["id"])
        who = await conn.fetchrow("SELECT * FROM residents WHERE id = $1", resident.id)
        ratings = await conn.fetch("SELECT * FROM ratings")
    finally:
        await conn.close()
    assert len(rows) == 2  # both still count
    by_id = {r["id"]: r for r in rows}
    a, o = by_id[answered["id"]], by_id[still_open["id"]]
    assert (
        a["content"] == "" and a["resident_id"] is None and a["rating"] == 4 and a["rating_comment"] is None
    )
    assert a["first_answered_at"] is not None and a["category"] == "neighbor"
    assert o["status"] == "closed" and o["content"] == ""  # withdrawn, not left in a queue
    assert [m["content"] for m in msgs] == [""]
    assert who["openid"] is None and who["deleted_at"] is not None
    assert ratings[0]["comment"] is None and ratings[0]["resident_id"] is None
    # the lawyer no longer sees it in the queue; the same openid starts afresh
    assert (await api.ok("GET", "/lawyer/queue", lawyer))["assigned"] == []
    again = await api.resident("openid-gone")
    assert again.id != resident.id and await api.ok("GET", "/questions", again) == []
    del msg


async def test_purge_cli_anonymises_old_content(api: Api, db_dsn: str) -> None:
    city = await api.city()
    resident = await api.resident()
    old = await api.ask(resident, city.community_id, TEXT)
    new = await api.ask(resident, city.community_id, "新问题新问题")
    conn = await asyncpg.connect(db_dsn)
    try:
        await conn.execute(
            "UPDATE questions SET created_at = now() - interval '400 days' WHERE id = $1", old["id"]
        )
        env = {**os.environ, "FAZHIZHEN_DATABASE_URL": db_dsn, "FAZHIZHEN_LOG_LEVEL": "WARNING"}
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "fazhizhen", "purge", "--older-than", "365",
            cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(proc.communicate(), 60)
        assert proc.returncode == 0, err.decode()
        assert "anonymised 1 question" in out.decode()
        rows = {r["id"]: r for r in await conn.fetch("SELECT id, content, resident_id FROM questions")}
    finally:
        await conn.close()
    assert rows[old["id"]]["content"] == "" and rows[old["id"]]["resident_id"] is None
    assert rows[new["id"]]["content"] == "新问题新问题"


async def test_ledger_export_is_masked_and_audited(api: Api) -> None:
    city = await api.city()
    resident = await api.resident()
    await api.ask(resident, city.community_id, TEXT)
    bureau = await api.bureau()
    async with api.client.get(
        "/api/v1/exports/questions.csv?source=raw", headers=bureau.headers
    ) as resp:
        assert resp.status == 200, await resp.text()
        text = (await resp.read()).decode("utf-8-sig")
    assert "房东不退押金" in text and _masked(text)
    page = await api.ok("GET", "/admin/audit?action=export", bureau)
    (entry,) = page["items"]
    assert entry["actor_role"] == "bureau" and entry["details"]["route"] == "/api/v1/exports/questions.csv"


async def test_dashboard_data_is_masked(api: Api) -> None:
    """What the dashboard shows beside figures: callbacks (回访) with the resident's comment."""
    city = await api.city()
    lawyer = await api.lawyer()
    await api.duty(city.community_id, lawyer)
    resident = await api.resident()
    q = await api.ask(resident, city.community_id, TEXT)
    await api.ok("POST", f"/questions/{q['id']}/answers", lawyer, {"content": "答复"}, status=201)
    await api.ok("POST", f"/questions/{q['id']}/rating", resident, {"score": 1, "comment": f"不满意，回电{PHONE}"})
    bureau = await api.bureau()
    callbacks = await api.ok("GET", "/callbacks", bureau)
    assert callbacks and all(PHONE not in str(c) for c in callbacks) and MASKED_PHONE in str(callbacks)
    escalations = await api.ok("GET", "/bureau/open-escalations", bureau)
    assert PHONE not in str(escalations)
    async with api.client.get("/dashboard") as resp:
        page = await resp.text()
        assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
    assert "<script>" not in page  # scripts only from files: user text cannot become code
