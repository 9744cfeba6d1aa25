"""A fake WeChat API server for tests: code2Session, the access token and msgSecCheck, with failure modes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

APPID = "wx-test-app"
SECRET = "test-secret-0123456789"


@dataclass
class FakeWeChat:
    """State and behaviour of the fake; tests flip `mode` / `check_mode` to produce failures."""

    base: str = ""
    # login: ok | invalid_code | used_code | rate_limited | blocked | http_500 | slow | garbage | bad_secret
    mode: str = "ok"
    # content check: pass | risky | review | http_500 | slow | token_expired_once | error
    check_mode: str = "pass"
    unionid: str | None = None
    slow_seconds: float = 10.0
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    tokens_issued: int = 0
    session_keys: list[str] = field(default_factory=list)
    _expired_once: bool = False

    def text(self, payload: Any) -> web.Response:
        # WeChat answers JSON with a text/plain content type
        return web.Response(text=json.dumps(payload), content_type="text/plain")

    async def code2session(self, request: web.Request) -> web.StreamResponse:
        q = dict(request.query)
        self.calls.append(("jscode2session", q))
        if q.get("appid") != APPID or q.get("secret") != SECRET or self.mode == "bad_secret":
            return self.text({"errcode": 40125, "errmsg": "invalid appsecret"})
        if q.get("grant_type") != "authorization_code":
            return self.text({"errcode": 40002, "errmsg": "invalid grant_type"})
        if self.mode == "slow":
            await asyncio.sleep(self.slow_seconds)
        if self.mode == "http_500":
            return web.Response(status=502, text="<html>bad gateway</html>", content_type="text/html")
        if self.mode == "garbage":
            return web.Response(text="<html>not json</html>", content_type="text/html")
        codes = {"invalid_code": 40029, "used_code": 40163, "rate_limited": 45011, "blocked": 40226}
        if self.mode in codes:
            return self.text({"errcode": codes[self.mode], "errmsg": self.mode})
        code = q.get("js_code", "")
        session_key = f"SESSIONKEY-{code}-secret"
        self.session_keys.append(session_key)
        body: dict[str, Any] = {"openid": f"o-{code}", "session_key": session_key}
        if self.unionid:
            body["unionid"] = self.unionid
        return self.text(body)

    async def token(self, request: web.Request) -> web.StreamResponse:
        q = await request.json()
        self.calls.append(("stable_token", q))
        if q.get("appid") != APPID or q.get("secret") != SECRET or q.get("grant_type") != "client_credential":
            return self.text({"errcode": 40125, "errmsg": "invalid appsecret"})
        self.tokens_issued += 1
        return self.text({"access_token": f"AT-{self.tokens_issued}", "expires_in": 7200})

    async def msg_sec_check(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.calls.append(("msg_sec_check", {**dict(request.query), **body}))
        if request.query.get("access_token") != f"AT-{self.tokens_issued}":
            return self.text({"errcode": 40001, "errmsg": "invalid credential"})
        if self.check_mode == "token_expired_once" and not self._expired_once:
            self._expired_once = True
            return self.text({"errcode": 42001, "errmsg": "access_token expired"})
        if self.check_mode == "slow":
            await asyncio.sleep(self.slow_seconds)
        if self.check_mode == "http_500":
            return web.Response(status=503, text="busy")
        if self.check_mode == "error":
            return self.text({"errcode": -1, "errmsg": "system error"})
        if body.get("version") != 2 or not body.get("openid") or not body.get("content"):
            return self.text({"errcode": 47001, "errmsg": "data format error"})
        suggest = "pass" if self.check_mode == "token_expired_once" else self.check_mode
        label = {"pass": 100, "risky": 20001, "review": 21000}[suggest]
        return self.text(
            {
                "errcode": 0,
                "errmsg": "ok",
                "result": {"suggest": suggest, "label": label},
                "detail": [{"strategy": "content_model", "errcode": 0, "suggest": suggest, "label": label}],
                "trace_id": "trace",
            }
        )

    def checks(self) -> list[dict[str, Any]]:
        return [c for name, c in self.calls if name == "msg_sec_check"]


async def start_fake_wechat() -> AsyncIterator[FakeWeChat]:
    """Run the fake on 127.0.0.1 (a free port) while the iterator is open."""
    fake = FakeWeChat()
    app = web.Application()
    app.router.add_get("/sns/jscode2session", fake.code2session)
    app.router.add_post("/cgi-bin/stable_token", fake.token)
    app.router.add_post("/wxa/msg_sec_check", fake.msg_sec_check)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    fake.base = f"http://127.0.0.1:{port}"
    try:
        yield fake
    finally:
        await runner.cleanup()
