"""Open event streams end when their token stops being valid (logout, account disabled); others go on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from fazhizhen.settings import Settings
from tests.conftest import make_settings
from tests.factories import Api, User
from tests.realtime.sse import SSE

HEARTBEAT = 0.2


@pytest.fixture
def settings(db_dsn: str) -> Settings:
    return make_settings(db_dsn, stream_poll_seconds=0.02, stream_heartbeat_seconds=HEARTBEAT)


@asynccontextmanager
async def _stream(api: Api, user: User, path: str) -> AsyncIterator[SSE]:
    async with api.client.get("/api/v1" + path, headers=user.headers) as resp:
        assert resp.status == 200, await resp.text()
        sse = SSE(resp)
        await resp.content.readline()
        yield sse


async def _ends(sse: SSE) -> bool:
    """Whether the server ends the stream within a few heartbeats (no event comes first)."""
    return await sse.next(timeout=HEARTBEAT * 15) is None


async def test_logout_and_a_disabled_account_end_their_streams_only(api: Api) -> None:
    admin = await api.bureau()
    leaving, disabled, staying = [await api.lawyer() for _ in range(3)]
    async with (
        _stream(api, leaving, "/lawyer/stream") as gone,
        _stream(api, disabled, "/lawyer/stream") as off,
        _stream(api, staying, "/lawyer/stream") as kept,
        _stream(api, admin, "/bureau/stream") as bureau,
    ):
        await api.ok("POST", "/auth/logout", leaving)
        assert await _ends(gone)
        assert "token revoked" in gone.comments
        await api.ok("PATCH", f"/admin/accounts/{disabled.id}", admin, {"active": False})
        assert await _ends(off)
        # valid tokens keep their streams: heartbeats still come after the others were closed
        for sse in (kept, bureau):
            before = len(sse.comments)
            await sse.quiet(HEARTBEAT * 3)
            assert len(sse.comments) > before and "token revoked" not in sse.comments
