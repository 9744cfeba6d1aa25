"""The per-process hub: reads new stream rows once and fans them out to this process's SSE clients.

Every client has its own bounded buffer; the hub only ever puts without waiting, so a slow client
cannot delay the others. A client whose buffer is full is cut off (its stream ends) and catches up by
replay when it reconnects with Last-Event-ID.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from fazhizhen.log import get_logger
from fazhizhen.repo import realtime as repo

log = get_logger("fazhizhen.realtime.hub")

Record = dict[str, Any]
READ_BATCH = 1000
_ids = itertools.count(1)


@dataclass(eq=False)
class Client:
    """One open stream: a lawyer's (lawyer_id set) or the bureau's (lawyer_id None)."""

    lawyer_id: int | None
    start: int  # hub head when the client registered: live events are those after it
    limit: int
    queue: asyncio.Queue[Record | None] = field(default_factory=asyncio.Queue)
    id: int = field(default_factory=lambda: next(_ids))
    closed_reason: str | None = None

    def wants(self, row: Record) -> bool:
        if self.lawyer_id is None:
            return bool(row["bureau"])
        return self.lawyer_id in row["lawyer_ids"]

    def offer(self, row: Record) -> None:
        if self.closed_reason is not None:
            return
        if self.queue.qsize() >= self.limit:
            self.close("overflow")
            return
        self.queue.put_nowait(row)

    def close(self, reason: str) -> None:
        """End the stream: the handler drains nothing more and returns."""
        if self.closed_reason is None:
            self.closed_reason = reason
            self.queue.put_nowait(None)


class Hub:
    """Fans stream rows out to the clients of this process, reading each row from the database once."""

    def __init__(self, pool: asyncpg.Pool, client_buffer: int) -> None:
        self.pool = pool
        self.client_buffer = client_buffer
        self.head = 0
        self.clients: set[Client] = set()
        self.closing = False
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        async with self.pool.acquire() as conn:
            self.head = await repo.stream_head(conn)

    def register(self, lawyer_id: int | None) -> Client:
        client = Client(lawyer_id=lawyer_id, start=self.head, limit=self.client_buffer)
        self.clients.add(client)
        return client

    def unregister(self, client: Client) -> None:
        self.clients.discard(client)

    async def catch_up(self) -> int:
        """Read every row after the head and dispatch it; return how many rows were read."""
        read = 0
        async with self._lock:
            while True:
                async with self.pool.acquire() as conn:
                    rows = await repo.stream_after(conn, self.head, READ_BATCH)
                for row in rows:
                    self.dispatch(row)
                read += len(rows)
                if len(rows) < READ_BATCH:
                    return read

    def dispatch(self, row: Record) -> None:
        self.head = max(self.head, row["seq"])
        for client in list(self.clients):
            if client.wants(row):
                client.offer(row)
                if client.closed_reason == "overflow":
                    log.warning("stream_client_overflow", client_id=client.id, lawyer_id=client.lawyer_id)

    def close_all(self, reason: str = "shutdown") -> None:
        """End every stream (server shutting down); new ones are refused from now on."""
        self.closing = True
        for client in list(self.clients):
            client.close(reason)
