"""WeChat mini-program rules: login by code (code2Session) and screening of residents' text (msgSecCheck).

`session_key` is never stored nor returned: this service needs only the openid, and a stored key
would let anyone who reads the database decrypt the user's WeChat data.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from fazhizhen.clients.wechat import WeChatClient, WeChatError, client_for
from fazhizhen.errors import Forbidden, InvalidInput, Unauthorized, Unavailable
from fazhizhen.log import get_logger
from fazhizhen.repo import security as repo
from fazhizhen.services import audit, ratelimit
from fazhizhen.services.auth import issue_token
from fazhizhen.settings import Settings

log = get_logger("fazhizhen.wechat")

REVIEW_UNREACHABLE = "wechat_unreachable"
REVIEW_SUGGESTED = "wechat_review"


def configured(settings: Settings) -> bool:
    """Whether an app id and secret are set."""
    return bool(
        settings.wechat_appid and settings.wechat_secret and settings.wechat_secret.get_secret_value()
    )


def client(settings: Settings) -> WeChatClient:
    """The WeChat client for these settings (503 when WeChat is not configured)."""
    if not configured(settings):
        raise Unavailable("微信登录未配置，请联系管理员")
    assert settings.wechat_appid is not None and settings.wechat_secret is not None
    return client_for(
        settings.wechat_api_base,
        settings.wechat_appid,
        settings.wechat_secret.get_secret_value(),
        settings.wechat_timeout_seconds,
    )


def _login_error(exc: WeChatError) -> Exception:
    if exc.kind == "invalid_code":
        return Unauthorized("微信登录凭证无效或已过期，请重新登录", wechat_errcode=exc.errcode)
    if exc.kind == "blocked":
        return Unauthorized("该微信账号存在安全风险，暂时无法登录", wechat_errcode=exc.errcode)
    if exc.kind == "rate_limited":
        return Unavailable("微信登录请求过于频繁，请稍后再试", wechat_errcode=exc.errcode)
    if exc.kind == "config":
        return Unavailable("微信登录配置有误，请联系管理员", wechat_errcode=exc.errcode)
    return Unavailable("微信服务暂时不可用，请稍后再试", wechat_errcode=exc.errcode)


async def login(conn: asyncpg.Connection, settings: Settings, code: str, client_addr: str) -> dict[str, Any]:
    """Exchange a wx.login code for a resident token: find or create the resident by openid."""
    await ratelimit.hit(
        conn,
        f"wechat_login:{client_addr}",
        settings.wechat_logins_per_address_per_minute,
        60,
        "登录请求过于频繁，请稍后再试",
    )
    wc = client(settings)
    try:
        data = await wc.code2session(code)
    except WeChatError as exc:
        log.warning("wechat_login_failed", kind=exc.kind, errcode=exc.errcode)
        await audit.record(
            conn,
            "auth.wechat",
            success=False,
            client_addr=client_addr,
            details={"reason": exc.kind, "errcode": exc.errcode},
        )
        raise _login_error(exc) from None
    unionid = data.get("unionid") if isinstance(data.get("unionid"), str) else None
    resident = await repo.upsert_resident_wechat(conn, data["openid"][:128], unionid)
    if resident["deleted_at"] is not None:
        raise Forbidden("该账号已注销")
    out = await issue_token(conn, settings, "resident", resident_id=resident["id"])
    out["resident_id"] = resident["id"]
    await audit.record(
        conn, "auth.wechat", actor_role="resident", actor_id=resident["id"], client_addr=client_addr
    )
    log.info("wechat_login_succeeded", resident_id=resident["id"], unionid_known=unionid is not None)
    return out


async def screen(conn: asyncpg.Connection, settings: Settings, resident_id: int, content: str) -> str | None:
    """Check a resident's text with msgSecCheck: 422 if risky; a review flag when WeChat could not tell.

    Never blocks on WeChat's outage: an unreachable WeChat yields the `wechat_unreachable` flag and the
    text goes through to be reviewed by people later.
    """
    if not settings.wechat_content_check or not configured(settings):
        return None
    openid = await repo.resident_openid(conn, resident_id)
    if not openid:
        return None
    try:
        data = await client(settings).msg_sec_check(openid, content)
    except WeChatError as exc:
        log.warning("content_check_unavailable", resident_id=resident_id, kind=exc.kind, errcode=exc.errcode)
        return REVIEW_UNREACHABLE
    result = data.get("result")
    if not isinstance(result, dict):
        result = {}
    suggest = result.get("suggest")
    if suggest == "risky":
        log.info("content_refused", resident_id=resident_id, label=result.get("label"))
        raise InvalidInput(
            "内容可能含有违法违规信息，请修改后再提交",
            details=[
                {"field": "content", "message": "refused by content security check", "type": "content_risky"}
            ],
        )
    if suggest == "pass":
        return None
    return REVIEW_SUGGESTED
