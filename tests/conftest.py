"""Test fixtures: a real PostgreSQL (embedded unless FAZHIZHEN_DATABASE_URL is set), a migrated template
database copied for each test that needs one, a rolled-back-transaction connection, and an API client."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer

from fazhizhen.app import create_app
from fazhizhen.db import pool as db_pool
from fazhizhen.db.dsn import with_database
from fazhizhen.db.embedded import EmbeddedPostgres
from fazhizhen.db.migrate import migrate
from fazhizhen.db.pool import connect
from fazhizhen.log import configure_logging
from fazhizhen.settings import Settings
from tests.factories import Api

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = "fzz_template"
SHARED = "fzz_shared"

os.environ.setdefault("XDG_RUNTIME_DIR", str(ROOT / "var" / "run"))
# cheap argon2 in tests (production keeps the OWASP cost); subprocess servers inherit it
os.environ.setdefault("FAZHIZHEN_ARGON2_TIME_COST", "1")
os.environ.setdefault("FAZHIZHEN_ARGON2_MEMORY_KIB", "256")
os.environ.setdefault("FAZHIZHEN_ARGON2_PARALLELISM", "1")
# abuse limits out of the way of scenario, fault and bench tests, subprocess servers included
# (tests/api/test_limits.py sets its own; test_contract_defaults pins the production defaults)
for _limit in (
    "RATE_QUESTIONS_PER_HOUR",
    "RATE_QUESTIONS_PER_DAY",
    "MAX_OPEN_QUESTIONS",
    "LOGIN_MAX_FAILURES_PER_ADDRESS",
    "WECHAT_LOGINS_PER_ADDRESS_PER_MINUTE",
):
    os.environ.setdefault(f"FAZHIZHEN_{_limit}", "10000")
# the classifier's start-up build costs each server ~1.3 s of CPU; only tests/ops/test_classifier_warm_up.py
# needs it, so subprocess servers and in-process apps skip it (the first uncategorised question builds)
os.environ.setdefault("FAZHIZHEN_CLASSIFIER_WARM_UP", "false")
Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(parents=True, exist_ok=True)


@pytest.fixture(scope="session")
def server_dsn() -> Iterator[str]:
    """A DSN to the maintenance database of a real PostgreSQL server."""
    configure_logging("console", "WARNING")
    url = os.environ.get("FAZHIZHEN_DATABASE_URL")
    if url:
        yield url
        return
    embedded = EmbeddedPostgres(ROOT / "var" / "test-pg")
    dsn = embedded.start()
    try:
        yield dsn
    finally:
        embedded.stop()


async def _recreate(admin: asyncpg.Connection, name: str, template: str | None = None) -> None:
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    tmpl = f' TEMPLATE "{template}"' if template else ""
    await admin.execute(f'CREATE DATABASE "{name}"{tmpl}')


@pytest.fixture(scope="session")
async def template_dsn(server_dsn: str) -> str:
    """A migrated database used only as a template."""
    admin = await asyncpg.connect(server_dsn)
    try:
        await _recreate(admin, TEMPLATE)
        conn = await connect(with_database(server_dsn, TEMPLATE))
        try:
            await migrate(conn)
        finally:
            await conn.close()
        await _recreate(admin, SHARED, TEMPLATE)
    finally:
        await admin.close()
    return with_database(server_dsn, TEMPLATE)


@pytest.fixture
async def db_dsn(server_dsn: str, template_dsn: str) -> AsyncIterator[str]:
    """A fresh database copied from the template, for tests that commit, race or LISTEN."""
    async with fresh_database(server_dsn) as dsn:
        yield dsn


@contextlib.asynccontextmanager
async def fresh_database(server_dsn: str, template: str | None = TEMPLATE) -> AsyncIterator[str]:
    """A new database copied from the migrated template (or empty with None), dropped on exit."""
    name = "fzz_" + uuid.uuid4().hex[:12]
    admin = await asyncpg.connect(server_dsn)
    try:
        await _recreate(admin, name, template)
    finally:
        await admin.close()
    try:
        yield with_database(server_dsn, name)
    finally:
        admin = await asyncpg.connect(server_dsn)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@pytest.fixture
async def conn(server_dsn: str, template_dsn: str) -> AsyncIterator[asyncpg.Connection]:
    """One connection inside a transaction that is rolled back after the test (fast, isolated)."""
    c = await connect(with_database(server_dsn, SHARED))
    tx = c.transaction()
    await tx.start()
    try:
        yield c
    finally:
        await tx.rollback()
        await c.close()


def make_settings(dsn: str, **overrides: object) -> Settings:
    """Settings for tests: the given database, dev login on, scheduler off unless asked."""
    values: dict[str, object] = {
        "database_url": dsn,
        "dev_login": True,
        "scheduler_enabled": False,
        "log_format": "console",
        "log_level": "WARNING",
        "escalate_after_seconds": 900,
        "pool_sla_seconds": 900,
        "db_pool_min": 1,
        "db_pool_max": 10,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def settings(db_dsn: str) -> Settings:
    return make_settings(db_dsn)


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    """An HTTP client against a real server on a fresh database."""
    app = create_app(settings)
    async with TestClient(TestServer(app)) as c:
        yield c


@pytest.fixture
async def api(client: TestClient, settings: Settings) -> Api:  # type: ignore[type-arg]
    """The client with helpers to log in and build a small city."""
    return Api(client, settings)


@pytest.fixture
async def make_api(db_dsn: str) -> AsyncIterator[Callable[..., Awaitable[Api]]]:
    """Build more API clients on the same fresh database, each with its own settings overrides."""
    clients: list[TestClient] = []  # type: ignore[type-arg]

    async def build(**overrides: object) -> Api:
        s = make_settings(db_dsn, **overrides)
        c = TestClient(TestServer(create_app(s)))
        await c.start_server()
        clients.append(c)
        return Api(c, s)

    yield build
    for c in clients:
        await c.close()


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every statement any pooled connection sends, in order (apps built after this fixture)."""
    sent: list[str] = []
    init = db_pool._init_connection

    async def logged(conn: asyncpg.Connection) -> None:
        await init(conn)
        conn.add_query_logger(lambda q: sent.append(" ".join(q.query.split())))

    monkeypatch.setattr(db_pool, "_init_connection", logged)
    return sent
