"""The audit log: logins, admin changes, staff reads, exports; filters, paging, append-only."""

from __future__ import annotations

import asyncpg
import pytest

from tests.factories import PASSWORD, Api


async def test_logins_admin_changes_and_reads_are_recorded(api: Api) -> None:
    bureau = await api.bureau()
    assert (
        await api.call("POST", "/auth/login", json={"username": "bureau-admin", "password": "nope-nope-nope"})
    )[0] == 401
    city = await api.city()
    lawyer = await api.lawyer()
    await api.duty(city.community_id, lawyer)
    q = await api.ask(await api.resident(), city.community_id)
    await api.ok("GET", f"/questions/{q['id']}", lawyer)
    await api.ok("GET", f"/questions/{q['id']}", bureau)
    page = await api.ok("GET", "/admin/audit?limit=500", bureau)
    items = page["items"]
    assert [e["at"] for e in items] == sorted((e["at"] for e in items), reverse=True)  # newest first
    logins = [(e["success"], e["details"]["username"]) for e in items if e["action"] == "auth.login"]
    assert (False, "bureau-admin") in logins and (True, "bureau-admin") in logins
    assert all(e["client_addr"] == "127.0.0.1" for e in items)
    changes = [e for e in items if e["action"] == "admin.change"]
    routes = {e["details"]["route"] for e in changes}
    assert {
        "/api/v1/admin/districts",
        "/api/v1/admin/lawyers",
        "/api/v1/admin/communities/{id}/duty",
    } <= routes
    lawyer_created = next(e for e in changes if e["details"]["route"] == "/api/v1/admin/lawyers")
    assert lawyer_created["target_id"] == lawyer.id and lawyer_created["actor_id"] == bureau.id
    reads = [(e["actor_role"], e["target_id"]) for e in items if e["action"] == "question.read"]
    assert reads == [("bureau", q["id"]), ("lawyer", q["id"])]
    assert all(e["request_id"] for e in items if e["action"] != "auth.login" or e["success"])


async def test_filters_and_paging(api: Api) -> None:
    bureau = await api.bureau()
    for n in range(5):
        await api.ok("POST", "/admin/districts", bureau, {"name": f"审计区{n}"}, status=201)
    page1 = await api.ok("GET", "/admin/audit?action=admin&limit=2", bureau)
    assert len(page1["items"]) == 2 and page1["next_before_id"]
    page2 = await api.ok(
        "GET", f"/admin/audit?action=admin&limit=2&before_id={page1['next_before_id']}", bureau
    )
    page3 = await api.ok(
        "GET", f"/admin/audit?action=admin&limit=2&before_id={page2['next_before_id']}", bureau
    )
    ids = [e["id"] for p in (page1, page2, page3) for e in p["items"]]
    assert len(ids) == 5 and len(set(ids)) == 5 and page3["next_before_id"] is None
    mine = await api.ok("GET", f"/admin/audit?actor_role=bureau&actor_id={bureau.id}&success=true", bureau)
    assert {e["actor_id"] for e in mine["items"]} == {bureau.id}
    failed = await api.ok("GET", "/admin/audit?success=false", bureau)
    assert failed["items"] == []
    today = await api.ok("GET", "/admin/audit?from=2020-01-01&to=2099-12-31&action=admin.change", bureau)
    assert len(today["items"]) == 5
    none = await api.ok("GET", "/admin/audit?to=2020-01-01", bureau)
    assert none["items"] == []
    status, body = await api.call("GET", "/admin/audit?limit=0", bureau)
    assert status == 422 and body["error"]["details"][0]["field"] == "limit"
    status, body = await api.call("GET", "/admin/audit?nonsense=1", bureau)
    assert status == 422


async def test_denied_admin_attempts_are_recorded_as_failures(api: Api) -> None:
    lawyer = await api.lawyer()
    assert (await api.call("POST", "/admin/districts", lawyer, {"name": "越权"}))[0] == 403
    page = await api.ok("GET", "/admin/audit?success=false&action=admin.change", await api.bureau())
    (entry,) = page["items"]
    assert entry["actor_role"] == "lawyer" and entry["details"]["status"] == 403


async def test_audit_log_is_append_only(api: Api, db_dsn: str) -> None:
    await api.bureau()
    await api.ok("POST", "/auth/login", json={"username": "bureau-admin", "password": PASSWORD})
    conn = await asyncpg.connect(db_dsn)
    try:
        assert await conn.fetchval("SELECT count(*) FROM audit_log") >= 1
        for sql in ("UPDATE audit_log SET success = false", "DELETE FROM audit_log", "TRUNCATE audit_log"):
            with pytest.raises(asyncpg.RaiseError, match="append-only"):
                await conn.execute(sql)
    finally:
        await conn.close()
