"""One access-token cache per mini-program: shared by content checks and subscribe messages, one refresh
at a time, dropped when WeChat refuses the token."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from fazhizhen.channels.wechat import WechatSender
from fazhizhen.clients import wechat
from tests.conftest import make_settings
from tests.realtime.fakes import serve

APPID, SECRET = "wx-token-test", "token-secret"


@dataclass
class StableTokenFake:
    """stable_token as WeChat documents it: the same token until it is forced (or revoked here)."""

    url: str = ""
    issued: int = 0
    forced: int = 0
    requests: int = 0
    revoked: set[str] = field(default_factory=set)
    delay: float = 0.0

    @property
    def current(self) -> str:
        return f"T{self.issued}"

    async def token(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests += 1
        await asyncio.sleep(self.delay)  # a slow WeChat: concurrent callers pile up behind one refresh
        if body["force_refresh"] or self.issued == 0:
            self.forced += bool(body["force_refresh"])
            self.issued += 1
        return web.json_response({"access_token": self.current, "expires_in": 7200})

    def _refused(self, request: web.Request) -> dict[str, Any] | None:
        token = request.query.get("access_token", "")
        if token in self.revoked:
            return {"errcode": 42001, "errmsg": "access_token expired"}
        if token != self.current:
            return {"errcode": 40001, "errmsg": "invalid credential"}
        return None

    async def check(self, request: web.Request) -> web.Response:
        refused = self._refused(request)
        return web.json_response(refused or {"errcode": 0, "result": {"suggest": "pass", "label": 100}})

    async def send(self, request: web.Request) -> web.Response:
        return web.json_response(self._refused(request) or {"errcode": 0, "errmsg": "ok"})


@pytest.fixture
async def fake() -> AsyncIterator[StableTokenFake]:
    fake = StableTokenFake()
    app = web.Application()
    app.router.add_post("/cgi-bin/stable_token", fake.token)
    app.router.add_post("/wxa/msg_sec_check", fake.check)
    app.router.add_post("/cgi-bin/message/subscribe/send", fake.send)
    async with serve(app, fake):  # type: ignore[arg-type]  # sets fake.url
        yield fake
        await wechat.close_all()


def _client(fake: StableTokenFake, timeout: float = 2.0) -> wechat.WeChatClient:
    return wechat.client_for(fake.url, APPID, SECRET, timeout)


def test_tokens_are_used_until_well_before_they_expire() -> None:
    assert wechat.fresh_for(7200) == 6900  # five minutes early
    assert wechat.fresh_for(400) == 200  # what stable_token reports left of a token: use half of it
    assert wechat.fresh_for(0) == 0


async def test_concurrent_callers_share_one_refresh(fake: StableTokenFake) -> None:
    fake.delay = 0.2
    tokens = await asyncio.gather(*(_client(fake).access_token() for _ in range(20)))
    assert set(tokens) == {"T1"} and fake.requests == 1


async def test_content_checks_and_subscribe_messages_share_the_token(fake: StableTokenFake, db_dsn: str) -> None:
    settings = make_settings(
        db_dsn,
        wechat_appid=APPID,
        wechat_secret=SECRET,
        wechat_api_base=fake.url,
        wechat_template_answered="tmpl",
        http_timeout_seconds=1.5,  # another time-out than the content check's: another client, same cache
    )
    await _client(fake).msg_sec_check("openid-1", "邻居噪音扰民怎么办")
    sender = WechatSender(None, settings)  # type: ignore[arg-type]  # the token comes from the shared cache
    assert await sender.access_token() == "T1"
    assert fake.requests == 1


async def test_a_refused_token_is_replaced_once_for_all_callers(fake: StableTokenFake) -> None:
    client = _client(fake)
    assert await client.access_token() == "T1"
    fake.revoked.add("T1")  # WeChat now answers 42001 for it, yet stable_token keeps handing it out
    fake.delay = 0.1
    results = await asyncio.gather(*(client.msg_sec_check(f"openid-{i}", "合同纠纷") for i in range(10)))
    assert all(r["result"]["suggest"] == "pass" for r in results)
    # one refresh for the ten callers, and it was forced because the normal one returned the refused token
    assert (fake.issued, fake.forced) == (2, 1)
    assert fake.requests == 3  # the first fetch, the normal refresh, the forced one
