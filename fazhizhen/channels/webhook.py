"""Signed webhook deliveries (HMAC-SHA256 over `<timestamp>.<body>`; see services/webhooks.py)."""

from __future__ import annotations

import json
import time
from typing import Any

import aiohttp

from fazhizhen.services.outbox import Skip
from fazhizhen.services.webhooks import sign

Record = dict[str, Any]


class WebhookSender:
    """POST the outbox payload to the webhook's URL; any non-2xx answer or a timeout is retried."""

    def __init__(self, session: aiohttp.ClientSession, timeout_seconds: float) -> None:
        self.session = session
        self.timeout = aiohttp.ClientTimeout(total=timeout_seconds)

    async def send(self, row: Record) -> None:
        if not row["webhook_active"]:
            raise Skip("webhook deactivated")
        payload = row["payload"] | {"delivery_id": row["id"]}
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=str).encode()
        ts = int(time.time())
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "fazhizhen-webhook/1",
            "X-Fazhizhen-Event": row["kind"],
            "X-Fazhizhen-Delivery": str(row["id"]),
            "X-Fazhizhen-Timestamp": str(ts),
            "X-Fazhizhen-Signature": sign(row["webhook_secret"], ts, body),
        }
        async with self.session.post(
            row["webhook_url"], data=body, headers=headers, timeout=self.timeout, allow_redirects=False
        ) as resp:
            if not 200 <= resp.status < 300:
                raise RuntimeError(f"webhook answered HTTP {resp.status}")
