"""JSON in and out: bodies parsed into pydantic models, responses with ISO 8601 timestamps."""

from __future__ import annotations

import json
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from fazhizhen.errors import InvalidInput, UnsupportedMediaType

M = TypeVar("M", bound=BaseModel)


def _default(o: Any) -> Any:
    if type(o) is datetime:  # nearly every call: the exact-type check is far cheaper than a union isinstance
        return o.isoformat()
    if isinstance(o, datetime | date | time):
        return o.isoformat()
    if isinstance(o, Decimal):
        return float(o)
    if isinstance(o, BaseModel):
        return o.model_dump(mode="json")
    if isinstance(o, set | frozenset | tuple):
        return list(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def dumps(data: Any) -> str:
    """JSON text with UTF-8 kept readable and datetimes as ISO 8601 with offset."""
    return json.dumps(data, default=_default, ensure_ascii=False)


def respond(data: Any, status: int = 200) -> web.Response:
    """A JSON response."""
    return web.json_response(data, status=status, dumps=dumps)


def validation_details(exc: ValidationError) -> list[dict[str, Any]]:
    """pydantic errors as the contract's `details`: one entry per offending field."""
    out = []
    for err in exc.errors(include_url=False, include_input=False):
        loc = ".".join(str(p) for p in err["loc"]) or "body"
        out.append({"field": loc, "message": err["msg"], "type": err["type"]})
    return out


async def parse_body(request: web.Request, model: type[M]) -> M:
    """The request body as `model`; 422 naming each bad field, or the body itself when not JSON."""
    raw = await request.read()  # first: an oversized body is 413 whatever its type
    if request.content_type != "application/json":
        raise UnsupportedMediaType(
            "请求体必须是 JSON（Content-Type: application/json）",
            details=[{"field": "Content-Type", "message": "expected application/json"}],
        )
    if not raw:
        raise InvalidInput(
            "请求体不能为空", details=[{"field": "body", "message": "a JSON object is required"}]
        )
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(
            "请求体不是合法的 JSON", details=[{"field": "body", "message": str(exc)}]
        ) from None
    if not isinstance(data, dict):
        raise InvalidInput(
            "请求体必须是 JSON 对象", details=[{"field": "body", "message": "expected an object"}]
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput("请求参数不合法", details=validation_details(exc)) from None


def parse_query(request: web.Request, model: type[M]) -> M:
    """The query string as `model` (lax: query values are strings)."""
    try:
        return model.model_validate(dict(request.query), strict=False)
    except ValidationError as exc:
        raise InvalidInput("查询参数不合法", details=validation_details(exc)) from None


def path_id(request: web.Request, name: str = "id") -> int:
    """An integer id from the URL path; 404 when it is not one (no such resource)."""
    from fazhizhen.errors import NotFound

    raw = request.match_info.get(name, "")
    if not raw.isdigit() or len(raw) > 18 or int(raw) < 1:
        raise NotFound("资源不存在", details=[{"field": name, "message": "not a valid id"}])
    return int(raw)
