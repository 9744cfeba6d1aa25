"""Local stand-ins for WeChat's API and a webhook receiver, with scripted failures and time-outs."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Fake:
    """Scripted answers: each request pops the next mode ('ok' when the script is empty)."""

    script: list[str] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)
    tokens_issued: int = 0
    delay: float = 0.0
    url: str = ""

    def next_mode(self) -> str:
        return self.script.pop(0) if self.script else "ok"


async def _answer(fake: Fake, mode: str, ok: dict[str, Any]) -> web.Response:
    if mode == "timeout":
        await asyncio.sleep(30)
    if mode.startswith("http"):
        return web.Response(status=int(mode[4:]), text="error")
    if mode.startswith("errcode"):
        return web.json_response({"errcode": int(mode[7:]), "errmsg": "scripted"})
    return web.json_response(ok)


def wechat_app(fake: Fake) -> web.Application:
    async def stable_token(request: web.Request) -> web.Response:
        body = await request.json()
        assert body["grant_type"] == "client_credential" and body["appid"] and body["secret"]
        fake.tokens_issued += 1
        return web.json_response({"access_token": f"token-{fake.tokens_issued}", "expires_in": 7200})

    async def send(request: web.Request) -> web.Response:
        body = await request.json()
        mode = fake.next_mode()
        if mode == "ok" and request.query.get("access_token") != f"token-{fake.tokens_issued}":
            mode = "errcode40001"
        fake.received.append({"body": body, "token": request.query.get("access_token"), "mode": mode})
        return await _answer(fake, mode, {"errcode": 0, "errmsg": "ok", "msgid": len(fake.received)})

    app = web.Application()
    app.router.add_post("/cgi-bin/stable_token", stable_token)
    app.router.add_post("/cgi-bin/message/subscribe/send", send)
    return app


def receiver_app(fake: Fake) -> web.Application:
    async def hook(request: web.Request) -> web.Response:
        raw = await request.read()
        mode = fake.next_mode()
        fake.received.append(
            {"headers": dict(request.headers), "raw": raw, "body": json.loads(raw), "mode": mode}
        )
        if fake.delay:
            await asyncio.sleep(fake.delay)
        return await _answer(fake, mode, {"ok": True})

    app = web.Application()
    app.router.add_post("/hook", hook)
    return app


@asynccontextmanager
async def serve(app: web.Application, fake: Fake, path: str = "") -> AsyncIterator[Fake]:
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    fake.url = f"http://127.0.0.1:{port}{path}"
    try:
        yield fake
    finally:
        await runner.cleanup()
