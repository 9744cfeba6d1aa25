"""An in-test load generator for the fault tests: residents keep submitting questions to a real server
process and record every question acknowledged with a 201 (the server is the process we break)."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field

import aiohttp


@dataclass
class Submitter:
    bases: list[str]
    tokens: list[str]
    communities: list[int]
    acked: list[int] = field(default_factory=list)
    failed: int = 0
    statuses: dict[str, int] = field(default_factory=dict)

    async def run(self, stop: asyncio.Event, concurrency: int = 8) -> None:
        """Submit until `stop` is set; connection errors (server down) are counted, not raised."""
        seq = itertools.count()
        timeout = aiohttp.ClientTimeout(total=5)
        async with aiohttp.ClientSession(timeout=timeout) as session:

            async def worker() -> None:
                while not stop.is_set():
                    i = next(seq)
                    body = {
                        "community_id": self.communities[i % len(self.communities)],
                        "content": "公司拖欠工资三个月，我该怎么办？",
                        "category": "labor",
                    }
                    headers = {"Authorization": f"Bearer {self.tokens[i % len(self.tokens)]}"}
                    key: str
                    try:
                        async with session.post(
                            self.bases[i % len(self.bases)] + "/api/v1/questions", json=body, headers=headers
                        ) as resp:
                            key = str(resp.status)
                            if resp.status == 201:
                                self.acked.append((await resp.json())["id"])
                            else:
                                await resp.read()
                    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
                        key = type(exc).__name__
                        self.failed += 1
                        await asyncio.sleep(0.02)
                    self.statuses[key] = self.statuses.get(key, 0) + 1

            await asyncio.gather(*(worker() for _ in range(concurrency)))


async def wait_for(predicate, seconds: float, every: float = 0.05) -> bool:  # type: ignore[no-untyped-def]
    """Poll an async predicate until true or the deadline passes."""
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    while loop.time() < end:
        if await predicate():
            return True
        await asyncio.sleep(every)
    return bool(await predicate())
