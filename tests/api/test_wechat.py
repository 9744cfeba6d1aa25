"""WeChat login (code2Session) and content screening (msgSecCheck v2) against a local fake WeChat."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer

from fazhizhen.app import create_app
from fazhizhen.settings import Settings
from tests.conftest import make_settings
from tests.factories import Api, User
from tests.fake_wechat import APPID, SECRET, FakeWeChat, start_fake_wechat

TIMEOUT = 0.5


@pytest.fixture
async def fake() -> AsyncIterator[FakeWeChat]:
    async for f in start_fake_wechat():
        yield f


@pytest.fixture
def wx_settings(db_dsn: str, fake: FakeWeChat) -> Settings:
    return make_settings(
        db_dsn,
        wechat_appid=APPID,
        wechat_secret=SECRET,
        wechat_api_base=fake.base,
        wechat_timeout_seconds=TIMEOUT,
    )


@pytest.fixture
async def wx(wx_settings: Settings) -> AsyncIterator[Api]:
    async with TestClient(TestServer(create_app(wx_settings))) as c:
        yield Api(c, wx_settings)


async def _login(api: Api, code: str = "code-1") -> tuple[int, dict[str, object]]:
    status, body = await api.call("POST", "/auth/wechat", json={"code": code})
    return status, body


async def test_login_creates_then_finds_resident_by_openid(wx: Api, fake: FakeWeChat) -> None:
    fake.unionid = "union-42"
    status, first = await _login(wx, "abc")
    assert status == 200, first
    assert first["role"] == "resident" and isinstance(first["token"], str)
    status, again = await _login(wx, "abc")
    assert status == 200 and again["resident_id"] == first["resident_id"]
    assert again["token"] != first["token"]
    got = await wx.ok("GET", "/questions", User(str(first["token"]), int(first["resident_id"]), "resident"))
    assert got == []
    # the call carried app id, secret and the code
    name, params = fake.calls[0]
    assert name == "jscode2session" and params["js_code"] == "abc" and params["appid"] == APPID


async def test_session_key_is_never_returned_nor_stored(wx: Api, fake: FakeWeChat, db_dsn: str) -> None:
    fake.unionid = "union-7"
    status, body = await _login(wx, "xyz")
    assert status == 200
    assert "session_key" not in body and fake.session_keys[0] not in str(body)
    conn = await asyncpg.connect(db_dsn)
    try:
        row = await conn.fetchrow("SELECT openid, unionid FROM residents WHERE id = $1", body["resident_id"])
        assert row["openid"] == "o-xyz" and row["unionid"] == "union-7"
        # nowhere in the database: dump every text column of every table
        dump = (
            await conn.fetchval("SELECT string_agg(t::text, ' ') FROM (SELECT * FROM residents) t")
            + str(await conn.fetch("SELECT * FROM audit_log"))
            + str(await conn.fetch("SELECT * FROM auth_tokens"))
        )
        assert "SESSIONKEY" not in dump
    finally:
        await conn.close()


@pytest.mark.parametrize(
    ("mode", "status", "code"),
    [
        ("invalid_code", 401, "unauthorized"),
        ("used_code", 401, "unauthorized"),
        ("blocked", 401, "unauthorized"),
        ("rate_limited", 503, "unavailable"),
        ("http_500", 503, "unavailable"),
        ("garbage", 503, "unavailable"),
        ("bad_secret", 503, "unavailable"),
    ],
)
async def test_wechat_failures_map_to_clear_errors(
    wx: Api, fake: FakeWeChat, mode: str, status: int, code: str
) -> None:
    fake.mode = mode
    got, body = await _login(wx)
    assert got == status, body
    assert body["error"]["code"] == code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["error"]["message"])  # a Chinese message


async def test_slow_wechat_times_out_within_the_bound(wx: Api, fake: FakeWeChat) -> None:
    fake.mode = "slow"
    started = time.monotonic()
    status, body = await _login(wx)
    elapsed = time.monotonic() - started
    assert status == 503 and body["error"]["code"] == "unavailable"
    assert elapsed < TIMEOUT + 3.0  # bounded: the fake would take 10 s


async def test_wechat_down_is_503(db_dsn: str) -> None:
    settings = make_settings(
        db_dsn,
        wechat_appid=APPID,
        wechat_secret=SECRET,
        wechat_api_base="http://127.0.0.1:9",
        wechat_timeout_seconds=TIMEOUT,
    )
    async with TestClient(TestServer(create_app(settings))) as c:
        status, body = await Api(c, settings).call("POST", "/auth/wechat", json={"code": "c"})
    assert status == 503 and body["error"]["code"] == "unavailable"


async def test_not_configured_is_503(api: Api) -> None:
    status, body = await api.call("POST", "/auth/wechat", json={"code": "c"})
    assert status == 503 and "微信" in body["error"]["message"]


async def test_login_failures_are_audited(wx: Api, fake: FakeWeChat) -> None:
    fake.mode = "invalid_code"
    await _login(wx)
    fake.mode = "ok"
    status, body = await _login(wx)
    assert status == 200
    page = await wx.ok("GET", "/admin/audit?action=auth.wechat", await wx.bureau())
    outcomes = [(e["success"], e["actor_id"]) for e in page["items"]]
    assert outcomes == [(True, body["resident_id"]), (False, None)]


# --- content screening ------------------------------------------------------------------------


async def _resident_with_lawyer(api: Api) -> tuple[User, int]:
    city = await api.city()
    lawyer = await api.lawyer()
    await api.duty(city.community_id, lawyer)
    status, body = await api.call("POST", "/auth/wechat", json={"code": "asker"})
    assert status == 200, body
    return User(body["token"], body["resident_id"], "resident"), city.community_id


async def _review_flag(dsn: str, question_id: int) -> str | None:
    conn = await asyncpg.connect(dsn)
    try:
        flag: str | None = await conn.fetchval("SELECT review_flag FROM questions WHERE id = $1", question_id)
        return flag
    finally:
        await conn.close()


async def test_passing_question_is_routed_and_checked_with_v2(wx: Api, fake: FakeWeChat, db_dsn: str) -> None:
    resident, community = await _resident_with_lawyer(wx)
    q = await wx.ask(resident, community, "房东不退押金怎么办？")
    assert q["status"] == "pending"
    (check,) = fake.checks()
    assert (
        check["version"] == 2 and check["openid"] == "o-asker" and check["content"] == "房东不退押金怎么办？"
    )
    assert await _review_flag(db_dsn, q["id"]) is None


async def test_risky_question_is_refused_and_not_stored(wx: Api, fake: FakeWeChat, db_dsn: str) -> None:
    resident, community = await _resident_with_lawyer(wx)
    fake.check_mode = "risky"
    status, body = await wx.call(
        "POST", "/questions", resident, {"community_id": community, "content": "违规内容测试测试"}
    )
    assert status == 422 and body["error"]["details"][0]["field"] == "content"
    assert "违法违规" in body["error"]["message"]
    assert await wx.ok("GET", "/questions", resident) == []


@pytest.mark.parametrize("mode", ["http_500", "slow", "error"])
async def test_wechat_outage_accepts_routes_and_flags(
    wx: Api, fake: FakeWeChat, db_dsn: str, mode: str
) -> None:
    resident, community = await _resident_with_lawyer(wx)
    fake.check_mode = mode
    started = time.monotonic()
    q = await wx.ask(resident, community, "工资被拖欠三个月了")
    assert time.monotonic() - started < TIMEOUT + 3.0
    assert q["status"] == "pending" and q["assigned_lawyer_id"] is not None
    assert await _review_flag(db_dsn, q["id"]) == "wechat_unreachable"


async def test_review_verdict_is_accepted_but_flagged(wx: Api, fake: FakeWeChat, db_dsn: str) -> None:
    resident, community = await _resident_with_lawyer(wx)
    fake.check_mode = "review"
    q = await wx.ask(resident, community, "邻居噪音扰民怎么办")
    assert await _review_flag(db_dsn, q["id"]) == "wechat_review"


async def test_expired_access_token_is_refreshed_once(wx: Api, fake: FakeWeChat, db_dsn: str) -> None:
    resident, community = await _resident_with_lawyer(wx)
    fake.check_mode = "token_expired_once"
    q = await wx.ask(resident, community, "合同纠纷怎么处理")
    assert await _review_flag(db_dsn, q["id"]) is None
    assert fake.tokens_issued == 2


async def test_follow_ups_are_screened(wx: Api, fake: FakeWeChat, db_dsn: str) -> None:
    resident, community = await _resident_with_lawyer(wx)
    q = await wx.ask(resident, community, "交通事故对方不赔偿")
    fake.check_mode = "risky"
    status, body = await wx.call("POST", f"/questions/{q['id']}/messages", resident, {"content": "坏内容"})
    assert status == 422, body
    fake.check_mode = "http_500"
    msg = await wx.ok(
        "POST", f"/questions/{q['id']}/messages", resident, {"content": "补充一下情况"}, status=201
    )
    conn = await asyncpg.connect(db_dsn)
    try:
        flag = await conn.fetchval("SELECT review_flag FROM messages WHERE id = $1", msg["id"])
        count = await conn.fetchval("SELECT count(*) FROM messages WHERE question_id = $1", q["id"])
    finally:
        await conn.close()
    assert flag == "wechat_unreachable" and count == 1
    assert [c["content"] for c in fake.checks()][-2:] == ["坏内容", "补充一下情况"]


async def test_over_the_limit_is_refused_before_any_wechat_check(
    db_dsn: str, fake: FakeWeChat, wx_settings: Settings
) -> None:
    settings = wx_settings.model_copy(update={"rate_questions_per_hour": 1})
    async with TestClient(TestServer(create_app(settings))) as c:
        api = Api(c, settings)
        resident, community = await _resident_with_lawyer(api)
        await api.ask(resident, community, "房东不退押金怎么办？")
        assert len(fake.checks()) == 1
        again = {"community_id": community, "content": "押金的事还想再问一次"}
        status, body = await api.call("POST", "/questions", resident, again)
        assert status == 429 and body["error"]["details"][0]["field"] == "questions_per_hour"
        assert len(fake.checks()) == 1  # refused early: no WeChat call spent on it
