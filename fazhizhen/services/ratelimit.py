"""Abuse limits kept in PostgreSQL, so every server process sees the same counts.

Question limits count the resident's own rows in `questions` under a per-resident advisory lock (two
submits at once cannot both squeeze under the limit); login lock-outs count rows in `login_attempts`;
anything else uses the shared fixed-window counters in `rate_counters`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from fazhizhen.errors import RateLimited
from fazhizhen.repo import security as repo
from fazhizhen.settings import Settings

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def _seconds_until(moment: datetime, now: datetime) -> int:
    return max(1, math.ceil((moment - now).total_seconds()))


def question_limits(settings: Settings) -> tuple[int, int, int]:
    """The question limits the submitting statement enforces: open questions, per hour, per day."""
    return settings.max_open_questions, settings.rate_questions_per_hour, settings.rate_questions_per_day


def question_refusal(settings: Settings, usage: Mapping[str, Any]) -> RateLimited | None:
    """The 429 for a resident's question usage over a limit, None under every limit (`used_open`,
    `used_last_hour`, `used_last_day`, their oldest, `used_now`: what `fzz_locked_question_usage` counts
    under the resident's lock)."""
    use = {k.removeprefix("used_"): v for k, v in usage.items()}
    now = use["now"]
    if use["open"] >= settings.max_open_questions:
        return RateLimited(
            f"您已有 {use['open']} 个问题尚未得到解答，请等待律师回复后再提问",
            retry_after=int(settings.escalate_after_seconds),
            details=[{"field": "open_questions", "message": f"limit {settings.max_open_questions}"}],
        )
    if use["last_hour"] >= settings.rate_questions_per_hour:
        return RateLimited(
            "提问过于频繁，请稍后再试",
            retry_after=_seconds_until(use["oldest_in_hour"] + HOUR, now),
            details=[{"field": "questions_per_hour", "message": f"limit {settings.rate_questions_per_hour}"}],
        )
    if use["last_day"] >= settings.rate_questions_per_day:
        return RateLimited(
            "今日提问次数已达上限，请明天再试",
            retry_after=_seconds_until(use["oldest_in_day"] + DAY, now),
            details=[{"field": "questions_per_day", "message": f"limit {settings.rate_questions_per_day}"}],
        )
    return None


def check_question(settings: Settings, usage: Mapping[str, Any]) -> None:
    """Raise `question_refusal`'s 429, if any."""
    refusal = question_refusal(settings, usage)
    if refusal is not None:
        raise refusal


def lockout_seconds(settings: Settings, failures: int) -> float:
    """How long a username stays locked after `failures` consecutive failures (doubling, capped)."""
    if failures < settings.login_max_failures:
        return 0.0
    extra = min(failures - settings.login_max_failures, 20)
    return float(min(settings.login_lockout_seconds * 2**extra, settings.login_lockout_max_seconds))


async def check_login(conn: asyncpg.Connection, settings: Settings, username: str, addr: str) -> None:
    """429 while the username is locked out or the client address has failed too often."""
    window = settings.login_failure_window_seconds
    by_user = await repo.login_failures_for_username(conn, username, window)
    lock = lockout_seconds(settings, by_user["failures"])
    if lock and by_user["last_at"] is not None:
        until = by_user["last_at"] + timedelta(seconds=lock)
        if until > by_user["now"]:
            raise RateLimited(
                "登录失败次数过多，账号已暂时锁定，请稍后再试",
                retry_after=_seconds_until(until, by_user["now"]),
                details=[{"field": "username", "message": "locked after repeated failures"}],
            )
    by_addr = await repo.login_failures_for_addr(conn, addr, window)
    if by_addr["failures"] >= settings.login_max_failures_per_address:
        raise RateLimited(
            "该网络登录失败次数过多，请稍后再试",
            retry_after=_seconds_until(by_addr["first_at"] + timedelta(seconds=window), by_addr["now"]),
            details=[{"field": "client_addr", "message": "too many failures from this address"}],
        )


async def record_login(conn: asyncpg.Connection, username: str, addr: str, success: bool) -> None:
    """Remember one password login attempt (what the lock-outs count)."""
    await repo.insert_login_attempt(conn, username, addr, success)


async def hit(conn: asyncpg.Connection, key: str, limit: int, window_seconds: int, message: str) -> None:
    """Count one hit on a shared fixed-window counter; 429 once more than `limit` fall in the window."""
    row = await repo.rate_hit(conn, key, window_seconds)
    if row["count"] > limit:
        raise RateLimited(message, retry_after=math.ceil(row["reset_seconds"]))
