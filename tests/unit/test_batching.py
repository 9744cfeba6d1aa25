"""The micro-batcher behind intake and token look-ups: who shares a batch, and who gets which answer."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from fazhizhen.services.batching import MicroBatcher


class Recorder:
    """A batch runner that records each batch and holds it until released."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.release = asyncio.Event()
        self.release.set()
        self.running = 0
        self.most_running = 0

    async def __call__(self, items: list[int]) -> Sequence[int | BaseException]:
        self.batches.append(list(items))
        self.running += 1
        self.most_running = max(self.most_running, self.running)
        try:
            await self.release.wait()
        finally:
            self.running -= 1
        return [ValueError(f"odd {i}") if i % 2 else i * 10 for i in items]


async def test_calls_made_together_share_a_batch_and_get_their_own_outcome() -> None:
    run = Recorder()
    batcher = MicroBatcher(run, max_batch=100)
    results = await asyncio.gather(*(batcher(i) for i in range(6)), return_exceptions=True)
    assert run.batches == [[0, 1, 2, 3, 4, 5]]
    assert results[0::2] == [0, 20, 40]
    assert [str(e) for e in results[1::2]] == ["odd 1", "odd 3", "odd 5"]


async def test_a_lone_call_is_answered_without_waiting_for_company() -> None:
    run = Recorder()
    batcher = MicroBatcher(run, max_batch=100)
    assert await batcher(2) == 20
    assert await batcher(4) == 40
    assert run.batches == [[2], [4]]


async def test_newcomers_wait_while_the_flushes_are_busy_then_go_together() -> None:
    run = Recorder()
    run.release.clear()
    batcher = MicroBatcher(run, max_batch=100, max_inflight=2)
    first = asyncio.ensure_future(batcher(0))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    second = asyncio.ensure_future(batcher(2))
    for _ in range(3):
        await asyncio.sleep(0)
    later = [asyncio.ensure_future(batcher(i)) for i in (4, 6, 8)]
    for _ in range(3):
        await asyncio.sleep(0)
    assert run.batches == [[0], [2]]  # both flushes busy: the three wait
    run.release.set()
    assert await asyncio.gather(first, second, *later) == [0, 20, 40, 60, 80]
    assert run.batches[2:] == [[4, 6, 8]]
    assert run.most_running == 2


async def test_batches_never_exceed_max_batch() -> None:
    run = Recorder()
    batcher = MicroBatcher(run, max_batch=4, max_inflight=1)
    assert await asyncio.gather(*(batcher(i * 2) for i in range(10))) == [i * 20 for i in range(10)]
    assert [len(b) for b in run.batches] == [4, 4, 2]


async def test_a_failed_batch_fails_each_of_its_callers_and_the_next_batch_still_runs() -> None:
    calls = 0

    async def run(items: list[int]) -> list[int]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("database went away")
        return items

    batcher: MicroBatcher[int, int] = MicroBatcher(run, max_batch=10)
    failed = await asyncio.gather(batcher(1), batcher(2), return_exceptions=True)
    assert [type(e) for e in failed] == [ConnectionError, ConnectionError]
    assert await batcher(3) == 3


async def test_a_cancelled_caller_does_not_withdraw_its_item_or_disturb_the_others() -> None:
    run = Recorder()
    run.release.clear()
    batcher = MicroBatcher(run, max_batch=10)
    gone = asyncio.ensure_future(batcher(2))
    stays = asyncio.ensure_future(batcher(4))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    gone.cancel()
    run.release.set()
    assert await stays == 40
    assert run.batches == [[2, 4]]
    with pytest.raises(asyncio.CancelledError):
        await gone


async def test_close_waits_for_the_batch_under_way() -> None:
    run = Recorder()
    run.release.clear()
    batcher = MicroBatcher(run, max_batch=10)
    pending = asyncio.ensure_future(batcher(6))
    await asyncio.sleep(0)
    closing = asyncio.ensure_future(batcher.close())
    await asyncio.sleep(0)
    assert not closing.done()
    run.release.set()
    await closing
    assert pending.done() and pending.result() == 60


def test_sizes_below_one_are_refused() -> None:
    async def run(items: list[int]) -> list[int]:
        return items

    with pytest.raises(ValueError):
        MicroBatcher(run, max_batch=0)
    with pytest.raises(ValueError):
        MicroBatcher(run, max_batch=1, max_inflight=0)


async def test_a_call_right_after_a_flush_ends_starts_the_next_one() -> None:
    """The flush that found the queue empty has ended, but its task's done-callback has not run yet
    when the caller it just answered asks again: that call must still start a flush (it hung)."""
    run = Recorder()
    batcher = MicroBatcher(run, max_batch=10, max_inflight=1)
    for i in range(0, 10, 2):
        async with asyncio.timeout(2):
            assert await batcher(i) == i * 10
    assert run.batches == [[0], [2], [4], [6], [8]]
