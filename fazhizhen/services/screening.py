"""Hooks the question service calls for residents' text: abuse limits and WeChat's content check."""

from __future__ import annotations

from typing import Any

import asyncpg

from fazhizhen.log import get_logger
from fazhizhen.repo import questions as questions_repo
from fazhizhen.repo import security as repo
from fazhizhen.services import ratelimit, wechat
from fazhizhen.services.auth import Principal
from fazhizhen.settings import Settings

log = get_logger("fazhizhen.screening")


def screens_text(settings: Settings) -> bool:
    """Whether residents' text goes to WeChat's content check (a slow outside call) before it is stored."""
    return settings.wechat_content_check and wechat.configured(settings)


async def before_submit(
    conn: asyncpg.Connection, settings: Settings, actor: Principal, community_id: int, content: str
) -> str | None:
    """Outside the transaction, and only when the text goes to WeChat: refuse early when over a limit (no
    WeChat call for a question that would be refused), then screen the text. Without screening the
    check under the lock in the transaction is the only one: one read instead of two."""
    if actor.role != "resident" or not screens_text(settings):
        return None
    ratelimit.check_question(settings, await questions_repo.submission_context(conn, community_id, actor.id))
    return await wechat.screen(conn, settings, actor.id, content)


async def lock_limits(conn: asyncpg.Connection, actor: Principal) -> int | None:
    """First in the submitting transaction: take the resident's lock; the resident whose usage the next
    read must include (None: no question limits apply to `actor`)."""
    if actor.role != "resident":
        return None
    await ratelimit.lock_questions(conn, actor.id)
    return actor.id


def check_limits(settings: Settings, actor: Principal, use: dict[str, Any]) -> None:
    """The authoritative limit check, on the usage read after `lock_limits`."""
    if actor.role == "resident":
        ratelimit.check_question(settings, use)


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
