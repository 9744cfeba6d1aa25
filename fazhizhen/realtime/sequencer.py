"""The stream sequencer: copies committed question events into stream_events in commit order.

Any process may run it, one at a time (a transaction-scoped advisory lock), so stream seqs are handed
out by a single writer and commit in order: a reader doing `seq > last` never skips one. It wakes on a
local kick (a write just committed in this process) or every `poll` seconds (writes of other processes,
the sweep), and after each batch sends one NOTIFY, so intake transactions never notify themselves.
This process's hub is told directly, without waiting for that NOTIFY to come back.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import asyncpg

from fazhizhen.log import get_logger
from fazhizhen.repo import realtime as repo

log = get_logger("fazhizhen.realtime.sequencer")


async def wait_event(event: asyncio.Event, seconds: float) -> None:
    """Wait for `event` at most `seconds` (asyncio.timeout, whose cancellation is never swallowed)."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await event.wait()


async def stop_task(task: asyncio.Task[None], grace: float = 5.0) -> None:
    """Wait for a task told to stop; cancel it if it overruns `grace`."""
    done, _ = await asyncio.wait({task}, timeout=grace)
    if not done:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


BATCH = 2000


async def sequence_once(pool: asyncpg.Pool, *, wait: bool = True, batch: int = BATCH) -> int | None:
    """Sequence every newly visible event; return the highest new seq, or None if nothing (or locked).

    One statement, one round trip (sql/033_create_stream_sequence_pass.sql): lock, copy in batches,
    advance the horizon, NOTIFY, commit."""
    async with pool.acquire() as conn:
        return await repo.stream_sequence_pass(conn, wait=wait, batch=batch)


class Sequencer:
    """The per-process loop around `sequence_once`: kicked after local writes, polled otherwise."""

    def __init__(
        self, pool: asyncpg.Pool, poll_seconds: float, published: Callable[[int], None] | None = None
    ) -> None:
        self.pool = pool
        self.poll_seconds = poll_seconds
        self.published = published  # told the new head at once, not when our own NOTIFY comes back
        self._kicked = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    def kick(self) -> None:
        """A write committed here: sequence now rather than at the next poll."""
        self._kicked.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="stream-sequencer")

    async def stop(self) -> None:
        """Finish the batch in hand, then end (a flag, not a cancellation: nothing is cut mid-transaction)."""
        self._stopping = True
        self._kicked.set()
        if self._task is not None:
            await stop_task(self._task)
            self._task = None

    async def _run(self) -> None:
        failures = 0
        while not self._stopping:
            await wait_event(self._kicked, self.poll_seconds)
            if self._stopping:
                return
            kicked = self._kicked.is_set()
            self._kicked.clear()
            try:
                # a kick waits for a sequencer running elsewhere, whose snapshot may predate our commit
                top = await sequence_once(self.pool, wait=kicked)
                failures = 0
                if top is not None and self.published is not None:
                    self.published(top)
            except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
                failures += 1
                if failures in (1, 10) or failures % 100 == 0:
                    error, detail = type(exc).__name__, str(exc)[:200]
                    log.warning("stream_sequence_failed", error=error, detail=detail, failures=failures)
                await wait_event(self._kicked, min(5.0, self.poll_seconds * 2 ** min(failures, 8)))
