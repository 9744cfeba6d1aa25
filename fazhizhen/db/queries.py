"""Named SQL queries: `-- name: foo` blocks in sql/queries/*.sql, loaded once, used by name only."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

_NAME = re.compile(r"^--\s*name:\s*([a-z_][a-z0-9_]*)\s*$", re.MULTILINE)
SQL_DIR = Path(__file__).resolve().parent.parent.parent / "sql"


def parse_queries(text: str, source: str = "<string>") -> dict[str, str]:
    """Split a file into its named blocks; a repeated name is an error."""
    out: dict[str, str] = {}
    parts = _NAME.split(text)
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        if name in out:
            raise ValueError(f"query {name!r} defined twice in {source}")
        out[name] = body.strip().rstrip(";")
    return out


@cache
def load_queries(sql_dir: Path = SQL_DIR) -> dict[str, str]:
    """Every named query under sql/queries, by name (names are unique across files)."""
    out: dict[str, str] = {}
    for path in sorted((sql_dir / "queries").glob("*.sql")):
        for name, body in parse_queries(path.read_text(encoding="utf-8"), str(path)).items():
            if name in out:
                raise ValueError(f"query {name!r} defined in more than one file ({path})")
            out[name] = body
    return out


class _Queries:
    """Attribute access to the named queries: `Q.claim_question`; an unknown name raises at once."""

    def __getattr__(self, name: str) -> str:
        try:
            return load_queries()[name]
        except KeyError:
            raise AttributeError(f"no SQL query named {name!r} in sql/queries") from None


Q = _Queries()
