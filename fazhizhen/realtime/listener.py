"""One LISTEN connection per process: wakes the hub when the sequencer has published new stream rows.

It reconnects with back-off when the connection is lost (a database restart), and the hub also polls
every `safety_seconds`, so a notification missed while disconnected costs latency, never an event.
"""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg

from fazhizhen.log import get_logger
from fazhizhen.realtime.hub import Hub
from fazhizhen.realtime.sequencer import stop_task, wait_event

log = get_logger("fazhizhen.realtime.listener")

CHANNEL = "fazhizhen_stream"


class Listener:
    """LISTEN on the stream channel and keep the hub caught up."""

    def __init__(self, dsn: str, hub: Hub, safety_seconds: float = 1.0) -> None:
        self.dsn = dsn
        self.hub = hub
        self.safety_seconds = safety_seconds
        self.connected = asyncio.Event()
        self._wake = asyncio.Event()
        self._lost = asyncio.Event()
        self._conn: asyncpg.Connection | None = None
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="stream-listener")

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await stop_task(self._task)
            self._task = None
        await self._disconnect()

    def published(self, seq: int) -> None:
        """Stream rows up to `seq` are committed: read them now unless the hub has them already."""
        if seq > self.hub.head:
            self._wake.set()

    def _on_notify(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        # the payload is the pass's highest seq; our own passes were read before it came back
        self.published(int(payload) if payload.isdigit() else self.hub.head + 1)

    def _on_terminate(self, *_: Any) -> None:
        self._lost.set()
        self._wake.set()

    async def _connect(self) -> None:
        conn = await asyncpg.connect(self.dsn)
        self._conn = conn  # owned from here on, so stop() closes it even if cancelled below
        conn.add_termination_listener(self._on_terminate)
        await conn.add_listener(CHANNEL, self._on_notify)
        self._lost.clear()
        self.connected.set()
        log.info("stream_listener_connected")

    async def _disconnect(self) -> None:
        self.connected.clear()
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            try:
                async with asyncio.timeout(2):
                    await conn.close()
            except Exception:
                conn.terminate()

    async def _run(self) -> None:
        delay = 0.1
        while not self._stopping:
            if self._conn is None or self._conn.is_closed() or self._lost.is_set():
                await self._disconnect()
                try:
                    await self._connect()
                    delay = 0.1
                except (asyncpg.PostgresError, OSError) as exc:
                    log.warning("stream_listener_connect_failed", error=type(exc).__name__, retry_in=delay)
                    # a wake-up left over from before the loss must not turn the back-off into a busy loop
                    self._wake.clear()
                    if not self._stopping:
                        await wait_event(self._wake, delay)
                    delay = min(5.0, delay * 2)
                    continue
                self._wake.set()  # catch up on whatever was published while disconnected
            await wait_event(self._wake, self.safety_seconds)
            self._wake.clear()
            if self._stopping:
                return
            try:
                await self.hub.catch_up()
            except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
                log.warning("stream_catch_up_failed", error=type(exc).__name__)
                await wait_event(self._wake, min(1.0, self.safety_seconds))
