"""Every endpoint × every kind of caller: who gets in, who gets 401, who gets 403.

The table is checked against the app's router: an endpoint without a row here fails the test, so a
new endpoint cannot land without someone deciding who may call it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg
from aiohttp import web

from fazhizhen.app import create_app
from fazhizhen.services.passwords import hash_password
from fazhizhen.settings import Settings
from tests.factories import PASSWORD, Api, User

PUBLIC = "public"  # anyone, with or without a token
ANY = frozenset({"resident", "lawyer", "worker", "bureau"})  # any valid token
R, L, W, B = (frozenset({x}) for x in ("resident", "lawyer", "worker", "bureau"))
STAFF = frozenset({"lawyer", "worker", "bureau"})

V = "/api/v1"
N = 987654321  # an id that exists nowhere: allowed callers get 404/422, never 401/403

# (method, route as registered) -> who may call it
MATRIX: dict[tuple[str, str], str | frozenset[str]] = {
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/metrics"): PUBLIC,
    ("GET", "/dashboard"): PUBLIC,
    ("GET", "/dashboard/"): PUBLIC,
    ("GET", "/dashboard/static"): PUBLIC,  # the page's own files
    ("GET", f"{V}/openapi.json"): PUBLIC,
    ("GET", f"{V}/docs"): PUBLIC,
    ("GET", f"{V}/docs/assets/{{name}}"): PUBLIC,  # the docs page's own files
    # auth
    ("POST", f"{V}/auth/login"): PUBLIC,
    ("POST", f"{V}/auth/dev"): PUBLIC,
    ("POST", f"{V}/auth/wechat"): PUBLIC,
    ("POST", f"{V}/auth/logout"): ANY,
    ("POST", f"{V}/auth/password"): STAFF,
    # administration
    ("POST", f"{V}/admin/districts"): B,
    ("GET", f"{V}/admin/districts"): B,
    ("POST", f"{V}/admin/streets"): B,
    ("GET", f"{V}/admin/streets"): B,
    ("POST", f"{V}/admin/communities"): B,
    ("GET", f"{V}/admin/communities"): B,
    ("POST", f"{V}/admin/communities/{{id}}/duty"): B,
    ("GET", f"{V}/admin/communities/{{id}}/duty"): B,
    ("DELETE", f"{V}/admin/communities/{{id}}/duty/{{slot_id}}"): B,
    ("POST", f"{V}/admin/lawyers"): B,
    ("GET", f"{V}/admin/lawyers"): B,
    ("POST", f"{V}/admin/workers"): B,
    ("GET", f"{V}/admin/workers"): B,
    ("PUT", f"{V}/admin/workers/{{id}}/communities"): B,
    ("POST", f"{V}/admin/pools"): B,
    ("GET", f"{V}/admin/pools"): B,
    ("POST", f"{V}/admin/pools/{{id}}/members"): B,
    ("DELETE", f"{V}/admin/pools/{{id}}/members/{{lawyer_id}}"): B,
    ("PATCH", f"{V}/admin/accounts/{{id}}"): B,
    ("POST", f"{V}/admin/webhooks"): B,
    ("GET", f"{V}/admin/webhooks"): B,
    ("DELETE", f"{V}/admin/webhooks/{{id}}"): B,
    ("GET", f"{V}/admin/outbox"): B,
    ("GET", f"{V}/admin/audit"): B,
    # questions
    ("GET", f"{V}/categories"): PUBLIC,
    ("POST", f"{V}/questions"): R,
    ("GET", f"{V}/questions"): R,
    ("GET", f"{V}/questions/{{id}}"): ANY,
    ("GET", f"{V}/questions/{{id}}/events"): ANY,
    ("POST", f"{V}/questions/{{id}}/messages"): R,
    ("POST", f"{V}/questions/{{id}}/adopt"): R,
    ("POST", f"{V}/questions/{{id}}/rating"): R,
    ("POST", f"{V}/questions/{{id}}/claim"): L,
    ("POST", f"{V}/questions/{{id}}/answers"): L,
    ("POST", f"{V}/questions/{{id}}/notes"): L | W,
    ("GET", f"{V}/questions/{{id}}/notes"): L | W | B,
    ("POST", f"{V}/questions/{{id}}/referrals"): L | W,
    ("GET", f"{V}/questions/{{id}}/referrals"): L | W | B,
    ("POST", f"{V}/questions/{{id}}/referrals/{{referral_id}}/outcome"): L | W,
    ("GET", f"{V}/lawyer/queue"): L,
    ("GET", f"{V}/lawyer/stream"): L,
    ("GET", f"{V}/worker/questions"): W,
    ("POST", f"{V}/worker/questions"): W,
    ("GET", f"{V}/worker/questions/{{id}}/print"): W,
    ("GET", f"{V}/worker/me"): W,
    ("GET", f"{V}/worker/referrals"): W,
    # the bureau's figures
    ("GET", f"{V}/metrics/summary"): B,
    ("GET", f"{V}/metrics/levels"): B,
    ("GET", f"{V}/metrics/levels/breakdown"): B,
    ("GET", f"{V}/metrics/categories"): B,
    ("GET", f"{V}/metrics/daily"): B,
    ("GET", f"{V}/metrics/lawyers"): B,
    ("GET", f"{V}/metrics/places"): B,
    ("GET", f"{V}/metrics/histogram"): B,
    ("GET", f"{V}/bureau/open-escalations"): B,
    ("GET", f"{V}/exports/questions.csv"): B,
    ("GET", f"{V}/exports/questions.xlsx"): B,
    ("GET", f"{V}/callbacks"): B,
    ("POST", f"{V}/callbacks/{{id}}/assign"): B,
    ("POST", f"{V}/callbacks/{{id}}/outcome"): B,
    ("GET", f"{V}/bureau/stream"): B,
    # personal data
    ("GET", f"{V}/me/export"): R,
    ("DELETE", f"{V}/me"): R,
}

# calls that use up the caller (revoke its token, erase it): each gets fresh users
CONSUMING = {("POST", f"{V}/auth/logout"), ("DELETE", f"{V}/me")}


def registered_routes(app: web.Application) -> set[tuple[str, str]]:
    """(method, canonical path) of every route the app serves (HEAD twins of GET left out)."""
    out = set()
    for route in app.router.routes():
        if route.method in ("HEAD", "*") or route.resource is None:
            continue
        out.add((route.method, route.resource.canonical))
    return out


def test_every_route_has_a_row(settings: Settings) -> None:
    missing = registered_routes(create_app(settings)) - set(MATRIX)
    assert not missing, f"add these endpoints to MATRIX in {__file__}: {sorted(missing)}"


@dataclass
class Caller:
    name: str
    headers: dict[str, str]
    role: str | None  # None: no valid token


async def _worker(api: Api, dsn: str) -> User:
    conn = await asyncpg.connect(dsn)
    try:
        wid = await conn.fetchval(
            "INSERT INTO accounts (role, username, password_hash) VALUES ('worker', $1, $2) RETURNING id",
            f"worker-{id(api)}-{await conn.fetchval('SELECT count(*) FROM accounts')}",
            await hash_password(PASSWORD),
        )
        username = await conn.fetchval("SELECT username FROM accounts WHERE id = $1", wid)
    finally:
        await conn.close()
    body = await api.ok("POST", "/auth/login", json={"username": username, "password": PASSWORD})
    return User(body["token"], body["user_id"], "worker")


async def _callers(api: Api, dsn: str) -> list[Caller]:
    users = [await api.resident(), await api.lawyer(), await _worker(api, dsn)]
    await api.bureau()  # creates the account; a login of our own gives a token this call may use up
    body = await api.ok("POST", "/auth/login", json={"username": "bureau-admin", "password": PASSWORD})
    users.append(User(body["token"], body["user_id"], "bureau"))
    out = [Caller(u.role, u.headers, u.role) for u in users]
    out.append(Caller("none", {}, None))
    out.append(Caller("garbage", {"Authorization": "Bearer not-a-real-token"}, None))
    out.append(Caller("wrong-scheme", {"Authorization": f"Basic {users[0].token}"}, None))
    # expired: a bureau token whose expiry passed
    expired = await api.ok("POST", "/auth/login", json={"username": "bureau-admin", "password": PASSWORD})
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            "UPDATE auth_tokens SET expires_at = now() - interval '1 second' "
            "WHERE created_at = (SELECT max(created_at) FROM auth_tokens)"
        )
    finally:
        await conn.close()
    out.append(Caller("expired", {"Authorization": f"Bearer {expired['token']}"}, None))
    # revoked: a resident token after logout
    revoked = await api.resident()
    await api.ok("POST", "/auth/logout", revoked, status=204)
    out.append(Caller("revoked", revoked.headers, None))
    return out


def _url(path: str) -> str:
    if path == "/dashboard/static":
        return "/dashboard/static/dashboard/dashboard.js"
    if path.endswith("/docs/assets/{name}"):
        return path.replace("{name}", "docs-init.js")
    for name in ("{id}", "{slot_id}", "{lawyer_id}", "{referral_id}"):
        path = path.replace(name, str(N))
    return path


async def _status(api: Api, method: str, path: str, headers: dict[str, str]) -> int:
    kw: dict[str, Any] = {"headers": headers}
    if method in ("POST", "PATCH", "PUT"):
        kw["json"] = {}
    async with api.client.request(method, _url(path), **kw) as resp:
        return resp.status  # streams are left unread: the status is all we need


async def test_authorisation_matrix(api: Api, db_dsn: str) -> None:
    callers = await _callers(api, db_dsn)
    failures = []
    routes = sorted(registered_routes(api.client.app))  # type: ignore[arg-type]
    for method, path in routes:
        allowed = MATRIX[(method, path)]
        for caller in callers:
            if (method, path) in CONSUMING and caller.role is not None:
                fresh = {c.role: c for c in await _callers(api, db_dsn) if c.role}
                caller = fresh[caller.role]
            status = await _status(api, method, path, caller.headers)
            if allowed == PUBLIC:
                ok = status not in (401, 403)
                want = "not 401/403"
            elif caller.role is None:
                ok, want = status == 401, "401"
            elif caller.role in allowed:
                ok, want = status not in (401, 403), "not 401/403"
            else:
                ok, want = status == 403, "403"
            if not ok or status >= 500:
                failures.append(f"{method} {path} as {caller.name}: {status}, want {want}")
    assert not failures, "\n".join(failures)
