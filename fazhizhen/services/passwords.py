"""argon2id password hashing, run off the event loop (a hash costs tens of milliseconds)."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()
# Verifying against this when the user does not exist keeps the timing of both answers alike. Hashed on
# first use, not at import: at the production cost that is a second of start-up for every process.
_DUMMY: str | None = None


def _dummy() -> str:
    global _DUMMY
    if _DUMMY is None:
        _DUMMY = _hasher.hash("fazhizhen-dummy-password")
    return _DUMMY


def configure(time_cost: int, memory_kib: int, parallelism: int) -> None:
    """Set the argon2id cost for new hashes; stored hashes with other parameters are rehashed at login."""
    global _hasher, _DUMMY
    if (_hasher.time_cost, _hasher.memory_cost, _hasher.parallelism) == (time_cost, memory_kib, parallelism):
        return
    _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)
    _DUMMY = None


async def hash_password(password: str) -> str:
    """The argon2id hash of a password."""
    return await asyncio.to_thread(_hasher.hash, password)


def _verify(stored: str | None, password: str) -> tuple[bool, bool]:
    try:
        _hasher.verify(stored or _dummy(), password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False, False
    if stored is None:
        return False, False
    return True, _hasher.check_needs_rehash(stored)


async def verify_password(stored: str | None, password: str) -> tuple[bool, bool]:
    """(matches, needs_rehash); a missing account still spends the time of one verification."""
    return await asyncio.to_thread(_verify, stored, password)


def password_problem(username: str, password: str, min_length: int = 10) -> str | None:
    """Why a new password is refused (too short, or the username in disguise), or None."""
    if len(password) < min_length:
        return f"password must be at least {min_length} characters"
    if len(password) > 1024:
        return "password must be at most 1024 characters"
    folded, user = password.strip().casefold(), username.strip().casefold()
    if user and (folded == user or folded == user[::-1]):
        return "password must not be the username"
    if len(set(password)) < 3:
        return "password must not repeat one or two characters"
    return None
