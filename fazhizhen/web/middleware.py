"""Request ids, authentication, and the one JSON error shape for every failure."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

import structlog
from aiohttp import web

from fazhizhen.db.pool import translate
from fazhizhen.errors import DomainError, RateLimited
from fazhizhen.keys import PRINCIPAL, TOKENS
from fazhizhen.log import get_logger
from fazhizhen.services import auth
from fazhizhen.web.jsonio import dumps

log = get_logger("fazhizhen.web")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_HTTP_CODES = {
    400: ("bad_request", "请求不合法"),
    401: ("unauthorized", "请先登录"),
    403: ("forbidden", "无权访问"),
    404: ("not_found", "接口或资源不存在"),
    405: ("method_not_allowed", "不支持该请求方法"),
    409: ("conflict", "状态冲突"),
    413: ("payload_too_large", "请求体过大"),
    415: ("unsupported_media_type", "不支持的内容类型"),
    422: ("invalid_input", "请求参数不合法"),
    429: ("rate_limited", "请求过于频繁"),
    503: ("unavailable", "服务暂时不可用"),
}


def error_response(
    status: int,
    code: str,
    message: str,
    details: list[dict[str, object]] | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    """The contract's error body."""
    body = {"error": {"code": code, "message": message, "details": details or []}}
    return web.Response(status=status, text=dumps(body), content_type="application/json", headers=headers)


@web.middleware
async def request_context(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Bind a request id (from X-Request-ID or fresh) to every log line of this request."""
    rid = request.headers.get("X-Request-ID", "")[:64] or uuid.uuid4().hex
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(request_id=rid)
    try:
        response = await handler(request)
    finally:
        structlog.contextvars.unbind_contextvars("request_id")
    response.headers["X-Request-ID"] = rid
    return response


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Domain errors and HTTP errors to the JSON shape; anything else logged and answered with a bare 500."""
    try:
        return await handler(request)
    except DomainError as exc:
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
        return error_response(exc.status, exc.code, exc.message, exc.details, headers)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code, message = _HTTP_CODES.get(exc.status, ("http_error", exc.reason))
        return error_response(
            exc.status,
            code,
            message,
            headers={k: v for k, v in exc.headers.items() if k.lower() in ("allow", "retry-after")},
        )
    except Exception as exc:
        mapped = translate(exc)
        if isinstance(mapped, DomainError):
            log.warning("request_failed_database", path=request.path, error=type(exc).__name__)
            return error_response(mapped.status, mapped.code, mapped.message, mapped.details)
        log.exception("request_failed", path=request.path, method=request.method)
        return error_response(500, "internal", "服务器内部错误")


async def principal(request: web.Request, *roles: str) -> auth.Principal:
    """The caller, who must have one of `roles` (401 without a valid token, 403 with another role)."""
    found = request.get(PRINCIPAL)
    if found is None:
        found = await auth.authenticate(request.app[TOKENS], request.headers.get("Authorization"))
        authenticated(request, found)
    return auth.require(found, *roles)


def authenticated(request: web.Request, who: auth.Principal) -> None:
    """Record the caller the request's token named (for the audit log and every later log line)."""
    request[PRINCIPAL] = who
    structlog.contextvars.bind_contextvars(role=who.role, principal_id=who.id)
