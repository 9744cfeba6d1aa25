"""SQL for the audit log, login attempts, shared rate counters, personal data and account security."""

from __future__ import annotations

from typing import Any

import asyncpg

from fazhizhen.db.queries import Q
from fazhizhen.repo import workers as workers_repo

Record = dict[str, Any]


def _one(row: asyncpg.Record | None) -> Record | None:
    return dict(row) if row is not None else None


def _all(rows: list[asyncpg.Record]) -> list[Record]:
    return [dict(r) for r in rows]


# --- audit ------------------------------------------------------------------------------------


async def insert_audit(
    conn: asyncpg.Connection,
    *,
    actor_role: str | None,
    actor_id: int | None,
    action: str,
    target_type: str | None,
    target_id: int | None,
    success: bool,
    client_addr: str | None,
    request_id: str | None,
    details: dict[str, Any],
) -> Record:
    return dict(
        await conn.fetchrow(
            Q.insert_audit,
            actor_role,
            actor_id,
            action,
            target_type,
            target_id,
            success,
            client_addr,
            request_id,
            details,
        )
    )


async def list_audit(conn: asyncpg.Connection, f: dict[str, Any], limit: int) -> list[Record]:
    return _all(
        await conn.fetch(
            Q.list_audit,
            f.get("actor_role"),
            f.get("actor_id"),
            f.get("action"),
            f.get("target_type"),
            f.get("target_id"),
            f.get("success"),
            f.get("since"),
            f.get("until"),
            f.get("before_id"),
            f.get("client_addr"),
            limit,
        )
    )


# --- limits -----------------------------------------------------------------------------------


async def insert_login_attempt(conn: asyncpg.Connection, username: str, addr: str, success: bool) -> None:
    await conn.execute(Q.insert_login_attempt, username, addr, success)


async def login_failures_for_username(conn: asyncpg.Connection, username: str, window: float) -> Record:
    return dict(await conn.fetchrow(Q.login_failures_for_username, username, float(window)))


async def login_failures_for_addr(conn: asyncpg.Connection, addr: str, window: float) -> Record:
    return dict(await conn.fetchrow(Q.login_failures_for_addr, addr, float(window)))


async def rate_hit(conn: asyncpg.Connection, key: str, window_seconds: int) -> Record:
    return dict(await conn.fetchrow(Q.rate_hit, key, window_seconds))


async def set_message_review_flag(conn: asyncpg.Connection, message_id: int, flag: str) -> None:
    await conn.execute(Q.set_message_review_flag, message_id, flag)


# --- residents and personal data --------------------------------------------------------------


async def upsert_resident_wechat(conn: asyncpg.Connection, openid: str, unionid: str | None) -> Record:
    return dict(await conn.fetchrow(Q.upsert_resident_wechat, openid, unionid))


async def resident_openid(conn: asyncpg.Connection, resident_id: int) -> str | None:
    openid: str | None = await conn.fetchval(Q.resident_openid, resident_id)
    return openid


async def get_resident(conn: asyncpg.Connection, resident_id: int) -> Record | None:
    return _one(await conn.fetchrow(Q.get_resident, resident_id))


async def resident_questions_all(conn: asyncpg.Connection, resident_id: int) -> list[Record]:
    return _all(await conn.fetch(Q.resident_questions_all, resident_id))


async def resident_messages_all(conn: asyncpg.Connection, resident_id: int) -> list[Record]:
    return _all(await conn.fetch(Q.resident_messages_all, resident_id))


async def resident_tokens(conn: asyncpg.Connection, resident_id: int) -> list[Record]:
    return _all(await conn.fetch(Q.resident_tokens, resident_id))


async def anonymise_resident(conn: asyncpg.Connection, resident_id: int) -> bool:
    """Strip content and identity from a resident's questions and delete the resident (one transaction)."""
    async with conn.transaction():
        await conn.execute(Q.anonymise_resident_messages, resident_id)
        await conn.execute(Q.anonymise_resident_ratings, resident_id)
        await workers_repo.erase_for_resident(conn, resident_id)  # while resident_id still links them
        await conn.execute(Q.anonymise_resident_questions, resident_id)
        await conn.execute(Q.revoke_resident_tokens, resident_id)
        return await conn.fetchval(Q.delete_resident, resident_id) is not None


async def purge_older_than(conn: asyncpg.Connection, days: int) -> int:
    """Anonymise content older than `days`; returns how many questions were anonymised."""
    async with conn.transaction():
        await conn.execute(Q.purge_old_messages, days)
        await conn.execute(Q.purge_old_ratings, days)
        await workers_repo.purge_older_than(conn, days)
        count: int = await conn.fetchval(Q.purge_old_questions, days)
        await conn.execute(Q.purge_old_login_attempts, days)
        await conn.execute(Q.purge_old_rate_counters)
    return count


# --- accounts ---------------------------------------------------------------------------------


async def get_account(conn: asyncpg.Connection, account_id: int) -> Record | None:
    return _one(await conn.fetchrow(Q.get_account, account_id))


async def set_account_password(conn: asyncpg.Connection, account_id: int, password_hash: str) -> None:
    await conn.execute(Q.set_account_password, account_id, password_hash)


async def revoke_account_tokens(conn: asyncpg.Connection, account_id: int) -> None:
    await conn.execute(Q.revoke_account_tokens, account_id)


async def set_account_active(conn: asyncpg.Connection, account_id: int, active: bool) -> Record | None:
    row = _one(await conn.fetchrow(Q.set_account_active, account_id, active))
    if row is not None and row["role"] == "lawyer":
        await conn.execute(Q.set_lawyer_active, account_id, active)
    return row


async def remove_lawyer_from_rosters(conn: asyncpg.Connection, lawyer_id: int) -> None:
    await conn.execute(Q.delete_lawyer_duty_slots, lawyer_id)
    await conn.execute(Q.delete_lawyer_pool_memberships, lawyer_id)


async def lawyer_open_questions_locked(conn: asyncpg.Connection, lawyer_id: int) -> list[Record]:
    return _all(await conn.fetch(Q.lawyer_open_questions_locked, lawyer_id))


async def reassign_pending_question(conn: asyncpg.Connection, question_id: int, lawyer_id: int) -> bool:
    return await conn.fetchval(Q.reassign_pending_question, question_id, lawyer_id) is not None


async def escalate_question_now(
    conn: asyncpg.Connection, question_id: int, district_id: int | None, pool_sla_seconds: float
) -> Record | None:
    return _one(
        await conn.fetchrow(Q.escalate_question_now, question_id, district_id, float(pool_sla_seconds))
    )


async def return_claimed_to_pool(conn: asyncpg.Connection, question_id: int) -> Record | None:
    return _one(await conn.fetchrow(Q.return_claimed_to_pool, question_id))
