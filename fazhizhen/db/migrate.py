"""Forward-only migrations: sql/NNN_*.sql applied in order, each once, under an advisory lock."""

from __future__ import annotations

import re
from pathlib import Path

import asyncpg

from fazhizhen.db.queries import SQL_DIR
from fazhizhen.log import get_logger

log = get_logger("fazhizhen.db.migrate")

_FILE = re.compile(r"^(\d{3,4})_[a-z0-9_]+\.sql$")
# Any constant shared by every process of this service: two processes starting together serialise here.
MIGRATION_LOCK = 7_405_211_001


def migration_files(sql_dir: Path = SQL_DIR) -> list[tuple[int, str, Path]]:
    """The migration files in order, as (version, name, path); duplicate versions are an error."""
    found: dict[int, tuple[int, str, Path]] = {}
    for path in sorted(sql_dir.glob("*.sql")):
        m = _FILE.match(path.name)
        if not m:
            raise ValueError(f"migration file name {path.name!r} is not NNN_verb_object.sql")
        version = int(m.group(1))
        if version in found:
            raise ValueError(f"two migrations numbered {version}: {found[version][1]}, {path.name}")
        found[version] = (version, path.name, path)
    return [found[v] for v in sorted(found)]


async def migrate(conn: asyncpg.Connection, sql_dir: Path = SQL_DIR) -> list[str]:
    """Apply pending migrations, each in its own transaction; return the names applied."""
    applied: list[str] = []
    await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
    try:
        await conn.execute(
            """CREATE TABLE IF NOT EXISTS schema_migrations (
                   version integer PRIMARY KEY,
                   name text NOT NULL,
                   applied_at timestamptz NOT NULL DEFAULT now())"""
        )
        done = {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}
        for version, name, path in migration_files(sql_dir):
            if version in done:
                continue
            async with conn.transaction():
                await conn.execute(path.read_text(encoding="utf-8"))
                await conn.execute("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", version, name)
            log.info("migration_applied", version=version, migration=name)
            applied.append(name)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)
    return applied
