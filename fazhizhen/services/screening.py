"""Hooks the question service calls for residents' text: abuse limits and WeChat's content check."""

from __future__ import annotations

from typing import Any

import asyncpg

from fazhizhen.log import get_logger
from fazhizhen.repo import security as repo
from fazhizhen.services import ratelimit, wechat
from fazhizhen.services.auth import Principal
from fazhizhen.settings import Settings

log = get_logger("fazhizhen.screening")


async def before_submit(
    conn: asyncpg.Connection, settings: Settings, actor: Principal, content: str
) -> str | None:
    """Outside the transaction: refuse early when over a limit, then screen the text (may be slow)."""
    if actor.role != "resident":
        return None
    await ratelimit.check_question(conn, settings, actor.id)
    return await wechat.screen(conn, settings, actor.id, content)


async def check_limits(conn: asyncpg.Connection, settings: Settings, actor: Principal) -> None:
    """Inside the submitting transaction: the authoritative limit check under the resident's lock."""
    if actor.role == "resident":
        await ratelimit.check_question(conn, settings, actor.id)


async def before_follow_up(
    conn: asyncpg.Connection, settings: Settings, actor: Principal, content: str
) -> str | None:
    """Screen a follow-up; the review flag (or None) goes onto the message."""
    if actor.role != "resident":
        return None
    return await wechat.screen(conn, settings, actor.id, content)


async def flag_question(conn: asyncpg.Connection, q: dict[str, Any], flag: str | None) -> None:
    """Mark a question for human review (WeChat could not screen it, or suggested review)."""
    if flag:
        await repo.set_question_review_flag(conn, q["id"], flag)
        q["review_flag"] = flag
        log.warning("question_flagged_for_review", question_id=q["id"], reason=flag)


async def flag_message(conn: asyncpg.Connection, msg: dict[str, Any], flag: str | None) -> None:
    """Mark a follow-up message for human review."""
    if flag:
        await repo.set_message_review_flag(conn, msg["id"], flag)
        log.warning(
            "message_flagged_for_review", question_id=msg["question_id"], message_id=msg["id"], reason=flag
        )
