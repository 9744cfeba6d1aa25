"""The bureau's webhooks: registration, listing, removal, and the signature every delivery carries.

The secret is generated here, shown once in the creation response and stored as issued, since
signing needs it in the clear (as with GitHub's or Stripe's webhook secrets); it is never listed,
logged or exported. Receivers verify `X-Fazhizhen-Signature: sha256=<hex>`, the HMAC-SHA256 under the
secret of `<X-Fazhizhen-Timestamp>.<raw body>`, and reject stale timestamps to stop replays.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

import asyncpg

from fazhizhen.errors import NotFound
from fazhizhen.log import get_logger
from fazhizhen.repo import notify as repo

log = get_logger("fazhizhen.webhooks")

Record = dict[str, Any]
EVENTS = ("escalated", "alerted")


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header value for `body` sent at `timestamp` (seconds since the epoch)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: int, body: bytes, signature: str) -> bool:
    """What a receiver does: recompute and compare in constant time."""
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


async def register(
    conn: asyncpg.Connection, url: str, events: list[str], description: str | None, created_by: int
) -> Record:
    """Create a webhook; the response carries the secret, this once."""
    secret = new_secret()
    row = await repo.insert_webhook(conn, url, sorted(set(events)), secret, description, created_by)
    log.info("webhook_registered", webhook_id=row["id"], events=row["events"], created_by=created_by)
    return row | {"secret": secret}


async def list_all(conn: asyncpg.Connection) -> list[Record]:
    return await repo.list_webhooks(conn)


async def deactivate(conn: asyncpg.Connection, webhook_id: int) -> Record:
    """Stop sending to a webhook (pending deliveries to it are skipped); its history stays."""
    row = await repo.deactivate_webhook(conn, webhook_id)
    if row is None:
        raise NotFound("webhook 不存在")
    log.info("webhook_deactivated", webhook_id=webhook_id)
    return row
