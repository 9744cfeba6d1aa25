"""Random bodies at every write endpoint: never a 500, and a rejected body changes nothing."""

from __future__ import annotations

import json
from typing import Any

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.test_authz_matrix import CONSUMING, MATRIX, PUBLIC, _worker, registered_routes
from tests.factories import Api, User

FIELDS = [
    "community_id", "content", "category", "answer_id", "score", "comment", "username", "password",
    "name", "district_id", "street_id", "lawyer_id", "weekday", "start", "end", "openid", "code",
    "active", "old_password", "new_password", "kind", "firm", "phone", "specialties", "license_no",
    "to", "note", "resident_name", "resident_phone", "community_ids",
]  # fmt: skip
# bookkeeping a rejected request may write (or a background task advances meanwhile)
NOT_STATE = ("audit_log", "login_attempts", "rate_counters", "schema_migrations", "stream_cursor")

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.sampled_from(["", " ", "12:00", "neighbor", "x" * 6000, "<script>alert(1)</script>", "\x00"])
)
values = st.recursive(
    scalars,
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8), c, max_size=3),
    max_leaves=6,
)
objects = st.dictionaries(st.sampled_from(FIELDS), values, max_size=6)
bodies = st.one_of(
    objects.map(lambda d: json.dumps(d).encode()),
    values.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=64),
    st.just(b""),
    st.just(b'{"content": "\\ud800"}'),
)


async def snapshot(conn: asyncpg.Connection) -> dict[str, str]:
    """A digest of every table's rows (bookkeeping tables left out)."""
    tables = await conn.fetch(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
        "AND table_type = 'BASE TABLE' AND NOT (table_name = ANY($1::text[]))",
        list(NOT_STATE),
    )
    out = {}
    for t in tables:
        name = t["table_name"]
        out[name] = await conn.fetchval(
            f"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM \"{name}\" t"
        )
    return out


WRITE = sorted((m, p) for m, p in MATRIX if m in ("POST", "PATCH", "PUT") and (m, p) not in CONSUMING)


@pytest.fixture
async def world(api: Api, db_dsn: str) -> dict[str, Any]:
    """A small city with a question in it, and one caller per role."""
    city = await api.city()
    lawyer = await api.lawyer()
    other = await api.lawyer()
    await api.duty(city.community_id, lawyer)
    pool = await api.pool([lawyer], city.district_id)
    resident = await api.resident()
    q = await api.ask(resident, city.community_id)
    worker = await _worker(api, db_dsn)
    callers = {"resident": resident, "lawyer": lawyer, "worker": worker, "bureau": await api.bureau()}
    ids = {
        "/admin/communities/": city.community_id,
        "/admin/pools/": pool,
        "/admin/accounts/": other.id,
        "/admin/workers/": worker.id,
    }
    return {"callers": callers, "ids": ids, "question": q["id"]}


def _url(path: str, world: dict[str, Any]) -> str:
    path = path.replace("{referral_id}", "987654321")
    for prefix, ident in world["ids"].items():
        if prefix in path:
            return path.replace("{id}", str(ident))
    return path.replace("{id}", str(world["question"]))


@pytest.mark.parametrize(("method", "path"), WRITE, ids=[f"{m} {p}" for m, p in WRITE])
@settings(
    max_examples=15,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=bodies)
async def test_random_bodies(
    api: Api, db_dsn: str, world: dict[str, Any], method: str, path: str, body: bytes
) -> None:
    if (method, path) not in registered_routes(api.client.app):  # type: ignore[arg-type]
        pytest.skip("not served (yet)")
    allowed = MATRIX[(method, path)]
    caller: User | None = None
    if allowed != PUBLIC:
        caller = world["callers"][sorted(allowed)[0]]
    conn = await asyncpg.connect(db_dsn)
    try:
        before = await snapshot(conn)
        headers = {"Content-Type": "application/json", **(caller.headers if caller else {})}
        async with api.client.request(method, _url(path, world), data=body, headers=headers) as resp:
            status = resp.status
            text = await resp.text()
        assert status != 500 and status < 600, (status, text)
        if status == 503:
            assert path.endswith("/auth/wechat"), (status, text)
        if status >= 400:
            assert resp.content_type == "application/json"
            assert await snapshot(conn) == before, (status, text)
    finally:
        await conn.close()
