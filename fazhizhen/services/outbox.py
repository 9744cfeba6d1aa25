"""Delivering the notification outbox: claim one due row (SKIP LOCKED), send it, record the outcome.

A row stays locked by its transaction while it is being sent, so no two deliverers in any process send
it at once; it is marked sent in that same transaction. A failed attempt is retried after an
exponential back-off with jitter, and after `max_attempts` the row is dead. If a process dies mid-send
the transaction rolls back and another process sends the row again (at least once): webhook receivers
get the outbox id in X-Fazhizhen-Delivery to drop such a repeat; a graceful stop (SIGTERM) first lets
every send in flight finish, so it never causes one.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import asyncpg

from fazhizhen import observability as obs
from fazhizhen.log import get_logger
from fazhizhen.repo import notify as repo

log = get_logger("fazhizhen.outbox")

Record = dict[str, Any]


class Skip(Exception):
    """Nothing to send (no subscriber, channel not configured): the row is closed as skipped."""


class PermanentFailure(Exception):
    """The receiver refused for good (e.g. the resident withdrew consent): no retry, the row is dead."""


class Sender(Protocol):
    async def send(self, row: Record) -> None:
        """Deliver one outbox row; raise Skip, PermanentFailure, or anything else to retry."""


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    base_seconds: float = 2.0
    cap_seconds: float = 600.0


def backoff_seconds(attempts: int, policy: RetryPolicy, rand: Callable[[], float] = random.random) -> float:
    """Delay after the `attempts`-th failure: exponential, capped, with "equal jitter" (half fixed)."""
    ceiling = min(policy.cap_seconds, policy.base_seconds * 2 ** max(0, attempts - 1))
    return float(ceiling / 2 + rand() * ceiling / 2)


@dataclass
class DeliveryResult:
    sent: int = 0
    failed: int = 0
    dead: int = 0
    skipped: int = 0
    by_channel: dict[str, int] = field(default_factory=dict)


async def deliver_one(
    pool: asyncpg.Pool, senders: Mapping[str, Sender], policy: RetryPolicy, result: DeliveryResult
) -> bool:
    """Claim and deliver the next due row; False when none is due."""
    async with pool.acquire() as conn, conn.transaction():
        row = await repo.outbox_claim_one(conn)
        if row is None:
            return False
        ids = {"outbox_id": row["id"], "question_id": row["question_id"], "channel": row["channel"]}
        try:
            await senders[row["channel"]].send(row)
        except Skip as exc:
            await repo.outbox_mark_skipped(conn, row["id"], str(exc))
            result.skipped += 1
            outcome_name = "skipped"
            log.info("notification_skipped", reason=str(exc), **ids)
        except PermanentFailure as exc:
            await repo.outbox_mark_failed(conn, row["id"], str(exc), 0, row["attempts"] + 1)
            result.dead += 1
            outcome_name = "dead"
            log.warning("notification_dead", error=str(exc), attempts=row["attempts"] + 1, **ids)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
            retry_in = backoff_seconds(row["attempts"] + 1, policy)
            outcome = await repo.outbox_mark_failed(conn, row["id"], error, retry_in, policy.max_attempts)
            if outcome["status"] == "dead":
                result.dead += 1
                outcome_name = "dead"
                log.warning("notification_dead", error=error, attempts=outcome["attempts"], **ids)
            else:
                result.failed += 1
                outcome_name = "retried"
                log.info(
                    "notification_retry",
                    error=error,
                    attempts=outcome["attempts"],
                    retry_in=round(retry_in, 2),
                    **ids,
                )
        else:
            await repo.outbox_mark_sent(conn, row["id"])
            result.sent += 1
            result.by_channel[row["channel"]] = result.by_channel.get(row["channel"], 0) + 1
            outcome_name = "delivered"
            log.info("notification_sent", kind=row["kind"], **ids)
    # counted once the outcome is committed: a rolled-back attempt (process dying mid-send) is not one
    obs.notification(row["channel"], outcome_name)
    return True


async def deliver_due(
    pool: asyncpg.Pool,
    senders: Mapping[str, Sender],
    policy: RetryPolicy,
    *,
    workers: int = 4,
    max_rows: int = 500,
    stopping: Callable[[], bool] = lambda: False,
) -> DeliveryResult:
    """Deliver due rows with `workers` concurrent deliverers until none is due, `max_rows`, or a stop."""
    result = DeliveryResult()
    budget = [max_rows]

    async def worker() -> None:
        while not stopping() and budget[0] > 0:
            budget[0] -= 1
            if not await deliver_one(pool, senders, policy, result):
                return

    await asyncio.gather(*(worker() for _ in range(workers)))
    return result


async def status_counts(conn: asyncpg.Connection) -> list[Record]:
    """How many notifications per channel and status."""
    return await repo.outbox_counts(conn)


async def list_rows(
    conn: asyncpg.Connection, status: str | None, before_id: int | None, limit: int
) -> list[Record]:
    """The outbox, newest first (payloads carry ids and times, never message text)."""
    return await repo.outbox_list(conn, status, before_id, limit)
