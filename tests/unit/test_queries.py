"""Named SQL: every name the code uses exists, and the loader refuses ambiguity."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fazhizhen.db.migrate import migration_files
from fazhizhen.db.queries import Q, load_queries, parse_queries

PKG = Path(__file__).resolve().parents[2] / "fazhizhen"


def test_every_query_name_used_in_code_exists() -> None:
    used = set()
    for path in PKG.rglob("*.py"):
        used |= set(re.findall(r"\bQ\.([a-z_][a-z0-9_]*)", path.read_text(encoding="utf-8")))
    missing = sorted(used - set(load_queries()))
    assert used and not missing, missing


def test_unknown_name_raises() -> None:
    with pytest.raises(AttributeError):
        _ = Q.no_such_query


def test_duplicate_name_in_a_file_is_an_error() -> None:
    with pytest.raises(ValueError):
        parse_queries("-- name: a\nSELECT 1;\n-- name: a\nSELECT 2;")


def test_blocks_are_split_and_trimmed() -> None:
    assert parse_queries("-- name: a\nSELECT 1;\n\n-- name: b\nSELECT 2;\n") == {
        "a": "SELECT 1",
        "b": "SELECT 2",
    }


def test_migrations_are_numbered_uniquely_in_order() -> None:
    files = migration_files()
    versions = [v for v, _, _ in files]
    assert versions == sorted(set(versions)) and versions[0] == 1


def test_connection_failures_become_503() -> None:
    import asyncpg

    from fazhizhen.db.pool import translate
    from fazhizhen.errors import Unavailable

    for exc in (asyncpg.InternalClientError("x"), asyncpg.InterfaceError("x"), ConnectionResetError()):
        assert isinstance(translate(exc), Unavailable)
    other = ValueError("not a database problem")
    assert translate(other) is other
