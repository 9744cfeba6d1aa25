"""OpenAPI 3.1 built from the routes themselves.

Each handler declares, next to its code, what it takes and returns with `@endpoint(...)`; the
document is generated from the registered routes and the pydantic models, so nothing is kept twice.
A route whose handler has no declaration still appears (bare) and `undocumented(app)` names it,
which a test turns into a failure.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from fazhizhen.models.responses import ErrorOut
from fazhizhen.services.auth import ROLES

H = TypeVar("H", bound=Callable[..., Any])

ATTR = "__openapi__"
ANY_ROLE = ROLES
_PARAM = re.compile(r"\{([^}:]+)(?::[^}]*)?\}")
_REF = "#/components/schemas/{model}"

ERROR_TEXT = {
    401: "no token, or an unknown, expired or revoked one",
    403: "the caller's role may not do this, or it is not theirs",
    404: "no such thing, or not visible to the caller",
    409: "state conflict (already claimed, answered by someone else, wrong status)",
    413: "body larger than the limit",
    415: "body not sent as application/json",
    422: "invalid body, query or path; `details` names each field",
    429: "rate limited; see Retry-After",
    503: "the database is unavailable; retry later",
}


@dataclass(frozen=True)
class Endpoint:
    """What one handler takes and returns, for the OpenAPI document."""

    summary: str
    roles: tuple[str, ...] = ()
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: Any = None
    status: int = 200
    errors: tuple[int, ...] = ()
    description: str = ""
    content_type: str = "application/json"
    db: bool = True
    tags: tuple[str, ...] = ()
    responses: dict[int, Any] = field(default_factory=dict)
    params: dict[str, dict[str, Any]] = field(default_factory=dict)


def endpoint(summary: str, **kw: Any) -> Callable[[H], H]:
    """Declare a handler's roles, request and response models for the OpenAPI document.

    `roles=()` means no token needed; `response` is a model, `list[Model]`, or None (no body);
    `errors` adds status codes beyond the ones implied (401/403 by roles, 404 by path ids,
    422 by a body or query, 413 by a body, 503 by `db`).
    """
    meta = Endpoint(summary, **kw)

    def mark(fn: H) -> H:
        setattr(fn, ATTR, meta)
        return fn

    return mark


def declared(handler: Any) -> Endpoint | None:
    """The declaration attached to a handler, if any."""
    return getattr(handler, ATTR, None)


def api_routes(app: web.Application) -> list[tuple[str, str, Any]]:
    """(method, path template, handler) of every resource route (not static files), without HEAD."""
    out = []
    for route in app.router.routes():
        if route.method in ("HEAD", "OPTIONS") or route.resource is None:
            continue
        info = route.resource.get_info()
        path = info.get("formatter") or info.get("path")
        if path is None:  # a static directory
            continue
        out.append((route.method, str(path), route.handler))
    return out


def undocumented(app: web.Application) -> list[str]:
    """`METHOD path` of every route whose handler lacks `@endpoint`."""
    return [f"{m} {p}" for m, p, h in api_routes(app) if declared(h) is None]


def _models_in(tp: Any) -> Iterable[type[BaseModel]]:
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        yield tp
    for arg in typing.get_args(tp):
        yield from _models_in(arg)


def _schema_of(tp: Any, refs: dict[type[BaseModel], dict[str, Any]]) -> dict[str, Any]:
    if isinstance(tp, dict):  # a literal JSON schema
        return tp
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return refs[tp]
    if typing.get_origin(tp) is list:
        return {"type": "array", "items": _schema_of(typing.get_args(tp)[0], refs)}
    raise TypeError(f"unsupported response type {tp!r}")


def _error_body(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": _REF.format(model="ErrorOut")}}},
    }


def _error_response(code: int) -> dict[str, Any]:
    if code in ERROR_TEXT:
        return {"$ref": f"#/components/responses/Error{code}"}
    return _error_body("error")


def _operation(
    method: str, path: str, meta: Endpoint | None, handler: Any, refs: dict[type[BaseModel], dict[str, Any]]
) -> dict[str, Any]:
    slug = re.sub(r"[^a-z0-9]+", "_", path.lower().removeprefix("/api/v1")).rstrip("_")
    op_id = method.lower() + slug + ("_slash" if path.endswith("/") and len(path) > 1 else "")
    if meta is None:
        return {
            "operationId": op_id,
            "summary": "(undocumented)",
            "responses": {"default": {"description": "?"}},
        }
    op: dict[str, Any] = {"operationId": op_id, "summary": meta.summary}
    doc = meta.description or (handler.__doc__ or "").strip()
    if meta.roles:
        doc = (doc + "\n\n" if doc else "") + "Roles: " + ", ".join(f"`{r}`" for r in meta.roles) + "."
        op["security"] = [{"bearerAuth": []}]
        op["x-roles"] = list(meta.roles)
    if doc:
        op["description"] = doc
    top = path.strip("/").split("/")
    tag = meta.tags or ((top[2],) if len(top) > 2 and top[0] == "api" else ("service",))
    op["tags"] = list(tag)
    params: list[dict[str, Any]] = []
    for name in _PARAM.findall(path):
        schema = meta.params.get(name, {"type": "integer", "minimum": 1})
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    if meta.query is not None:
        schema = meta.query.model_json_schema(ref_template=_REF)
        required = set(schema.get("required", []))
        for name, prop in schema.get("properties", {}).items():
            p = {"name": name, "in": "query", "required": name in required, "schema": prop}
            if "description" in prop:
                p["description"] = prop["description"]
            params.append(p)
    if params:
        op["parameters"] = params
    if meta.body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": refs[meta.body]}}}
    ok: dict[str, Any] = {"description": meta.summary}
    if meta.response is not None:
        ok["content"] = {meta.content_type: {"schema": _schema_of(meta.response, refs)}}
    responses: dict[str, Any] = {str(meta.status): ok}
    codes = set(meta.errors)
    if meta.roles:
        codes |= {401, 403}
    if _PARAM.search(path):
        codes.add(404)
    if meta.body is not None:
        codes |= {413, 415, 422}
    if meta.query is not None:
        codes.add(422)
    if meta.db:
        codes.add(503)
    for code in sorted(codes):
        responses[str(code)] = _error_response(code)
    for code, model in meta.responses.items():
        responses[str(code)] = {
            "description": ERROR_TEXT.get(code, str(code)),
            "content": {"application/json": {"schema": _schema_of(model, refs)}},
        }
    op["responses"] = dict(sorted(responses.items()))
    return op


def build_spec(app: web.Application, *, version: str = "1") -> dict[str, Any]:
    """The OpenAPI 3.1 document of every route registered on `app`."""
    routes = api_routes(app)
    metas = [(m, p, declared(h), h) for m, p, h in routes]
    inputs: set[type[BaseModel]] = set()
    outputs: set[type[BaseModel]] = {ErrorOut}
    for _, _, meta, _ in metas:
        if meta is None:
            continue
        inputs |= set(_models_in(meta.body))
        outputs |= set(_models_in(meta.response))
        for model in meta.responses.values():
            outputs |= set(_models_in(model))
    pairs = [(m, "validation") for m in sorted(inputs, key=lambda m: m.__name__)]
    pairs += [(m, "serialization") for m in sorted(outputs, key=lambda m: m.__name__)]
    keymap, defs = models_json_schema(pairs, ref_template=_REF)  # type: ignore[arg-type]
    refs = {model: dict(keymap[(model, mode)]) for model, mode in pairs}  # type: ignore[index]
    paths: dict[str, dict[str, Any]] = {}
    for method, path, meta, handler in metas:
        paths.setdefault(path, {})[method.lower()] = _operation(method, path, meta, handler, refs)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "法指针 fazhizhen API",
            "version": version,
            "description": (
                "Community legal-consultation routing. JSON under /api/v1; authenticated calls send "
                "`Authorization: Bearer <token>`. Every error has the shape of `ErrorOut`."
            ),
        },
        "servers": [{"url": "/"}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": defs.get("$defs", {}),
            "responses": {f"Error{code}": _error_body(text) for code, text in ERROR_TEXT.items()},
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "opaque token from /api/v1/auth/login, /auth/wechat or /auth/dev",
                }
            },
        },
    }
