"""Hardening: security headers everywhere, strict content types, no markup from user text, bound SQL."""

from __future__ import annotations

import ast
import hmac
from pathlib import Path
from typing import Any

import pytest

from fazhizhen.services import auth
from tests.factories import Api

ROOT = Path(__file__).resolve().parent.parent.parent
MUST = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/healthz", 200),
        ("GET", "/api/v1/categories", 200),
        ("GET", "/api/v1/no-such-thing", 404),
        ("GET", "/api/v1/questions", 401),
        ("DELETE", "/api/v1/categories", 405),
        ("POST", "/api/v1/auth/login", 415),
    ],
)
async def test_security_headers_on_every_response(api: Api, method: str, path: str, status: int) -> None:
    async with api.client.request(method, path, data=b"x" if method == "POST" else None) as resp:
        assert resp.status == status
        for name, value in MUST.items():
            assert resp.headers[name] == value, name
        assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]
        assert "max-age" in resp.headers["Strict-Transport-Security"]
        assert "aiohttp" not in resp.headers.get("Server", "")
        if path.startswith("/api/"):
            assert resp.headers["Cache-Control"] == "no-store"
            assert resp.content_type == "application/json"


async def test_markup_in_questions_comes_back_as_inert_json(api: Api) -> None:
    city = await api.city()
    r = await api.resident()
    evil = "<script>alert('x')</script><img src=x onerror=alert(1)>"
    q = await api.ask(r, city.community_id, evil)
    async with api.client.get(f"/api/v1/questions/{q['id']}", headers=r.headers) as resp:
        assert resp.content_type == "application/json"
        assert resp.headers["Content-Security-Policy"].startswith("default-src 'none'")
        assert (await resp.json())["content"] == evil  # data, not markup: the client renders it as text


@pytest.mark.parametrize("ctype", ["text/plain", "application/x-www-form-urlencoded", "text/html", ""])
async def test_write_with_other_content_type_is_415(api: Api, ctype: str) -> None:
    headers = {"Content-Type": ctype} if ctype else {}
    async with api.client.post(
        "/api/v1/auth/login", data=b'{"username": "a", "password": "b"}', headers=headers
    ) as resp:
        assert resp.status == 415
        assert (await resp.json())["error"]["code"] == "unsupported_media_type"


async def test_tokens_are_compared_in_constant_time(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[Any, Any]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(auth.hmac, "compare_digest", spy)
    r = await api.resident()
    await api.ok("GET", "/questions", r)
    assert calls and all(isinstance(a, bytes) and len(a) == 32 for a, _ in calls)


_SQL_CALLS = {
    "execute",
    "executemany",
    "fetch",
    "fetchrow",
    "fetchval",
    "cursor",
    "prepare",
    "copy_from_query",
}


def test_sql_is_only_run_with_bound_parameters() -> None:
    """No query text built from values in Python: no f-strings, `%` or `.format` in SQL calls."""
    offenders = []
    for path in sorted((ROOT / "fazhizhen").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            if node.func.attr not in _SQL_CALLS or not node.args:
                continue
            sql = node.args[0]
            built = (
                isinstance(sql, ast.JoinedStr)
                or (isinstance(sql, ast.BinOp) and isinstance(sql.op, ast.Mod | ast.Add))
                or (
                    isinstance(sql, ast.Call)
                    and isinstance(sql.func, ast.Attribute)
                    and sql.func.attr == "format"
                )
            )
            if built:
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not offenders, offenders


def test_named_queries_use_placeholders_only() -> None:
    """Named SQL has no Python formatting markers a caller could fill with values."""
    for path in sorted((ROOT / "sql" / "queries").glob("*.sql")):
        text = path.read_text(encoding="utf-8")
        assert "{" not in text.replace("'{}'", "").replace("'{", "").replace("}'", ""), path.name
        assert "%s" not in text and "%(" not in text, path.name
