"""The WeChat server API over aiohttp: code2Session, the access token, msgSecCheck (v2).

Every call has a bounded total timeout; every failure becomes a `WeChatError` with a `kind` the
service layer maps to an answer: `invalid_code`, `rate_limited`, `blocked`, `config`, `unavailable`.

The access token is cached once per mini-program and process (`TokenCache`), for every caller: content
checks here and subscribe messages (fazhizhen/channels/wechat.py) alike. One refresh at a time (callers
that find it stale while another refreshes wait for that refresh), a refresh well before expiry, and
a token WeChat refuses (40001, 42001, 40014) is dropped so the next caller fetches another.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from fazhizhen.log import get_logger

log = get_logger("fazhizhen.wechat")

# errcode -> kind; anything not listed is `unavailable`
_KINDS = {
    40029: "invalid_code",  # invalid code
    40163: "invalid_code",  # code already used
    40226: "blocked",  # high-risk user
    45011: "rate_limited",  # API minute-quota reached
    40013: "config",  # invalid appid
    40125: "config",  # invalid appsecret
    41002: "config",
    41004: "config",
    40001: "token",  # access token invalid
    42001: "token",  # access token expired
    40014: "token",
}


class WeChatError(Exception):
    """A failed WeChat call: `kind` says what the caller should do about it."""

    def __init__(self, kind: str, errcode: int | None = None, errmsg: str = "") -> None:
        super().__init__(f"wechat {kind} (errcode={errcode}): {errmsg}")
        self.kind = kind
        self.errcode = errcode
        self.errmsg = errmsg


EXPIRY_MARGIN_SECONDS = 300.0


def fresh_for(expires_in: float) -> float:
    """How long to use a token WeChat says is valid `expires_in` more seconds: until 5 minutes before
    that, or half of it when it is short (stable_token reports what is left of the current token)."""
    if expires_in > 2 * EXPIRY_MARGIN_SECONDS:
        return expires_in - EXPIRY_MARGIN_SECONDS
    return max(0.0, expires_in / 2)


Fetch = Callable[[bool], Awaitable[tuple[str, float]]]  # force_refresh -> (token, expires_in)


class TokenCache:
    """One mini-program's access token, shared by every caller in the process."""

    def __init__(self) -> None:
        self._token: str | None = None
        self._fresh_until = 0.0
        self._rejected: str | None = None
        self._lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.refreshes = 0

    def _current(self) -> str | None:
        return self._token if self._token is not None and time.monotonic() < self._fresh_until else None

    def _lock_here(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()  # a lock serves one event loop (tests run one per test)
        if self._lock is None or self._loop is not loop:
            self._lock, self._loop = asyncio.Lock(), loop
        return self._lock

    async def get(self, fetch: Fetch) -> str:
        """The cached token, or a new one from `fetch` (one refresh at a time)."""
        token = self._current()
        if token is not None:
            return token
        async with self._lock_here():
            token = self._current()
            if token is not None:  # refreshed by the caller we waited for
                return token
            token, expires_in = await fetch(False)
            if token == self._rejected:  # WeChat handed back the token it has just refused: force a new one
                token, expires_in = await fetch(True)
            self.refreshes += 1
            self._token, self._rejected = token, None
            self._fresh_until = time.monotonic() + fresh_for(expires_in)
            return token

    def invalidate(self, token: str) -> None:
        """WeChat refused `token`: drop it, unless another caller has already replaced it."""
        if self._token == token:
            self._token, self._rejected = None, token


_tokens: dict[tuple[str, str], TokenCache] = {}


def token_cache(api_base: str, appid: str) -> TokenCache:
    """The process's access-token cache of one mini-program."""
    key = (api_base.rstrip("/"), appid)
    found = _tokens.get(key)
    if found is None:
        found = _tokens[key] = TokenCache()
    return found


class WeChatClient:
    """One mini-program's credentials and a lazily opened HTTP session (re-opened after close)."""

    def __init__(self, api_base: str, appid: str, secret: str, timeout: float) -> None:
        self.api_base = api_base.rstrip("/")
        self.appid = appid
        self._secret = secret
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def tokens(self) -> TokenCache:
        """The process-wide access-token cache of this mini-program."""
        return token_cache(self.api_base, self.appid)

    def _http(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._loop is not loop:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
            self._loop = loop
        return self._session

    async def close(self) -> None:
        """Close the HTTP session (a later call opens a new one)."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def _call(
        self, method: str, path: str, *, params: dict[str, str], body: Any = None
    ) -> dict[str, Any]:
        started = time.perf_counter()
        try:
            async with self._http().request(method, self.api_base + path, params=params, json=body) as resp:
                text = await resp.text()
                if resp.status >= 500 or resp.status == 429:
                    raise WeChatError(
                        "rate_limited" if resp.status == 429 else "unavailable", None, f"HTTP {resp.status}"
                    )
                data = json.loads(text)  # WeChat answers JSON as text/plain
        except WeChatError:
            raise
        except (TimeoutError, aiohttp.ClientError, ValueError, UnicodeDecodeError) as exc:
            log.warning(
                "wechat_call_failed",
                path=path,
                error=type(exc).__name__,
                ms=round((time.perf_counter() - started) * 1000),
            )
            raise WeChatError("unavailable", None, type(exc).__name__) from None
        if not isinstance(data, dict):
            raise WeChatError("unavailable", None, "not a JSON object")
        code = data.get("errcode") or 0
        if code:
            kind = _KINDS.get(code, "unavailable") if isinstance(code, int) else "unavailable"
            log.warning("wechat_call_refused", path=path, errcode=code, kind=kind)
            raise WeChatError(
                kind, code if isinstance(code, int) else None, str(data.get("errmsg", ""))[:200]
            )
        return data

    async def code2session(self, code: str) -> dict[str, Any]:
        """Exchange a wx.login code for {openid, unionid?, session_key}."""
        data = await self._call(
            "GET",
            "/sns/jscode2session",
            params={
                "appid": self.appid,
                "secret": self._secret,
                "js_code": code,
                "grant_type": "authorization_code",
            },
        )
        if not isinstance(data.get("openid"), str) or not data["openid"]:
            raise WeChatError("unavailable", None, "no openid in answer")
        return data

    async def access_token(self) -> str:
        """The mini-program's access token (the process-wide cache, fetched when missing or near expiry)."""
        return await self.tokens.get(self._fetch_token)

    async def _fetch_token(self, force_refresh: bool) -> tuple[str, float]:
        # stable_token: every process can fetch one without invalidating the others' (the plain
        # /cgi-bin/token would); force_refresh only when WeChat refused the token it keeps handing out
        data = await self._call(
            "POST",
            "/cgi-bin/stable_token",
            params={},
            body={
                "grant_type": "client_credential",
                "appid": self.appid,
                "secret": self._secret,
                "force_refresh": force_refresh,
            },
        )
        token = data.get("access_token")
        if not isinstance(token, str) or not token:
            raise WeChatError("unavailable", None, "no access_token in answer")
        expires = data.get("expires_in")
        return token, float(expires) if isinstance(expires, int | float) and expires > 0 else 7200.0

    async def msg_sec_check(self, openid: str, content: str, scene: int = 2) -> dict[str, Any]:
        """msgSecCheck v2: the answer's `result` holds `suggest` (pass, review or risky) and `label`."""
        for attempt in range(2):
            token = await self.access_token()
            try:
                return await self._call(
                    "POST",
                    "/wxa/msg_sec_check",
                    params={"access_token": token},
                    body={"content": content, "version": 2, "scene": scene, "openid": openid},
                )
            except WeChatError as exc:
                if exc.kind != "token" or attempt:
                    raise
                self.tokens.invalidate(token)
        raise WeChatError("unavailable")  # pragma: no cover


_clients: dict[tuple[str, str, str, float], WeChatClient] = {}


def client_for(api_base: str, appid: str, secret: str, timeout: float) -> WeChatClient:
    """The shared client of one mini-program and time-out (the access token is shared across all of them)."""
    key = (api_base, appid, secret, timeout)
    found = _clients.get(key)
    if found is None:
        found = _clients[key] = WeChatClient(api_base, appid, secret, timeout)
    return found


async def close_all() -> None:
    """Close every client's HTTP session and forget the tokens (at application shutdown)."""
    for c in list(_clients.values()):
        await c.close()
    _tokens.clear()
