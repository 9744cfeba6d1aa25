"""Staff account security: password changes and resets, deactivation with immediate re-routing."""

from __future__ import annotations

from typing import Any

import asyncpg

from fazhizhen.errors import Conflict, InvalidInput, NotFound, Unauthorized
from fazhizhen.log import get_logger
from fazhizhen.repo import questions as qrepo
from fazhizhen.repo import security as repo
from fazhizhen.services import audit
from fazhizhen.services.auth import Principal, issue_token
from fazhizhen.services.passwords import hash_password, password_problem, verify_password
from fazhizhen.services.questions import route
from fazhizhen.settings import Settings

log = get_logger("fazhizhen.accounts")

Record = dict[str, Any]


def check_password(settings: Settings, username: str, password: str, field: str = "password") -> None:
    """422 unless the password meets the policy (length, not the username)."""
    problem = password_problem(username, password, settings.password_min_length)
    if problem:
        raise InvalidInput(
            f"密码至少 {settings.password_min_length} 位，且不能与用户名相同",
            details=[{"field": field, "message": problem}],
        )


async def _account(conn: asyncpg.Connection, account_id: int) -> Record:
    account = await repo.get_account(conn, account_id)
    if account is None:
        raise NotFound("账号不存在")
    return account


async def change_own_password(
    conn: asyncpg.Connection, settings: Settings, who: Principal, old: str, new: str, client_addr: str
) -> dict[str, object]:
    """A staff member changes their password: every token is revoked and a fresh one returned."""
    account = await _account(conn, who.id)
    ok, _ = await verify_password(account["password_hash"], old)
    if not ok:
        await audit.record(
            conn,
            "account.password_change",
            actor=who,
            target_type="account",
            target_id=who.id,
            success=False,
            client_addr=client_addr,
            details={"reason": "bad_old_password"},
        )
        raise Unauthorized("原密码不正确")
    check_password(settings, account["username"], new, "new_password")
    if new == old:
        raise InvalidInput.field("new_password", "新密码不能与原密码相同")
    new_hash = await hash_password(new)
    async with conn.transaction():
        await repo.set_account_password(conn, who.id, new_hash)
        await repo.revoke_account_tokens(conn, who.id)
        out = await issue_token(conn, settings, account["role"], account_id=who.id)
        await audit.record(
            conn,
            "account.password_change",
            actor=who,
            target_type="account",
            target_id=who.id,
            client_addr=client_addr,
        )
    out["user_id"] = who.id
    log.info("password_changed", account_id=who.id)
    return out


async def update_account(
    conn: asyncpg.Connection,
    settings: Settings,
    bureau: Principal,
    account_id: int,
    *,
    active: bool | None,
    password: str | None,
    client_addr: str,
) -> Record:
    """The bureau resets a password and/or (de)activates an account; tokens go with either change."""
    account = await _account(conn, account_id)
    if active is False and account_id == bureau.id:
        raise Conflict("不能停用自己的账号")
    if password is not None:
        check_password(settings, account["username"], password)
    new_hash = await hash_password(password) if password is not None else None
    rerouted: list[Record] = []
    async with conn.transaction():
        if new_hash is not None:
            await repo.set_account_password(conn, account_id, new_hash)
            await repo.revoke_account_tokens(conn, account_id)
        if active is not None and active != account["active"]:
            await repo.set_account_active(conn, account_id, active)
            if not active:
                await repo.revoke_account_tokens(conn, account_id)
                if account["role"] == "lawyer":
                    rerouted = await _withdraw_lawyer(conn, settings, account_id)
        await audit.record(
            conn,
            "account.update",
            actor=bureau,
            target_type="account",
            target_id=account_id,
            client_addr=client_addr,
            details={
                "active": active,
                "password_reset": password is not None,
                "rerouted": [r["question_id"] for r in rerouted],
            },
        )
    updated = await _account(conn, account_id)
    log.info("account_updated", account_id=account_id, active=updated["active"], rerouted=len(rerouted))
    return {
        "id": updated["id"],
        "role": updated["role"],
        "username": updated["username"],
        "active": updated["active"],
        "deactivated_at": updated["deactivated_at"],
        "password_changed_at": updated["password_changed_at"],
        "rerouted": rerouted,
    }


async def _withdraw_lawyer(conn: asyncpg.Connection, settings: Settings, lawyer_id: int) -> list[Record]:
    """Take a deactivated lawyer off every roster and pool and move their open questions at once.

    Pending questions go to another lawyer on duty in the same community, else to the pool; claimed
    ones go back to their pool's queue.
    """
    await repo.remove_lawyer_from_rosters(conn, lawyer_id)
    now = await qrepo.db_now(conn)
    out: list[Record] = []
    for q in await repo.lawyer_open_questions_locked(conn, lawyer_id):
        if q["status"] == "claimed":
            back = await repo.return_claimed_to_pool(conn, q["id"])
            if back:
                await qrepo.insert_event(
                    conn,
                    q["id"],
                    "unclaimed",
                    actor_role="system",
                    data={
                        "from_lawyer_id": lawyer_id,
                        "pool_id": back["pool_id"],
                        "reason": "lawyer_deactivated",
                    },
                )
                out.append({"question_id": q["id"], "to": "pool", "pool_id": back["pool_id"]})
            continue
        new_lawyer, _ = await route(conn, settings, q["community_id"], q["district_id"], now)
        if new_lawyer is not None and await repo.reassign_pending_question(conn, q["id"], new_lawyer):
            await qrepo.insert_event(
                conn,
                q["id"],
                "routed",
                actor_role="system",
                data={"lawyer_id": new_lawyer, "from_lawyer_id": lawyer_id, "reason": "lawyer_deactivated"},
            )
            out.append({"question_id": q["id"], "to": "lawyer", "lawyer_id": new_lawyer})
            continue
        moved = await repo.escalate_question_now(conn, q["id"], q["district_id"], settings.pool_sla_seconds)
        if moved:
            await qrepo.insert_event(
                conn,
                q["id"],
                "escalated",
                level=1,
                actor_role="system",
                data={
                    "from_lawyer_id": lawyer_id,
                    "pool_id": moved["pool_id"],
                    "reason": "lawyer_deactivated",
                    "due_at": moved["escalate_at"].isoformat(),
                },
            )
            out.append({"question_id": q["id"], "to": "pool", "pool_id": moved["pool_id"]})
    for r in out:
        log.info("question_rerouted", question_id=r["question_id"], from_lawyer_id=lawyer_id, to=r["to"])
    return out
