"""Web-side security: client addresses, security headers on every response, and the audit middleware."""

from __future__ import annotations

import json

from aiohttp import web

from fazhizhen.keys import DB_POOL, PRINCIPAL, SETTINGS
from fazhizhen.log import get_logger
from fazhizhen.services import audit
from fazhizhen.web.middleware import Handler

log = get_logger("fazhizhen.web.security")

API = "/api/v1"
STAFF = ("lawyer", "worker", "bureau")
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")

_COMMON_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    "X-Permitted-Cross-Domain-Policies": "none",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
}
# API answers are data, never documents: nothing may load from or frame them
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# the dashboard: own scripts only (no inline script), inline styles allowed
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)


def client_addr(request: web.Request) -> str:
    """The caller's address: the last X-Forwarded-For hop when behind a trusted proxy, else the peer."""
    if request.app[SETTINGS].trust_forwarded_for:
        forwarded = request.headers.get("X-Forwarded-For", "")
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        if hops:
            return hops[-1][:64]
    return (request.remote or "unknown")[:64]


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: security headers on every response, errors and streams included."""
    for name, value in _COMMON_HEADERS.items():
        response.headers.setdefault(name, value)
    response.headers["Server"] = "fazhizhen"
    html = response.content_type == "text/html"
    response.headers.setdefault("Content-Security-Policy", PAGE_CSP if html else API_CSP)
    if request.path.startswith(API) or request.path in ("/healthz", "/readyz", "/metrics"):
        response.headers.setdefault("Cache-Control", "no-store")


def _canonical(request: web.Request) -> str:
    route = request.match_info.route
    resource = route.resource if route is not None else None
    return resource.canonical if resource is not None else request.path


def _target_id(request: web.Request, response: web.StreamResponse | None) -> int | None:
    raw = request.match_info.get("id", "")
    if raw.isdigit() and len(raw) <= 18:
        return int(raw)
    if isinstance(response, web.Response) and response.status == 201 and response.body:
        try:
            body = json.loads(bytes(response.body))  # type: ignore[arg-type]
        except (ValueError, TypeError):
            return None
        if isinstance(body, dict) and isinstance(body.get("id"), int):
            return int(body["id"])
    return None


def audit_action(method: str, canonical: str, role: str | None) -> tuple[str, str | None] | None:
    """What a request means for the audit log: (action, target type), or None when not audited."""
    if not canonical.startswith(API):
        return None
    path = canonical[len(API) :]
    if method in WRITE_METHODS and path.startswith("/admin/") and role is not None:
        return "admin.change", path.split("/")[2]
    if method in WRITE_METHODS and role == "bureau" and not path.startswith("/auth/"):
        return "admin.change", path.split("/")[1]  # the bureau's other changes (callbacks, ...)
    if method == "GET" and (path == "/me/export" or path.startswith("/exports/")):
        return "export", None
    if method == "DELETE" and path == "/me":
        return "privacy.erase", "resident"
    if method == "GET" and role in STAFF:
        if "/questions/{id}" in path:
            return "question.read", "question"
        if path in ("/lawyer/queue", "/worker/questions"):
            return "question.list", None
    return None


@web.middleware
async def audit_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Record admin changes, exports, erasures and staff reads of questions, with the final status."""
    response = await handler(request)
    who = request.get(PRINCIPAL)
    what = audit_action(request.method, _canonical(request), who.role if who else None)
    if what is None or who is None:
        return response
    action, target_type = what
    try:
        async with request.app[DB_POOL].acquire() as conn:
            await audit.record(
                conn,
                action,
                actor=who,
                target_type=target_type,
                target_id=_target_id(request, response),
                success=response.status < 400,
                client_addr=client_addr(request),
                details={"method": request.method, "route": _canonical(request), "status": response.status},
            )
    except Exception:
        log.exception("audit_write_failed", action=action)
    return response


def setup_security(app: web.Application) -> None:
    """Install the security headers on `app` (the audit middleware goes in create_app's list)."""
    app.on_response_prepare.append(security_headers)
