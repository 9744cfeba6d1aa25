"""The asyncpg pool, the embedded server behind it when no DSN is set, and driver-error translation."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator

import asyncpg

from fazhizhen.db.embedded import EmbeddedPostgres
from fazhizhen.errors import Conflict, InvalidInput, Unavailable
from fazhizhen.settings import Settings


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    await conn.set_type_codec("json", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Pool reset that sends nothing: asyncpg has already rolled back any open transaction.

    The default reset (advisory unlock, CLOSE ALL, UNLISTEN, RESET ALL) is one more round trip on every
    release, about a tenth of a request's CPU. Pooled connections never change session state: locks
    are transaction-scoped (`pg_advisory_xact_lock`, `set_config(..., true)`), LISTEN runs on dedicated
    connections, and the migrator releases its session lock itself.
    """


@contextlib.asynccontextmanager
async def database(settings: Settings) -> AsyncIterator[str]:
    """Yield a DSN: the configured one, or the embedded server's for as long as the block runs."""
    if settings.database_url is not None:
        yield settings.database_url.get_secret_value()
        return
    embedded = EmbeddedPostgres(settings.data_dir)
    import asyncio

    dsn = await asyncio.to_thread(embedded.start)
    try:
        yield dsn
    finally:
        await asyncio.to_thread(embedded.stop)


async def create_pool(dsn: str, *, min_size: int = 2, max_size: int = 20) -> asyncpg.Pool:
    """A pool whose connections decode json/jsonb to Python values."""
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=_init_connection,
        reset=_keep_session,
        command_timeout=60,
    )
    assert pool is not None
    return pool


async def connect(dsn: str) -> asyncpg.Connection:
    """One connection configured like the pool's."""
    conn = await asyncpg.connect(dsn)
    await _init_connection(conn)
    return conn


async def probe(dsn: str, seconds: float = 2.0) -> str | None:
    """None when a fresh connection to `dsn` answers `SELECT 1` within `seconds`, else the failure's name.

    A fresh connection, not the pool: readiness must not wait behind requests that hold every pooled
    connection, or behind a pooled connection still being torn down after the server went away.
    """

    try:
        conn = await asyncpg.connect(dsn, timeout=seconds, command_timeout=seconds)
    except (TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
        return type(exc).__name__
    try:
        await conn.fetchval("SELECT 1")
    except (TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
        return type(exc).__name__
    finally:
        conn.terminate()
    return None


def translate(exc: Exception) -> Exception:
    """Map a driver error to a domain error (the one place asyncpg errors are interpreted)."""
    if isinstance(exc, asyncpg.UniqueViolationError):
        return Conflict("已存在相同的记录", constraint=exc.constraint_name)
    if isinstance(exc, asyncpg.ForeignKeyViolationError):
        field = (exc.constraint_name or "").split("_")
        name = "_".join(field[1:-1]) if len(field) > 2 else "id"
        return InvalidInput("引用的对象不存在", details=[{"field": name, "message": "does not exist"}])
    if isinstance(exc, asyncpg.CheckViolationError | asyncpg.DataError):
        return InvalidInput(f"数据不合法: {exc.__class__.__name__}")
    if isinstance(
        exc,
        asyncpg.PostgresConnectionError
        | asyncpg.InterfaceError
        | asyncpg.CannotConnectNowError
        | asyncpg.AdminShutdownError
        # raised when a pooled connection is torn down mid-operation, e.g. while PostgreSQL restarts
        | asyncpg.InternalClientError
        | ConnectionError
        | OSError,
    ):
        return Unavailable("数据库暂时不可用，请稍后再试")
    return exc
