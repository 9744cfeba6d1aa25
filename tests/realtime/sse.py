"""A small Server-Sent Events reader for tests, over any aiohttp response or a raw stream reader."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import aiohttp


@dataclass
class Event:
    id: int
    event: str
    data: dict[str, Any]


class SSE:
    """Parse frames from `resp.content`; comments (heartbeats) are counted, not returned."""

    def __init__(self, resp: aiohttp.ClientResponse) -> None:
        self.resp = resp
        self.comments: list[str] = []

    async def next(self, timeout: float = 3.0) -> Event | None:  # noqa: ASYNC109
        """The next event, or None when the server ended the stream."""
        return await asyncio.wait_for(self._next(), timeout)

    async def _next(self) -> Event | None:
        fields: dict[str, str] = {}
        while True:
            raw = await self.resp.content.readline()
            if not raw:
                return None
            line = raw.decode().rstrip("\r\n")
            if line == "":
                if "data" in fields:
                    return Event(
                        int(fields["id"]), fields.get("event", "message"), json.loads(fields["data"])
                    )
                fields = {}
                continue
            if line.startswith(":"):
                self.comments.append(line[1:].strip())
                continue
            name, _, value = line.partition(":")
            fields[name] = value[1:] if value.startswith(" ") else value

    async def take(self, n: int, timeout: float = 5.0) -> list[Event]:  # noqa: ASYNC109
        """Exactly the next `n` events."""
        out = []
        for _ in range(n):
            ev = await self.next(timeout)
            assert ev is not None, f"stream ended after {len(out)} of {n} events"
            out.append(ev)
        return out

    async def quiet(self, seconds: float = 0.3) -> None:
        """Assert no event arrives within `seconds`."""
        try:
            ev = await asyncio.wait_for(self._next(), seconds)
        except TimeoutError:
            return
        raise AssertionError(f"unexpected event {ev}")
