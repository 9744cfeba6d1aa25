"""The process's real-time machinery as one resource: sequencer, LISTEN connection, hub, outbox senders.

`realtime_ctx` is an aiohttp cleanup_ctx; it registers the reminder, outbox and pruning jobs for the
scheduler (which starts after it) and hooks shutdown: on SIGTERM the streams are closed cleanly, no new
delivery starts, and deliveries in flight finish before the scheduler and the pool go away.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import asyncpg
from aiohttp import web

from fazhizhen import observability as obs
from fazhizhen.channels.webhook import WebhookSender
from fazhizhen.channels.wechat import WechatSender
from fazhizhen.keys import DB_POOL, DSN, REALTIME, SCHEDULER_JOBS, SETTINGS
from fazhizhen.log import get_logger
from fazhizhen.realtime.hub import Hub
from fazhizhen.realtime.listener import Listener
from fazhizhen.realtime.sequencer import Sequencer
from fazhizhen.repo import realtime as repo
from fazhizhen.services import outbox, reminders
from fazhizhen.settings import Settings

log = get_logger("fazhizhen.realtime")


class Realtime:
    """Everything one process needs to push events and deliver notifications."""

    def __init__(self, pool: asyncpg.Pool, dsn: str, settings: Settings, session: aiohttp.ClientSession) -> None:
        self.pool = pool
        self.settings = settings
        self.hub = Hub(pool, settings.stream_client_buffer)
        self.listener = Listener(dsn, self.hub, safety_seconds=max(0.5, settings.stream_poll_seconds * 20))
        self.sequencer = Sequencer(pool, settings.stream_poll_seconds, published=self.listener.published)
        self.senders: dict[str, outbox.Sender] = {
            "wechat": WechatSender(session, settings),
            "webhook": WebhookSender(session, settings.http_timeout_seconds),
        }
        for channel in self.senders:  # every outcome series exists from the start, so rate() and alerts see zeros
            obs.declare_notification_channel(channel)
        self.policy = outbox.RetryPolicy(
            settings.outbox_max_attempts,
            settings.outbox_backoff_base_seconds,
            settings.outbox_backoff_cap_seconds,
        )
        self.stopping = False
        self._inflight: set[asyncio.Task[Any]] = set()

    async def start(self) -> None:
        await self.hub.start()
        self.sequencer.start()
        self.listener.start()

    async def stop(self) -> None:
        await self.sequencer.stop()
        await self.listener.stop()

    async def _tracked(self, coro: Any) -> Any:
        """Run a job so that shutdown can wait for it (deliveries must not be cut mid-send)."""
        if self.stopping:
            coro.close()  # never started: close it so Python does not warn that it was never awaited
            return None
        task = asyncio.ensure_future(coro)
        self._inflight.add(task)
        try:
            return await asyncio.shield(task)
        finally:
            self._inflight.discard(task)

    async def remind_job(self) -> None:
        try:
            if await self._tracked(reminders.remind(self.pool, self.settings)):
                self.sequencer.kick()
        except Exception:
            log.exception("remind_failed")

    async def outbox_job(self) -> None:
        try:
            await self._tracked(
                outbox.deliver_due(
                    self.pool,
                    self.senders,
                    self.policy,
                    workers=self.settings.outbox_workers,
                    stopping=lambda: self.stopping,
                )
            )
        except Exception:
            log.exception("outbox_delivery_failed")

    async def prune_job(self) -> None:
        try:
            async with self.pool.acquire() as conn:
                n = await repo.stream_prune(conn, self.settings.stream_retention_seconds)
            if n:
                log.info("stream_pruned", rows=n)
        except Exception:
            log.exception("stream_prune_failed")

    async def drain(self) -> None:
        """Shutdown, first step: end the streams, start nothing new, let work in flight finish."""
        self.stopping = True
        self.hub.close_all()
        pending = [t for t in self._inflight if not t.done()]
        if pending:
            log.info("realtime_draining", jobs=len(pending))
            await asyncio.wait(pending, timeout=self.settings.shutdown_timeout_seconds)


async def _on_shutdown(app: web.Application) -> None:
    rt = app.get(REALTIME)
    if rt is not None:
        await rt.drain()


async def _kick_after_write(request: web.Request, response: web.StreamResponse) -> None:
    """A state-changing request has committed: sequence its events now, not at the next poll."""
    if request.method not in ("GET", "HEAD", "OPTIONS") and response.status < 400:
        rt = request.app.get(REALTIME)
        if rt is not None:
            rt.sequencer.kick()


async def realtime_ctx(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx: start the real-time machinery after the pool, before the scheduler."""
    settings = app[SETTINGS]
    if not settings.realtime_enabled:
        yield
        return
    async with aiohttp.ClientSession() as session:
        rt = Realtime(app[DB_POOL], app[DSN], settings, session)
        await rt.start()
        app[REALTIME] = rt
        jobs = app.setdefault(SCHEDULER_JOBS, {})
        jobs["remind"] = (rt.remind_job, settings.sweep_interval_seconds)
        jobs["outbox"] = (rt.outbox_job, settings.outbox_interval_seconds)
        jobs["stream_prune"] = (rt.prune_job, 3600.0)
        try:
            yield
        finally:
            rt.stopping = True
            await rt.stop()


def setup_realtime(app: web.Application) -> None:
    """Register the context and the hooks on `app` (call between the database and scheduler contexts)."""
    app.cleanup_ctx.append(realtime_ctx)
    app.on_shutdown.append(_on_shutdown)
    app.on_response_prepare.append(_kick_after_write)
