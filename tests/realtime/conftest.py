"""Fixtures for the real-time tests: an app whose realtime machinery polls fast, and stream helpers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from fazhizhen.app import create_app
from fazhizhen.settings import Settings
from tests.conftest import make_settings
from tests.factories import Api, User
from tests.realtime.sse import SSE

FAST = {"stream_poll_seconds": 0.02, "stream_heartbeat_seconds": 5.0}


@pytest.fixture
def settings(db_dsn: str) -> Settings:
    return make_settings(db_dsn, **FAST)


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    async with TestClient(TestServer(create_app(settings))) as c:
        yield c


Opener = Callable[..., AbstractAsyncContextManager[SSE]]


@pytest.fixture
def open_stream(client: TestClient) -> Opener:  # type: ignore[type-arg]
    """`async with open_stream(user, path="/lawyer/stream", last_event_id=None) as sse:`."""

    @asynccontextmanager
    async def opener(
        user: User, path: str = "/lawyer/stream", last_event_id: int | None = None, **headers: Any
    ) -> AsyncIterator[SSE]:
        h = dict(user.headers) | headers
        if last_event_id is not None:
            h["Last-Event-ID"] = str(last_event_id)
        async with client.get("/api/v1" + path, headers=h) as resp:
            assert resp.status == 200, await resp.text()
            assert resp.headers["Content-Type"].startswith("text/event-stream")
            sse = SSE(resp)
            # the server writes a retry hint and a comment first: the stream is registered once read
            await resp.content.readline()
            yield sse

    return opener


async def pool_city(api: Api, members: int = 2) -> tuple[Any, User, list[User], int]:
    """A community with an always-on-duty lawyer and a district pool of `members` other lawyers."""
    city = await api.city()
    duty = await api.lawyer()
    await api.duty(city.community_id, duty)
    pool_lawyers = [await api.lawyer() for _ in range(members)]
    pool_id = await api.pool(pool_lawyers, district_id=city.district_id)
    return city, duty, pool_lawyers, pool_id
