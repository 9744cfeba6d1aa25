"""Abuse limits: questions per hour/day, open questions, login lock-outs, body size; shared by processes."""

from __future__ import annotations

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer

from fazhizhen.app import create_app
from fazhizhen.services import ratelimit
from tests.conftest import make_settings
from tests.factories import PASSWORD, Api, User


async def _ask(api: Api, resident: User, community_id: int, n: int) -> tuple[int, object, dict[str, str]]:
    async with api.client.post(
        "/api/v1/questions",
        json={"community_id": community_id, "content": f"第{n}个问题：邻居噪音怎么办"},
        headers=resident.headers,
    ) as resp:
        return resp.status, await resp.json(), dict(resp.headers)


async def _close_all(dsn: str) -> None:
    """Answer-free way to make questions not open (keeps the hourly count)."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("UPDATE questions SET status = 'answered', first_answered_at = now()")
    finally:
        await conn.close()


async def test_open_questions_are_capped(db_dsn: str) -> None:
    settings = make_settings(db_dsn, max_open_questions=2)
    async with TestClient(TestServer(create_app(settings))) as c:
        api = Api(c, settings)
        city = await api.city()
        r = await api.resident()
        for n in range(2):
            status, body, _ = await _ask(api, r, city.community_id, n)
            assert status == 201, body
        status, body, headers = await _ask(api, r, city.community_id, 3)
        assert status == 429 and body["error"]["code"] == "rate_limited"  # type: ignore[index]
        assert int(headers["Retry-After"]) >= 1
        # another resident is not affected
        assert (await _ask(api, await api.resident(), city.community_id, 9))[0] == 201
        await _close_all(db_dsn)
        assert (await _ask(api, r, city.community_id, 4))[0] == 201


async def test_hourly_and_daily_limits(db_dsn: str) -> None:
    settings = make_settings(
        db_dsn, rate_questions_per_hour=2, rate_questions_per_day=3, max_open_questions=50
    )
    async with TestClient(TestServer(create_app(settings))) as c:
        api = Api(c, settings)
        city = await api.city()
        r = await api.resident()
        for n in range(2):
            assert (await _ask(api, r, city.community_id, n))[0] == 201
        status, body, headers = await _ask(api, r, city.community_id, 2)
        assert status == 429 and 3000 <= int(headers["Retry-After"]) <= 3600
        # an hour later (moved in the database, not waited for) the hourly window frees up
        conn = await asyncpg.connect(db_dsn)
        try:
            await conn.execute("UPDATE questions SET created_at = created_at - interval '61 minutes'")
        finally:
            await conn.close()
        assert (await _ask(api, r, city.community_id, 3))[0] == 201
        status, body, headers = await _ask(api, r, city.community_id, 4)
        assert status == 429 and "今日" in body["error"]["message"]  # type: ignore[index]
        assert int(headers["Retry-After"]) > 3600


async def test_hourly_limit_is_shared_by_two_processes(db_dsn: str) -> None:
    """Two app instances (own pools, own memory) on one database see one counter."""
    settings = make_settings(db_dsn, rate_questions_per_hour=3, max_open_questions=50)
    async with (
        TestClient(TestServer(create_app(settings))) as c1,
        TestClient(TestServer(create_app(settings))) as c2,
    ):
        a, b = Api(c1, settings), Api(c2, settings)
        city = await a.city()
        r = await a.resident()
        got = [
            (await _ask(a, r, city.community_id, 1))[0],
            (await _ask(b, r, city.community_id, 2))[0],
            (await _ask(a, r, city.community_id, 3))[0],
            (await _ask(b, r, city.community_id, 4))[0],
            (await _ask(a, r, city.community_id, 5))[0],
        ]
        assert got == [201, 201, 201, 429, 429]


async def test_concurrent_submits_cannot_squeeze_past_the_limit(db_dsn: str) -> None:
    import asyncio

    settings = make_settings(db_dsn, rate_questions_per_hour=3, max_open_questions=50)
    async with (
        TestClient(TestServer(create_app(settings))) as c1,
        TestClient(TestServer(create_app(settings))) as c2,
    ):
        a, b = Api(c1, settings), Api(c2, settings)
        city = await a.city()
        r = await a.resident()
        results = await asyncio.gather(*[_ask(a if n % 2 else b, r, city.community_id, n) for n in range(10)])
        assert sorted(s for s, _, _ in results) == [201] * 3 + [429] * 7


# --- logins -----------------------------------------------------------------------------------


async def _login(api: Api, username: str, password: str) -> tuple[int, object, dict[str, str]]:
    async with api.client.post(
        "/api/v1/auth/login", json={"username": username, "password": password}
    ) as resp:
        return resp.status, await resp.json(), dict(resp.headers)


async def test_login_lockout_after_failures_then_back_off(db_dsn: str) -> None:
    settings = make_settings(db_dsn, login_max_failures=3, login_lockout_seconds=60)
    async with TestClient(TestServer(create_app(settings))) as c:
        api = Api(c, settings)
        lawyer = await api.lawyer()
        username = (await api.ok("GET", "/admin/lawyers", await api.bureau()))[-1]["username"]
        for _ in range(3):
            assert (await _login(api, username, "wrong-password!"))[0] == 401
        status, body, headers = await _login(api, username, PASSWORD)  # even the right password
        assert status == 429 and 1 <= int(headers["Retry-After"]) <= 60
        assert "锁定" in body["error"]["message"]  # type: ignore[index]
        # the lock passes (moved back in the database); one more failure doubles it
        conn = await asyncpg.connect(db_dsn)
        try:
            await conn.execute("UPDATE login_attempts SET at = at - interval '61 seconds'")
        finally:
            await conn.close()
        assert (await _login(api, username, "wrong-password!"))[0] == 401
        status, _, headers = await _login(api, username, PASSWORD)
        assert status == 429 and 60 < int(headers["Retry-After"]) <= 120
        conn = await asyncpg.connect(db_dsn)
        try:
            await conn.execute("UPDATE login_attempts SET at = at - interval '121 seconds'")
        finally:
            await conn.close()
        status, body, _ = await _login(api, username, PASSWORD)
        assert status == 200 and body["user_id"] == lawyer.id  # type: ignore[index]
        # success resets the count
        assert (await _login(api, username, "wrong-password!"))[0] == 401
        assert (await _login(api, username, PASSWORD))[0] == 200


async def test_lockout_applies_to_unknown_usernames_too(db_dsn: str) -> None:
    settings = make_settings(db_dsn, login_max_failures=2)
    async with TestClient(TestServer(create_app(settings))) as c:
        api = Api(c, settings)
        assert [(await _login(api, "nobody", "x" * 12))[0] for _ in range(3)] == [401, 401, 429]


async def test_login_failures_per_address(db_dsn: str) -> None:
    settings = make_settings(db_dsn, login_max_failures=100, login_max_failures_per_address=4)
    async with TestClient(TestServer(create_app(settings))) as c:
        api = Api(c, settings)
        await api.bureau()
        statuses = [(await _login(api, f"user-{n}", "wrong-password!"))[0] for n in range(5)]
        assert statuses == [401, 401, 401, 401, 429]
        status, _, headers = await _login(api, "bureau-admin", PASSWORD)
        assert status == 429 and int(headers["Retry-After"]) > 0


async def test_lockout_is_shared_by_two_processes(db_dsn: str) -> None:
    settings = make_settings(db_dsn, login_max_failures=2)
    async with (
        TestClient(TestServer(create_app(settings))) as c1,
        TestClient(TestServer(create_app(settings))) as c2,
    ):
        a, b = Api(c1, settings), Api(c2, settings)
        await a.bureau()
        assert (await _login(a, "bureau-admin", "wrong-password!"))[0] == 401
        assert (await _login(b, "bureau-admin", "wrong-password!"))[0] == 401
        assert (await _login(a, "bureau-admin", PASSWORD))[0] == 429
        assert (await _login(b, "bureau-admin", PASSWORD))[0] == 429


def test_lockout_back_off_doubles_and_is_capped() -> None:
    s = make_settings(
        "postgresql://x/y", login_max_failures=5, login_lockout_seconds=60, login_lockout_max_seconds=600
    )
    assert [ratelimit.lockout_seconds(s, n) for n in (4, 5, 6, 7, 8, 9, 50)] == [
        0,
        60,
        120,
        240,
        480,
        600,
        600,
    ]


async def test_wechat_logins_per_address_are_limited(db_dsn: str) -> None:
    settings = make_settings(db_dsn, wechat_logins_per_address_per_minute=2)
    async with TestClient(TestServer(create_app(settings))) as c:
        api = Api(c, settings)
        codes = [(await api.call("POST", "/auth/wechat", json={"code": "c"}))[0] for _ in range(3)]
    assert codes == [503, 503, 429]  # WeChat is not configured here; the limit comes first


# --- body size and content type ---------------------------------------------------------------


@pytest.mark.parametrize("size", [64 * 1024 + 1, 512 * 1024])
async def test_body_over_64_kib_is_413_json(api: Api, size: int) -> None:
    r = await api.resident()
    body = b'{"community_id": 1, "content": "' + b"x" * size + b'"}'
    async with api.client.post(
        "/api/v1/questions", data=body, headers={**r.headers, "Content-Type": "application/json"}
    ) as resp:
        assert resp.status == 413
        assert resp.content_type == "application/json"
        assert (await resp.json())["error"]["code"] == "payload_too_large"


async def test_non_json_content_type_is_415(api: Api) -> None:
    r = await api.resident()
    async with api.client.post(
        "/api/v1/questions",
        data='{"community_id": 1, "content": "hello world"}',
        headers={**r.headers, "Content-Type": "text/plain"},
    ) as resp:
        assert resp.status == 415
        assert (await resp.json())["error"]["code"] == "unsupported_media_type"


def test_contract_defaults() -> None:
    """CONTRACT.md section 1 (tests run with generous limits; production keeps these)."""
    from fazhizhen.settings import Settings

    defaults = {name: f.default for name, f in Settings.model_fields.items()}
    assert defaults["rate_questions_per_hour"] == 10 and defaults["rate_questions_per_day"] == 30
    assert defaults["max_open_questions"] == 5 and defaults["login_max_failures"] == 5
