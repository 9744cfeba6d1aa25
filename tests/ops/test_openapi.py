"""The OpenAPI document covers every route, is valid 3.1, and real responses match its models."""

from __future__ import annotations

from typing import Any

from openapi_spec_validator import validate

from fazhizhen.models.responses import QuestionOut, QueueOut
from fazhizhen.web.openapi import api_routes, undocumented
from tests.factories import Api


async def _spec(api: Api) -> dict[str, Any]:
    async with api.client.get("/api/v1/openapi.json") as resp:
        assert resp.status == 200
        body: dict[str, Any] = await resp.json()
        return body


async def test_every_registered_route_is_documented(api: Api) -> None:
    app = api.client.app
    assert app is not None
    assert undocumented(app) == [], "add @endpoint(...) to these handlers"
    spec = await _spec(api)
    ids = [op["operationId"] for ops in spec["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))
    for method, path, _ in api_routes(app):
        assert method.lower() in spec["paths"].get(path, {}), f"{method} {path} missing from the document"


async def test_document_is_valid_openapi_31_with_security_and_error_shape(api: Api) -> None:
    spec = await _spec(api)
    validate(spec)
    assert spec["openapi"].startswith("3.1")
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert set(spec["components"]["schemas"]["ErrorOut"]["required"]) == {"error"}
    claim = spec["paths"]["/api/v1/questions/{id}/claim"]["post"]
    assert claim["security"] == [{"bearerAuth": []}] and claim["x-roles"] == ["lawyer"]
    assert {"401", "403", "404", "409", "503"} <= set(claim["responses"])
    create = spec["paths"]["/api/v1/questions"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/QuestionIn")
    assert "201" in create["responses"] and "422" in create["responses"]
    assert "security" not in spec["paths"]["/api/v1/categories"]["get"]


async def test_responses_match_their_models(api: Api) -> None:
    city = await api.city()
    lawyer = await api.lawyer()
    await api.duty(city.community_id, lawyer)
    q = await api.ask(await api.resident(), city.community_id)
    QuestionOut.model_validate(q)
    QueueOut.model_validate(await api.ok("GET", "/lawyer/queue", lawyer))


async def test_docs_page_and_its_assets_are_served_locally(api: Api) -> None:
    async with api.client.get("/api/v1/docs") as resp:
        assert resp.status == 200
        page = await resp.text()
    assert "/api/v1/docs/assets/swagger-ui-bundle.js" in page
    assert "http://" not in page and "https://" not in page  # no CDN
    for name in ("swagger-ui-bundle.js", "swagger-ui.css", "docs-init.js"):
        async with api.client.get(f"/api/v1/docs/assets/{name}") as resp:
            assert resp.status == 200, f"{name}: run `npm ci` (make install does)"
            assert len(await resp.read()) > 100
    async with api.client.get("/api/v1/docs/assets/..%2Fpackage.json") as resp:
        assert resp.status == 404
