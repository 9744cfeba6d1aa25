"""The command line against a real database: migrate, create-admin, demo."""

from __future__ import annotations

import os
import subprocess
import sys

import asyncpg

from tests.factories import Api


def _run(dsn: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FAZHIZHEN_DATABASE_URL": dsn, "FAZHIZHEN_LOG_LEVEL": "WARNING"}
    return subprocess.run(
        [sys.executable, "-m", "fazhizhen", *args], input=stdin, env=env, capture_output=True, text=True, timeout=120
    )


async def test_migrate_is_idempotent(db_dsn: str) -> None:
    out = _run(db_dsn, "migrate")
    assert out.returncode == 0 and "applied 0 migration(s)" in out.stdout


async def test_create_admin_then_login(api: Api, db_dsn: str) -> None:
    assert _run(db_dsn, "create-admin", "--username", "chief", "--password-stdin", stdin="short\n").returncode == 2
    out = _run(db_dsn, "create-admin", "--username", "chief", "--password-stdin", stdin="a-long-passphrase\n")
    assert out.returncode == 0, out.stderr
    body = await api.ok("POST", "/auth/login", json={"username": "chief", "password": "a-long-passphrase"})
    assert body["role"] == "bureau"
    # running it again resets the password
    assert (
        _run(db_dsn, "create-admin", "--username", "chief", "--password-stdin", stdin="another-passphrase\n").returncode
        == 0
    )
    assert (await api.call("POST", "/auth/login", json={"username": "chief", "password": "a-long-passphrase"}))[
        0
    ] == 401


async def test_demo_loads_once(db_dsn: str) -> None:
    first = _run(db_dsn, "demo")
    assert first.returncode == 0 and "demo loaded" in first.stdout, first.stderr
    conn = await asyncpg.connect(db_dsn)
    try:
        counts = await conn.fetchrow(
            "SELECT (SELECT count(*) FROM questions) AS q, (SELECT count(*) FROM lawyers) AS l,"
            " (SELECT count(*) FROM pools) AS p"
        )
        assert counts["q"] >= 200 and counts["l"] >= 10 and counts["p"] >= 2
        second = _run(db_dsn, "demo")
        assert second.returncode == 0 and "already loaded" in second.stdout
        assert await conn.fetchval("SELECT count(*) FROM questions") == counts["q"]
    finally:
        await conn.close()
