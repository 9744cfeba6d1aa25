"""Every failure answers in the contract's JSON shape with the right status, and changes nothing."""

from __future__ import annotations

import pytest

from tests.factories import Api, User


def _shape(body: object) -> dict[str, object]:
    assert isinstance(body, dict) and set(body) == {"error"}, body
    err = body["error"]
    assert isinstance(err, dict) and isinstance(err["code"], str) and isinstance(err["message"], str)
    assert isinstance(err["details"], list)
    return err


async def test_malformed_json_is_422_naming_the_body(api: Api) -> None:
    b = await api.bureau()
    headers = {**b.headers, "Content-Type": "application/json"}  # other content types are 415
    for raw in (b"{not json", b"[1, 2]", b"", '"文字"'.encode()):
        async with api.client.post("/api/v1/admin/districts", data=raw, headers=headers) as resp:
            assert resp.status == 422
            assert _shape(await resp.json())["details"][0]["field"] == "body"
    assert await api.ok("GET", "/admin/districts", b) == []


async def test_invalid_fields_are_named(api: Api) -> None:
    resident = await api.resident()
    code, body = await api.call("POST", "/questions", resident, {"community_id": "1", "content": "短", "x": 1})
    assert code == 422
    fields = {d["field"] for d in _shape(body)["details"]}
    assert fields == {"community_id", "content", "x"}
    code, body = await api.call(
        "POST", "/questions", resident, {"community_id": 1, "content": "物业费纠纷怎么办", "category": "astrology"}
    )
    assert code == 422 and _shape(body)["details"][0]["field"] == "category"
    code, body = await api.call("POST", "/questions", resident, {"community_id": 424242, "content": "物业费纠纷怎么办"})
    assert code == 422 and _shape(body)["details"][0]["field"] == "community_id"
    assert await api.ok("GET", "/questions", resident) == []


async def test_text_with_a_nul_character_is_422_naming_the_field(api: Api) -> None:
    """PostgreSQL cannot store NUL in text: such a body used to reach the INSERT and fail it (a 500)."""
    city = await api.city()
    await api.duty(city.community_id, await api.lawyer())
    resident = await api.resident()
    code, body = await api.call("POST", "/questions", resident, {"community_id": city.community_id,
                                                                   "content": "物业费纠纷\u0000怎么办"})  # fmt: skip
    assert code == 422 and _shape(body)["details"][0]["field"] == "content"
    q = await api.ask(resident, city.community_id)
    code, body = await api.call("POST", f"/questions/{q['id']}/messages", resident, {"content": "补充\x00说明"})
    assert code == 422 and _shape(body)["details"][0]["field"] == "content"
    assert [x["id"] for x in await api.ok("GET", "/questions", resident)] == [q["id"]]


async def test_content_length_bounds(api: Api) -> None:
    city = await api.city()
    resident = await api.resident()
    assert (await api.call("POST", "/questions", resident, {"community_id": city.community_id, "content": "四个字符"}))[
        0
    ] == 422
    assert (
        await api.call("POST", "/questions", resident, {"community_id": city.community_id, "content": "字" * 5001})
    )[0] == 422
    q = await api.ask(resident, city.community_id, "字" * 5000)
    assert len(q["content"]) == 5000


async def test_unknown_route_and_method(api: Api) -> None:
    code, body = await api.call("GET", "/no/such/thing")
    assert code == 404 and _shape(body)["code"] == "not_found"
    code, body = await api.call("DELETE", "/categories")
    assert code == 405 and _shape(body)["code"] == "method_not_allowed"
    code, body = await api.call("GET", "/questions/abc", await api.resident())
    assert code == 404


async def test_no_token_bad_token_revoked_token(api: Api) -> None:
    code, body = await api.call("GET", "/questions")
    assert code == 401 and _shape(body)["code"] == "unauthorized"
    assert (await api.call("GET", "/questions", headers={"Authorization": "Bearer nope"}))[0] == 401
    assert (await api.call("GET", "/questions", headers={"Authorization": "Basic abc"}))[0] == 401
    resident = await api.resident()
    assert (await api.call("GET", "/questions", resident))[0] == 200
    assert (await api.call("POST", "/auth/logout", resident))[0] == 204
    assert (await api.call("GET", "/questions", resident))[0] == 401


async def test_expired_token_is_401(make_api: object) -> None:
    api = await make_api(resident_token_ttl_seconds=0)  # type: ignore[operator]
    resident = await api.resident()
    assert (await api.call("GET", "/questions", resident))[0] == 401


async def test_bad_credentials_401_and_no_password_echo(api: Api) -> None:
    b = await api.bureau()
    code, body = await api.call("POST", "/auth/login", json={"username": "bureau-admin", "password": "wrong-password"})
    assert code == 401 and _shape(body)["code"] == "unauthorized"
    assert (await api.call("POST", "/auth/login", json={"username": "ghost", "password": "whatever-123"}))[0] == 401
    created = await api.ok(
        "POST", "/admin/lawyers", b, {"name": "王律师", "username": "wang", "password": "long-enough-pw"}, status=201
    )
    assert "password" not in created and "password_hash" not in created
    listed = await api.ok("GET", "/admin/lawyers", b)
    assert all("password" not in row and "password_hash" not in row for row in listed)


async def test_conflicts_are_409(api: Api) -> None:
    b = await api.bureau()
    await api.ok("POST", "/admin/districts", b, {"name": "江岸区"}, status=201)
    code, body = await api.call("POST", "/admin/districts", b, {"name": "江岸区"})
    assert code == 409 and _shape(body)["code"] == "conflict"
    lawyer = {"name": "甲", "username": "dup", "password": "long-enough-pw"}
    await api.ok("POST", "/admin/lawyers", b, lawyer, status=201)
    code, _ = await api.call("POST", "/admin/lawyers", b, {**lawyer, "name": "乙"})
    assert code == 409


async def test_dev_login_is_404_when_off(make_api: object) -> None:
    api = await make_api(dev_login=False)  # type: ignore[operator]
    code, body = await api.call("POST", "/auth/dev", json={"openid": "x"})
    assert code == 404 and _shape(body)["code"] == "not_found"


async def test_body_over_64_kib_is_413_json(api: Api) -> None:
    resident = await api.resident()
    async with api.client.post(
        "/api/v1/questions", data=b'{"content": "' + b"a" * 70000 + b'"}', headers=resident.headers
    ) as resp:
        assert resp.status == 413
        _shape(await resp.json())


async def test_duty_window_validation(api: Api) -> None:
    city = await api.city()
    lawyer = await api.lawyer()
    b = await api.bureau()
    path = f"/admin/communities/{city.community_id}/duty"
    for bad in (
        {"lawyer_id": lawyer.id, "weekday": 7},
        {"lawyer_id": lawyer.id, "start": "09:00"},
        {"lawyer_id": lawyer.id, "start": "9:00", "end": "17:00"},
        {"lawyer_id": lawyer.id, "start": "09:00", "end": "09:00"},
        {"lawyer_id": lawyer.id, "start": "24:00", "end": "09:00"},
        {"lawyer_id": 987654},
    ):
        code, body = await api.call("POST", path, b, bad)
        assert code == 422, bad
        _shape(body)
    assert (await api.call("POST", "/admin/communities/987654/duty", b, {"lawyer_id": lawyer.id}))[0] == 404
    overnight = await api.ok("POST", path, b, {"lawyer_id": lawyer.id, "weekday": 4, "start": "22:00", "end": "08:00"})
    assert overnight["start"] == "22:00" and overnight["end"] == "08:00" and overnight["weekday"] == 4
    assert len(await api.ok("GET", path, b)) == 1


ROLE_RULES: list[tuple[str, str, set[str]]] = [
    ("POST", "/admin/districts", {"bureau"}),
    ("GET", "/admin/districts", {"bureau"}),
    ("POST", "/admin/streets", {"bureau"}),
    ("GET", "/admin/streets", {"bureau"}),
    ("POST", "/admin/communities", {"bureau"}),
    ("GET", "/admin/communities", {"bureau"}),
    ("POST", "/admin/lawyers", {"bureau"}),
    ("GET", "/admin/lawyers", {"bureau"}),
    ("POST", "/admin/communities/1/duty", {"bureau"}),
    ("POST", "/admin/pools", {"bureau"}),
    ("GET", "/admin/pools", {"bureau"}),
    ("POST", "/admin/pools/1/members", {"bureau"}),
    ("POST", "/questions", {"resident"}),
    ("GET", "/questions", {"resident"}),
    ("POST", "/questions/1/messages", {"resident"}),
    ("POST", "/questions/1/adopt", {"resident"}),
    ("POST", "/questions/1/rating", {"resident"}),
    ("GET", "/lawyer/queue", {"lawyer"}),
    ("POST", "/questions/1/claim", {"lawyer"}),
    ("POST", "/questions/1/answers", {"lawyer"}),
]


@pytest.mark.parametrize(("method", "path", "allowed"), ROLE_RULES)
async def test_roles_are_checked(api: Api, method: str, path: str, allowed: set[str]) -> None:
    users: dict[str, User] = {
        "bureau": await api.bureau(),
        "lawyer": await api.lawyer(),
        "resident": await api.resident(),
    }
    code, _ = await api.call(method, path, None, {})
    assert code == 401, (method, path)
    for role, user in users.items():
        code, body = await api.call(method, path, user, {})
        if role in allowed:
            assert code != 403 and code != 401, (role, method, path, code)
        else:
            assert code == 403, (role, method, path, code, body)


async def test_unhandled_exception_is_a_bare_500(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    from fazhizhen.services import questions

    async def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(questions, "list_for_resident", boom)
    code, body = await api.call("GET", "/questions", await api.resident())
    assert code == 500 and _shape(body)["code"] == "internal"
    assert "secret" not in str(body) and "Traceback" not in str(body)
