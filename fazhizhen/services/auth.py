"""Who is asking: password and dev logins, opaque bearer tokens (stored hashed), role checks."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg

from fazhizhen import observability as obs
from fazhizhen.errors import Forbidden, NotFound, RateLimited, Unauthorized
from fazhizhen.log import get_logger
from fazhizhen.repo import auth as repo
from fazhizhen.services import audit, ratelimit
from fazhizhen.services.batching import MicroBatcher
from fazhizhen.services.passwords import hash_password, password_problem, verify_password
from fazhizhen.settings import Settings

log = get_logger("fazhizhen.auth")

ROLES = ("resident", "lawyer", "worker", "bureau")


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller: a role and the id of the resident or account."""

    role: str
    id: int
    token_hash: bytes = b""


def hash_token(token: str) -> bytes:
    """SHA-256 of a bearer token: what the database stores and looks up."""
    return hashlib.sha256(token.encode()).digest()


def new_token() -> str:
    """A fresh opaque bearer token (256 bits of randomness)."""
    return secrets.token_urlsafe(32)


async def issue_token(
    conn: asyncpg.Connection,
    settings: Settings,
    role: str,
    *,
    account_id: int | None = None,
    resident_id: int | None = None,
) -> dict[str, object]:
    """Create a token for an account or a resident and return the login response fields."""
    token = new_token()
    ttl = settings.resident_token_ttl_seconds if role == "resident" else settings.staff_token_ttl_seconds
    expires = await repo.insert_token(conn, hash_token(token), role, account_id, resident_id, ttl)
    return {"token": token, "role": role, "expires_at": expires}


async def password_login(
    conn: asyncpg.Connection, settings: Settings, username: str, password: str, client_addr: str = "unknown"
) -> dict[str, object]:
    """Check a staff password and issue a token; 401 on any mismatch (same answer for unknown users).

    429 while the username or the client address is locked out; every attempt is audited.
    """
    try:
        await ratelimit.check_login(conn, settings, username, client_addr)
    except RateLimited as exc:
        log.warning("login_locked_out", retry_after=exc.retry_after)
        await audit.record(conn, "auth.login", success=False, client_addr=client_addr,
                           details={"username": username[:64], "reason": "locked_out"})
        raise
    account = await repo.get_account_by_username(conn, username)
    ok, rehash = await verify_password(account["password_hash"] if account else None, password)
    if not account or not ok or not account["active"]:
        log.info("login_failed", account_id=account["id"] if account else None)
        await ratelimit.record_login(conn, username, client_addr, False)
        await audit.record(
            conn, "auth.login", success=False, client_addr=client_addr,
            actor_role=account["role"] if account else None, actor_id=account["id"] if account else None,
            details={"username": username[:64],
                     "reason": "inactive" if account and ok else "bad_credentials"},
        )
        raise Unauthorized("用户名或密码错误")
    if rehash:
        await repo.update_password_hash(conn, account["id"], await hash_password(password))
        log.info("password_rehashed", account_id=account["id"])
    out = await issue_token(conn, settings, account["role"], account_id=account["id"])
    out["user_id"] = account["id"]
    await ratelimit.record_login(conn, username, client_addr, True)
    await audit.record(conn, "auth.login", actor_role=account["role"], actor_id=account["id"],
                       client_addr=client_addr, details={"username": username[:64]})
    log.info("login_succeeded", account_id=account["id"], role=account["role"])
    return out


async def dev_login(conn: asyncpg.Connection, settings: Settings, openid: str) -> dict[str, object]:
    """Development-only resident login by openid; 404 unless FAZHIZHEN_DEV_LOGIN is on."""
    if not settings.dev_login:
        raise NotFound("接口不存在")
    resident = await repo.upsert_resident_by_openid(conn, openid)
    if resident["deleted_at"] is not None:
        raise Forbidden("该账号已注销")
    out = await issue_token(conn, settings, "resident", resident_id=resident["id"])
    out["resident_id"] = resident["id"]
    return out


TokenLookup = Callable[[bytes], Awaitable["dict[str, Any] | None"]]


def token_lookup(pool: asyncpg.Pool, max_batch: int = 256) -> MicroBatcher[bytes, dict[str, Any] | None]:
    """Look tokens up by hash; concurrent requests share one query (services/batching.py), so the
    check every request makes costs a busy service one round trip per batch, not per request."""

    async def run(digests: list[bytes]) -> list[dict[str, Any] | None]:
        async with pool.acquire() as conn:
            found = await repo.get_token_principals(conn, list(set(digests)))
        return [found.get(d) for d in digests]

    return MicroBatcher(
        run, max_batch=max_batch, max_inflight=1, name="tokens", observe=obs.batch_observer("tokens")
    )


def bearer_digest(authorization: str | None) -> bytes:
    """The hash of the token in an `Authorization: Bearer` header; 401 if the header is missing or malformed."""
    if not authorization:
        raise Unauthorized("请先登录")
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 512:
        raise Unauthorized("登录凭证格式不正确")
    return hash_token(token)


def live_principal(digest: bytes, token_hash: bytes | None, role: str | None, principal_id: int | None) -> Principal:
    """The principal a live token row names (`live_tokens`: hash, role, id); 401 when there is none."""
    # the lookup is by hash (a timing leak reveals nothing usable); compare in constant time anyway
    if token_hash is None or role is None or principal_id is None or not hmac.compare_digest(bytes(token_hash), digest):
        raise Unauthorized("登录已失效，请重新登录")
    return Principal(role=role, id=principal_id, token_hash=digest)


async def authenticate(lookup: TokenLookup, authorization: str | None) -> Principal:
    """The principal behind an `Authorization: Bearer` header; 401 if missing, unknown, expired, revoked."""
    digest = bearer_digest(authorization)
    row = await lookup(digest) or {}
    return live_principal(digest, row.get("token_hash"), row.get("role"), row.get("id"))


async def logout(conn: asyncpg.Connection, principal: Principal) -> None:
    """Revoke the token the caller used."""
    await repo.revoke_token(conn, principal.token_hash)


def require(principal: Principal | None, *roles: str) -> Principal:
    """The principal if it has one of `roles`; 401 without one, 403 with another role."""
    if principal is None:
        raise Unauthorized("请先登录")
    if roles and principal.role not in roles:
        raise Forbidden("无权访问", details=[{"field": "role", "message": f"requires {' or '.join(roles)}"}])
    return principal


async def create_or_reset_bureau(conn: asyncpg.Connection, username: str, password: str) -> dict[str, object]:
    """Create a bureau account, or reset its password (`fazhizhen create-admin`)."""
    problem = password_problem(username, password)
    if problem:
        raise ValueError(problem)
    row = await repo.upsert_bureau_account(conn, username, await hash_password(password))
    if row is None:
        raise ValueError(f"username {username!r} belongs to a non-bureau account")
    return row
