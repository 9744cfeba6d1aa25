"""Helpers that drive the real API to build the state a test needs."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from aiohttp.test_utils import TestClient

from fazhizhen.db.pool import connect
from fazhizhen.keys import DB_POOL
from fazhizhen.repo.questions import db_now
from fazhizhen.services.auth import create_or_reset_bureau
from fazhizhen.services.escalation import SweepResult, sweep
from fazhizhen.settings import Settings

PASSWORD = "correct-horse-battery"
_seq = itertools.count(1)


@dataclass
class User:
    token: str
    id: int
    role: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class City:
    district_id: int
    street_id: int
    community_id: int


class Api:
    """A thin layer over the test client: `call` returns (status, json) and asserts nothing."""

    def __init__(self, client: TestClient, settings: Settings) -> None:  # type: ignore[type-arg]
        self.client = client
        self.settings = settings
        self._bureau: User | None = None

    async def call(
        self, method: str, path: str, user: User | None = None, json: Any = None, **kw: Any
    ) -> tuple[int, Any]:
        headers = dict(kw.pop("headers", {}))
        if user is not None:
            headers.update(user.headers)
        async with self.client.request(method, "/api/v1" + path, json=json, headers=headers, **kw) as resp:
            body = await resp.json() if resp.content_type == "application/json" else await resp.text()
            return resp.status, body

    async def ok(
        self, method: str, path: str, user: User | None = None, json: Any = None, status: int | None = None
    ) -> Any:
        """Call and require a 2xx (or exactly `status`)."""
        code, body = await self.call(method, path, user, json)
        expected = status or code
        assert code == expected and 200 <= code < 300, (method, path, code, body)
        return body

    async def bureau(self) -> User:
        if self._bureau is None:
            assert self.settings.database_url is not None
            conn = await connect(self.settings.database_url.get_secret_value())
            try:
                await create_or_reset_bureau(conn, "bureau-admin", PASSWORD)
            finally:
                await conn.close()
            body = await self.ok(
                "POST", "/auth/login", json={"username": "bureau-admin", "password": PASSWORD}
            )
            self._bureau = User(body["token"], body["user_id"], "bureau")
        return self._bureau

    async def resident(self, openid: str | None = None) -> User:
        body = await self.ok("POST", "/auth/dev", json={"openid": openid or f"openid-{next(_seq)}"})
        return User(body["token"], body["resident_id"], "resident")

    async def _staff(self, role: str, name: str, extra: dict[str, Any]) -> User:
        """A staff account created by the bureau through `/admin/{role}s`, logged in."""
        n = next(_seq)
        username = f"{role}-{n}"
        await self.ok(
            "POST",
            f"/admin/{role}s",
            await self.bureau(),
            {"name": f"{name}{n}", "username": username, "password": PASSWORD, **extra},
            status=201,
        )
        body = await self.ok("POST", "/auth/login", json={"username": username, "password": PASSWORD})
        return User(body["token"], body["user_id"], role)

    async def lawyer(self, name: str = "律师", **extra: Any) -> User:
        return await self._staff("lawyer", name, extra)

    async def worker(self, ids: list[int], name: str = "社工") -> User:
        """A worker bound to the communities `ids`, logged in."""
        return await self._staff("worker", name, {"community_ids": ids})

    async def city(self, district_id: int | None = None) -> City:
        b = await self.bureau()
        n = next(_seq)
        if district_id is None:
            district_id = (await self.ok("POST", "/admin/districts", b, {"name": f"区{n}"}))["id"]
        street = await self.ok("POST", "/admin/streets", b, {"district_id": district_id, "name": f"街道{n}"})
        community = await self.ok(
            "POST", "/admin/communities", b, {"street_id": street["id"], "name": f"社区{n}"}
        )
        return City(district_id, street["id"], community["id"])

    async def duty(self, community_id: int, lawyer: User, **window: Any) -> dict[str, Any]:
        return await self.ok(
            "POST",
            f"/admin/communities/{community_id}/duty",
            await self.bureau(),
            {"lawyer_id": lawyer.id, **window},
            status=201,
        )

    async def pool(self, members: list[User], district_id: int | None = None) -> int:
        b = await self.bureau()
        body: dict[str, Any] = {"name": f"服务团{next(_seq)}"}
        if district_id is not None:
            body["district_id"] = district_id
        pool = await self.ok("POST", "/admin/pools", b, body, status=201)
        for m in members:
            await self.ok("POST", f"/admin/pools/{pool['id']}/members", b, {"lawyer_id": m.id}, status=204)
        return int(pool["id"])

    async def ask(
        self,
        resident: User,
        community_id: int,
        content: str = "楼上邻居半夜太吵了怎么办？",
        category: str | None = "neighbor",
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"community_id": community_id, "content": content}
        if category is not None:
            body["category"] = category
        result: dict[str, Any] = await self.ok("POST", "/questions", resident, body, status=201)
        return result

    async def sweep_after(self, seconds: float) -> SweepResult:
        """Run the deadline sweep as if `seconds` had passed on the database clock (no sleeping)."""
        pool = self.client.app[DB_POOL]
        async with pool.acquire() as conn:
            now = await db_now(conn)
        return await sweep(pool, self.settings, now=now + timedelta(seconds=seconds))
