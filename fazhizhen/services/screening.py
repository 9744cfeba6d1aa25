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

Record = dict[str, Any]


def screens_text(settings: Settings) -> bool:
    """Whether residents' text goes to WeChat's content check (a slow outside call) before it is stored."""
    return settings.wechat_content_check and wechat.configured(settings)


async def before_submit(
    conn: asyncpg.Connection | None, settings: Settings, actor: Principal, content: str
) -> str | None:
    """Before a resident's question is written: the review flag WeChat's content check gives its text.

    Only when the text goes to WeChat (a slow outside call; `conn` is needed then) is the resident's
    usage read here, to refuse early without spending the call; the count that decides is the one
    taken under the lock by the statement that inserts the question.
    """
    if actor.role != "resident" or not screens_text(settings):
        return None
    assert conn is not None, "screening residents' text needs a connection"
    ratelimit.check_question(settings, await questions_repo.question_usage(conn, actor.id))
    return await wechat.screen(conn, settings, actor.id, content)


async def before_follow_up(
    conn: asyncpg.Connection, settings: Settings, actor: Principal, content: str
) -> str | None:
    """Screen a follow-up; the review flag (or None) goes onto the message."""
    if actor.role != "resident":
        return None
    return await wechat.screen(conn, settings, actor.id, content)


def note_flagged(q: dict[str, Any]) -> None:
    """Log a question stored for human review (the flag was written with it)."""
    if q.get("review_flag"):
        log.warning("question_flagged_for_review", question_id=q["id"], reason=q["review_flag"])


async def flag_message(conn: asyncpg.Connection, msg: dict[str, Any], flag: str | None) -> None:
    """Mark a follow-up message for human review."""
    if flag:
        await repo.set_message_review_flag(conn, msg["id"], flag)
        log.warning(
            "message_flagged_for_review", question_id=msg["question_id"], message_id=msg["id"], reason=flag
        )
