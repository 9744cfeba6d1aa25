"""The stream sequencer: copies committed question events into stream_events in commit order.

Any process may run it, one at a time (a transaction-scoped advisory lock), so stream seqs are handed
out by a single writer and commit in order: a reader doing `seq > last` never skips one. It wakes on a
local kick (a write just committed in this process) or every `poll` seconds (writes of other processes,
the sweep), and after each batch sends one NOTIFY, so intake transactions never notify themselves.
"""

from __future__ import annotations

import asyncio
import contextlib

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
    """Sequence every newly visible event; return the highest new seq, or None if nothing (or locked)."""
    async with pool.acquire() as conn, conn.transaction():
        if not await repo.stream_lock(conn, wait=wait):
            return None
        max_seq: int | None = None
        while True:
            got = await repo.stream_sequence(conn, batch)
            if got["max_seq"] is not None:
                max_seq = got["max_seq"]
            if got["events"] < batch:
                break
        if max_seq is not None:
            # the last statement saw and took everything committed below its snapshot's xmin. A pass
            # that took nothing leaves the horizon behind (safe: it only widens the next scan) and so
            # writes nothing and costs no commit flush.
            await repo.stream_set_horizon(conn, got["xmin"])
            await repo.stream_notify(conn, max_seq)
        return max_seq


class Sequencer:
    """The per-process loop around `sequence_once`: kicked after local writes, polled otherwise."""

    def __init__(self, pool: asyncpg.Pool, poll_seconds: float) -> None:
        self.pool = pool
        self.poll_seconds = poll_seconds
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
                await sequence_once(self.pool, wait=kicked)
                failures = 0
            except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
                failures += 1
                if failures in (1, 10) or failures % 100 == 0:
                    error, detail = type(exc).__name__, str(exc)[:200]
                    log.warning("stream_sequence_failed", error=error, detail=detail, failures=failures)
                await wait_event(self._kicked, min(5.0, self.poll_seconds * 2 ** min(failures, 8)))
