"""WeChat subscribe messages to residents (`subscribeMessage.send`), with the process's one access-token
cache (fazhizhen/clients/wechat.py), shared with the content checks."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp

from fazhizhen.clients.wechat import WeChatClient, client_for
from fazhizhen.services.categories import category_name
from fazhizhen.services.outbox import PermanentFailure, Skip
from fazhizhen.settings import Settings

Record = dict[str, Any]

# errcodes: token invalid/expired (refresh and retry), and refusals that no retry can fix
TOKEN_ERRORS = {40001, 40014, 42001}
PERMANENT_ERRORS = {40003, 40037, 41030, 43101, 47003}


class WechatError(Exception):
    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"wechat errcode {errcode}: {errmsg}")
        self.errcode = errcode


class WechatSender:
    """Send the 'answered' and 'followup_answered' subscribe messages."""

    def __init__(self, session: aiohttp.ClientSession, settings: Settings) -> None:
        self.session = session
        self.settings = settings
        self.timeout = aiohttp.ClientTimeout(total=settings.http_timeout_seconds)

    def _templates(self) -> dict[str, str | None]:
        s = self.settings
        return {"answered": s.wechat_template_answered, "followup_answered": s.wechat_template_followup}

    async def _post(self, path: str, body: dict[str, Any], params: dict[str, str] | None = None) -> Record:
        url = self.settings.wechat_api_base.rstrip("/") + path
        async with self.session.post(url, json=body, params=params, timeout=self.timeout) as resp:
            if resp.status != 200:
                raise RuntimeError(f"wechat answered HTTP {resp.status}")
            data: Record = await resp.json(content_type=None)
        if data.get("errcode", 0) != 0:
            raise WechatError(int(data["errcode"]), str(data.get("errmsg", "")))
        return data

    def _client(self) -> WeChatClient:
        s = self.settings
        secret = s.wechat_secret.get_secret_value() if s.wechat_secret else ""
        return client_for(s.wechat_api_base, s.wechat_appid or "", secret, s.http_timeout_seconds)

    async def access_token(self) -> str:
        """The mini-program's access token, from the process's one cache."""
        return await self._client().access_token()

    def message(self, row: Record, template_id: str) -> Record:
        tz = ZoneInfo(self.settings.timezone)
        answered = datetime.fromisoformat(str(row["payload"].get("answered_at")))
        followup = row["kind"] == "followup_answered"
        hint = "律师已回复您的追问，请点击查看" if followup else "律师已解答您的咨询，请点击查看"
        return {
            "touser": row["openid"],
            "template_id": template_id,
            "page": self.settings.wechat_page.format(question_id=row["question_id"]),
            "miniprogram_state": self.settings.wechat_miniprogram_state,
            "lang": "zh_CN",
            "data": {
                "thing1": {"value": (category_name(row["category"]) or "法律咨询")[:20]},
                "time2": {"value": answered.astimezone(tz).strftime("%Y年%m月%d日 %H:%M")},
                "thing3": {"value": hint[:20]},
            },
        }

    async def send(self, row: Record) -> None:
        template_id = self._templates().get(row["kind"])
        if not self.settings.wechat_appid or not template_id:
            raise Skip("wechat subscribe messages not configured")
        if not row["openid"]:
            raise Skip("resident has no openid")
        body = self.message(row, template_id)
        token = await self.access_token()
        try:
            await self._post("/cgi-bin/message/subscribe/send", body, {"access_token": token})
        except WechatError as exc:
            if exc.errcode in TOKEN_ERRORS:  # dropped for every caller; the outbox retries this row
                self._client().tokens.invalidate(token)
            if exc.errcode in PERMANENT_ERRORS:
                raise PermanentFailure(str(exc)) from exc
            raise
