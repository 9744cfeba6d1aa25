"""Group commit without a timer: concurrent calls that arrive while the database is busy share one trip.

A call is queued and a flush is started on the next turn of the event loop, so calls made in the same
turn go together. While `max_inflight` flushes are running, newcomers wait in the queue, and each
flush that finishes takes everything waiting (up to `max_batch`). An idle service therefore answers a
lone call at once (one loop turn later), and a busy one pays one round trip and one commit per batch
instead of per call: the batch grows with the load, which is what lets a durable write keep up.

`observe(size, seconds)` is told about each batch (the Prometheus histograms).
"""

from __future__ import annotations

import asyncio
import contextvars
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

# a batch runner returns one outcome per item, in order: its result, or the exception that item raises
Runner = Callable[[list[T]], Awaitable[Sequence[R | BaseException]]]


class MicroBatcher(Generic[T, R]):
    """Coalesce concurrent `await batcher(item)` calls into calls of `run(items)`."""

    def __init__(
        self,
        run: Runner[T, R],
        *,
        max_batch: int,
        max_inflight: int = 2,
        name: str = "batch",
        observe: Callable[[int, float], None] | None = None,
    ) -> None:
        if max_batch < 1 or max_inflight < 1:
            raise ValueError("max_batch and max_inflight must be at least 1")
        self._run = run
        self.max_batch = max_batch
        self.max_inflight = max_inflight
        self._name = name
        self._observe = observe
        self._queue: deque[tuple[T, asyncio.Future[R]]] = deque()
        self._tasks: set[asyncio.Task[None]] = set()
        # flushes started and not yet finished, counted by the flush itself the moment it finds the
        # queue empty (a task's done-callback runs later: a call in between would find no flush)
        self._flushing = 0

    async def __call__(self, item: T) -> R:
        """The item's outcome. A caller cancelled while waiting does not withdraw the item: once queued
        it is written like a statement already sent, and only the answer is dropped."""
        fut: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._queue.append((item, fut))
        if self._flushing < self.max_inflight:
            self._flushing += 1
            # a context of its own: the batch serves many requests, so it logs under none of their ids
            task = asyncio.create_task(self._drain(), name=f"{self._name}-flush", context=contextvars.Context())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await fut

    def _take(self) -> list[tuple[T, asyncio.Future[R]]]:
        """The next batch, oldest first."""
        return [self._queue.popleft() for _ in range(min(self.max_batch, len(self._queue)))]

    async def _drain(self) -> None:
        try:
            await self._flush_all()
        finally:
            self._flushing -= 1

    async def _flush_all(self) -> None:
        loop = asyncio.get_running_loop()
        while batch := self._take():
            started = loop.time()
            try:
                outcomes: Sequence[R | BaseException] = await self._run([item for item, _ in batch])
                if len(outcomes) != len(batch):
                    raise RuntimeError(f"{self._name}: {len(outcomes)} outcomes for {len(batch)} items")
            except asyncio.CancelledError:
                for _, fut in batch:
                    fut.cancel()
                raise
            except Exception as exc:  # the whole batch failed: every caller sees why
                outcomes = [exc] * len(batch)
            if self._observe is not None:
                self._observe(len(batch), loop.time() - started)
            for (_, fut), outcome in zip(batch, outcomes, strict=True):
                if fut.done():  # the caller was cancelled
                    continue
                if isinstance(outcome, BaseException):
                    fut.set_exception(outcome)
                else:
                    fut.set_result(outcome)

    async def close(self) -> None:
        """Wait for the flushes under way (each ends when the queue is empty)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
