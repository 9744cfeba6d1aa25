"""Accounts and tokens: password policy, changes revoke tokens, argon2 rehash, expiry, deactivation."""

from __future__ import annotations

import asyncpg
import pytest
from argon2 import PasswordHasher

from fazhizhen.services.passwords import password_problem
from tests.factories import PASSWORD, Api, User


async def _username(api: Api, lawyer: User) -> str:
    rows = await api.ok("GET", "/admin/lawyers", await api.bureau())
    return str(next(r["username"] for r in rows if r["id"] == lawyer.id))


@pytest.mark.parametrize(
    ("username", "password", "ok"),
    [
        ("zhang", "short", False),
        ("zhang", "123456789", False),
        ("zhang-lawyer", "zhang-lawyer", False),
        ("zhang-lawyer", "ZHANG-LAWYER ", False),
        ("zhang-lawyer", "reywal-gnahz", False),
        ("zhang", "aaaaaaaaaaaa", False),
        ("zhang", "correct-horse", True),
        ("zhang", "长城万里长城永远不倒下", True),
    ],
)
def test_password_policy(username: str, password: str, ok: bool) -> None:
    assert (password_problem(username, password) is None) is ok


async def test_change_password_revokes_every_token(api: Api) -> None:
    lawyer = await api.lawyer()
    username = await _username(api, lawyer)
    second = await api.ok("POST", "/auth/login", json={"username": username, "password": PASSWORD})
    status, body = await api.call(
        "POST", "/auth/password", lawyer, {"old_password": "wrong-password", "new_password": "new-secret-123"}
    )
    assert status == 401
    status, body = await api.call(
        "POST", "/auth/password", lawyer, {"old_password": PASSWORD, "new_password": username}
    )
    assert status == 422 and body["error"]["details"][0]["field"] == "new_password"
    out = await api.ok(
        "POST", "/auth/password", lawyer, {"old_password": PASSWORD, "new_password": "new-secret-123"}
    )
    assert (await api.call("GET", "/lawyer/queue", lawyer))[0] == 401
    assert (await api.call("GET", "/lawyer/queue", User(second["token"], lawyer.id, "lawyer")))[0] == 401
    assert (await api.call("GET", "/lawyer/queue", User(out["token"], lawyer.id, "lawyer")))[0] == 200
    assert (await api.call("POST", "/auth/login", json={"username": username, "password": PASSWORD}))[
        0
    ] == 401
    await api.ok("POST", "/auth/login", json={"username": username, "password": "new-secret-123"})


async def test_bureau_reset_revokes_tokens(api: Api) -> None:
    lawyer = await api.lawyer()
    bureau = await api.bureau()
    status, _ = await api.call("PATCH", f"/admin/accounts/{lawyer.id}", bureau, {"password": "short"})
    assert status == 422
    await api.ok("PATCH", f"/admin/accounts/{lawyer.id}", bureau, {"password": "reset-by-bureau-1"})
    assert (await api.call("GET", "/lawyer/queue", lawyer))[0] == 401
    username = await _username(api, lawyer)
    await api.ok("POST", "/auth/login", json={"username": username, "password": "reset-by-bureau-1"})
    # the bureau cannot lock itself out
    assert (await api.call("PATCH", f"/admin/accounts/{bureau.id}", bureau, {"active": False}))[0] == 409
    assert (await api.call("PATCH", "/admin/accounts/987654", bureau, {"active": False}))[0] == 404


async def test_hash_with_old_parameters_is_rehashed_at_login(api: Api, db_dsn: str) -> None:
    lawyer = await api.lawyer()
    username = await _username(api, lawyer)
    old = PasswordHasher(time_cost=2, memory_cost=4096, parallelism=2).hash(PASSWORD)
    conn = await asyncpg.connect(db_dsn)
    try:
        await conn.execute("UPDATE accounts SET password_hash = $2 WHERE id = $1", lawyer.id, old)
        await api.ok("POST", "/auth/login", json={"username": username, "password": PASSWORD})
        new = await conn.fetchval("SELECT password_hash FROM accounts WHERE id = $1", lawyer.id)
    finally:
        await conn.close()
    s = api.settings
    assert new != old and f"m={s.argon2_memory_kib},t={s.argon2_time_cost},p={s.argon2_parallelism}" in new
    await api.ok("POST", "/auth/login", json={"username": username, "password": PASSWORD})


async def test_tokens_expire_by_role(api: Api, db_dsn: str) -> None:
    lawyer = await api.lawyer()
    resident = await api.resident()
    conn = await asyncpg.connect(db_dsn)
    try:
        ttl = dict(
            await conn.fetch(
                "SELECT role, round(extract(epoch FROM expires_at - created_at)) AS s FROM auth_tokens "
                "WHERE role IN ('lawyer', 'resident') GROUP BY role, s"
            )
        )
        await conn.execute("UPDATE auth_tokens SET expires_at = now() - interval '1 second'")
    finally:
        await conn.close()
    assert ttl == {"lawyer": 12 * 3600, "resident": 30 * 24 * 3600}
    assert (await api.call("GET", "/lawyer/queue", lawyer))[0] == 401
    assert (await api.call("GET", "/questions", resident))[0] == 401


async def test_deactivated_lawyer_leaves_rosters_and_pools_and_questions_move(api: Api, db_dsn: str) -> None:
    bureau = await api.bureau()
    city = await api.city()
    leaving, colleague, pool_mate = await api.lawyer(), await api.lawyer(), await api.lawyer()
    await api.duty(city.community_id, leaving)
    pool = await api.pool([leaving, pool_mate], city.district_id)
    resident = await api.resident()
    pending = await api.ask(resident, city.community_id, "第一个问题内容")
    assert pending["assigned_lawyer_id"] == leaving.id
    # a second community where only the leaving lawyer is on duty: its question must go to the pool
    city2 = await api.city(city.district_id)
    await api.duty(city2.community_id, leaving)
    lonely = await api.ask(resident, city2.community_id, "第二个问题内容")
    # a pool question the leaving lawyer claimed
    city3 = await api.city(city.district_id)
    pooled = await api.ask(resident, city3.community_id, "第三个问题内容")
    await api.ok("POST", f"/questions/{pooled['id']}/claim", leaving)
    # a colleague on duty in the first community takes over there
    await api.duty(city.community_id, colleague)

    out = await api.ok("PATCH", f"/admin/accounts/{leaving.id}", bureau, {"active": False})
    assert out["active"] is False
    moved = {r["question_id"]: r for r in out["rerouted"]}
    assert moved[pending["id"]] == {"question_id": pending["id"], "to": "lawyer", "lawyer_id": colleague.id}
    assert moved[lonely["id"]]["to"] == "pool" and moved[lonely["id"]]["pool_id"] == pool
    assert moved[pooled["id"]]["to"] == "pool"

    assert (await api.call("GET", "/lawyer/queue", leaving))[0] == 401  # tokens revoked
    username = await _username(api, leaving)
    assert (await api.call("POST", "/auth/login", json={"username": username, "password": PASSWORD}))[
        0
    ] == 401
    assert [q["id"] for q in (await api.ok("GET", "/lawyer/queue", colleague))["assigned"]] == [pending["id"]]
    pool_queue = [q["id"] for q in (await api.ok("GET", "/lawyer/queue", pool_mate))["pool"]]
    assert sorted(pool_queue) == sorted([lonely["id"], pooled["id"]])
    pools = await api.ok("GET", "/admin/pools", bureau)
    assert leaving.id not in next(p for p in pools if p["id"] == pool)["member_ids"]
    duty = await api.ok("GET", f"/admin/communities/{city.community_id}/duty", bureau)
    assert [d["lawyer_id"] for d in duty] == [colleague.id]
    events = await api.ok("GET", f"/questions/{lonely['id']}/events", bureau)
    assert [e["kind"] for e in events][-1] == "escalated"
    # new questions never reach the deactivated lawyer
    fresh = await api.ask(await api.resident(), city2.community_id, "第四个问题内容")
    assert fresh["status"] == "escalated"
    # reactivation lets them log in again (rosters are for the bureau to rebuild)
    await api.ok("PATCH", f"/admin/accounts/{leaving.id}", bureau, {"active": True})
    await api.ok("POST", "/auth/login", json={"username": username, "password": PASSWORD})
