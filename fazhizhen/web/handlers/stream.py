"""Server-Sent Events for lawyers and the bureau: replay after Last-Event-ID, then live, with heartbeats.

The caller's token is checked again at heartbeat time (at most once per heartbeat period, one indexed
lookup): a stream whose token was revoked (logout, password change, account disabled) ends there.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from fazhizhen.errors import Unauthorized, Unavailable
from fazhizhen.keys import REALTIME, TOKENS
from fazhizhen.log import get_logger
from fazhizhen.realtime.hub import Client, sse_frame
from fazhizhen.services import auth, streams
from fazhizhen.web.middleware import principal
from fazhizhen.web.openapi import endpoint

log = get_logger("fazhizhen.web.stream")

REPLAY_PAGE = 500
RETRY_MS = 2000
_PING: dict[str, Any] = {}  # a heartbeat is due (no event within the period)


def last_event_id(request: web.Request) -> int | None:
    raw = request.headers.get("Last-Event-ID", "").strip()
    return int(raw) if raw.isdigit() and len(raw) <= 18 else None


@endpoint(
    "My events as Server-Sent Events",
    roles=("lawyer",),
    description="Server-Sent Events; `Last-Event-ID` replays what was missed. "
    "Events: assigned, pool_new, pool_claimed, reminder, escalated.",
    response={"type": "string"},
    content_type="text/event-stream",
)
async def lawyer_stream(request: web.Request) -> web.StreamResponse:
    who = await principal(request, "lawyer")
    return await _stream(request, who.id)


@endpoint(
    "Escalations and alerts as Server-Sent Events",
    roles=("bureau",),
    description="Server-Sent Events; `Last-Event-ID` replays what was missed. Events: escalated, alerted.",
    response={"type": "string"},
    content_type="text/event-stream",
)
async def bureau_stream(request: web.Request) -> web.StreamResponse:
    await principal(request, "bureau")
    return await _stream(request, None)


async def _stream(request: web.Request, lawyer_id: int | None) -> web.StreamResponse:
    rt = request.app.get(REALTIME)
    if rt is None or rt.hub.closing:
        raise Unavailable("实时推送暂不可用，请稍后重连")
    after = last_event_id(request)
    client = rt.hub.register(lawyer_id)  # before the replay, so nothing falls between the two
    try:
        resp = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream; charset=utf-8",
                "Cache-Control": "no-cache, no-transform",
                "X-Accel-Buffering": "no",
            }
        )
        await resp.prepare(request)
        await resp.write(f"retry: {RETRY_MS}\n: connected\n\n".encode())
        sent = client.start if after is None else after
        if after is not None and after < client.start:
            sent = await _replay(rt.pool, resp, lawyer_id, after, client.start)
        log.info("stream_opened", client_id=client.id, lawyer_id=lawyer_id, last_event_id=after)
        revoked = await _live(resp, client, sent, rt.settings.stream_heartbeat_seconds, lambda: _authorised(request))
        reason = "token_revoked" if revoked else client.closed_reason
        log.info("stream_closed", client_id=client.id, lawyer_id=lawyer_id, reason=reason)
        with contextlib.suppress(ConnectionError):
            await resp.write_eof()
        return resp
    except ConnectionError:
        log.info("stream_gone", client_id=client.id, lawyer_id=lawyer_id)
        return resp
    finally:
        rt.hub.unregister(client)


async def _replay(pool: Any, resp: web.StreamResponse, lawyer_id: int | None, after: int, upto: int) -> int:
    """Write what was missed in (after, upto] from stream_events; return the last seq covered."""
    while True:
        async with pool.acquire() as conn:
            rows = await streams.missed_events(conn, lawyer_id=lawyer_id, after=after, upto=upto, limit=REPLAY_PAGE)
        for row in rows:
            await resp.write(sse_frame(row))
        if len(rows) < REPLAY_PAGE:
            return upto
        after = rows[-1]["seq"]


async def _authorised(request: web.Request) -> bool:
    """Whether the stream's token is still valid (a database outage keeps the stream open)."""
    try:
        await auth.authenticate(request.app[TOKENS], request.headers.get("Authorization"))
    except Unauthorized:
        return False
    except Exception as exc:  # the next heartbeat checks again
        log.warning("stream_reauth_failed", error=type(exc).__name__)
    return True


async def _live(
    resp: web.StreamResponse,
    client: Client,
    sent: int,
    heartbeat: float,
    authorised: Callable[[], Awaitable[bool]],
) -> bool:
    """Write events until the hub ends the stream (False) or the token is no longer valid (True)."""
    loop = asyncio.get_running_loop()
    checked = loop.time()
    while True:
        try:
            async with asyncio.timeout(heartbeat):
                row = await client.queue.get()
        except TimeoutError:
            row = _PING
        if loop.time() - checked >= heartbeat:
            if not await authorised():
                await resp.write(b": token revoked\n\n")
                return True
            checked = loop.time()
        if row is _PING:
            await resp.write(b": ping\n\n")
            continue
        if row is None:
            return False
        if row["seq"] <= sent:
            continue
        await resp.write(row["frame"])  # encoded once by the hub for every addressee
        sent = row["seq"]
