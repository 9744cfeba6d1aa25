"""`fazhizhen import`: check every row against the file and the database, then write all or nothing.

Re-running the same file changes nothing: places are found by name, lawyers by username, duty slots
and pool memberships by their whole content.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field
from datetime import time
from typing import Any

import asyncpg

from fazhizhen.importer import Parsed, RowError
from fazhizhen.log import get_logger
from fazhizhen.repo import admin as admin_repo
from fazhizhen.repo import importer as repo
from fazhizhen.services.passwords import hash_password

log = get_logger("fazhizhen.importer")


@dataclass
class Report:
    """What an import did (or, with errors, why it did nothing)."""

    kind: str
    rows: int
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    passwords: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        if self.errors:
            return f"{self.kind}: {len(self.errors)} bad row(s) of {self.rows}; nothing was changed"
        return (
            f"{self.kind}: {self.rows} row(s): {self.created} created, {self.updated} updated, "
            f"{self.unchanged} unchanged"
        )


async def run(conn: asyncpg.Connection, parsed: Parsed) -> Report:
    """Check the rows against the database, then write them in one transaction; with any bad row, nothing."""
    report = Report(parsed.kind, len(parsed.rows) + len(parsed.errors), errors=list(parsed.errors))
    if report.errors:
        return report
    tx = conn.transaction()
    await tx.start()
    try:
        await APPLY[parsed.kind](conn, parsed.rows, report)
    except BaseException:
        await tx.rollback()
        raise
    if report.errors:
        await tx.rollback()
        report.errors.sort(key=lambda e: e.line)
        report.created = report.updated = report.unchanged = 0
        report.passwords = {}
        return report
    await tx.commit()
    log.info(
        "import_done",
        kind=parsed.kind,
        rows=report.rows,
        created=report.created,
        updated=report.updated,
        unchanged=report.unchanged,
    )
    return report


def _count(report: Report, inserted: bool) -> None:
    if inserted:
        report.created += 1
    else:
        report.unchanged += 1


async def _communities(conn: asyncpg.Connection, rows: list[dict[str, Any]], report: Report) -> None:
    for row in rows:
        district, _ = await repo.upsert_place(conn, "district", None, row["district"])
        street, _ = await repo.upsert_place(conn, "street", district, row["street"])
        _, inserted = await repo.upsert_place(conn, "community", street, row["community"])
        _count(report, inserted)


async def _lawyer_ids(conn: asyncpg.Connection, rows: list[dict[str, Any]], report: Report) -> dict[str, int]:
    found = await repo.accounts(conn, sorted({r["username"] for r in rows}))
    ids = {}
    for row in rows:
        acc = found.get(row["username"])
        if acc is None:
            report.errors.append(RowError(row["line"], f"no lawyer with username {row['username']!r}"))
        elif acc["role"] != "lawyer":
            report.errors.append(RowError(row["line"], f"{row['username']!r} is a {acc['role']} account"))
        else:
            ids[row["username"]] = acc["id"]
    return ids


async def _lawyers(conn: asyncpg.Connection, rows: list[dict[str, Any]], report: Report) -> None:
    found = await repo.accounts(conn, [r["username"] for r in rows])
    new = [r for r in rows if r["username"] not in found]
    for row in rows:
        acc = found.get(row["username"])
        if acc is not None and acc["role"] != "lawyer":
            report.errors.append(RowError(row["line"], f"username {row['username']!r} is a {acc['role']} account"))
    if report.errors:
        return
    for row in new:
        if row["password"] is None:
            generated = secrets.token_urlsafe(9)
            row["password"] = generated
            report.passwords[row["username"]] = generated
    hashes = await _hash_all([r["password"] for r in new])
    for row, pw_hash in zip(new, hashes, strict=True):
        account = await admin_repo.insert_account(conn, "lawyer", row["username"], pw_hash)
        await admin_repo.insert_lawyer(
            conn, account["id"], row["name"], row["firm"], row["license_no"], row["phone"], row["specialties"]
        )
        report.created += 1
    for row in rows:
        acc = found.get(row["username"])
        if acc is None:
            continue
        if await repo.update_lawyer(conn, acc["id"], row):
            report.updated += 1
        else:
            report.unchanged += 1


async def _hash_all(passwords: list[str], parallel: int = 4) -> list[str]:
    """argon2 hashes, a few at a time (each runs in a thread and releases the GIL)."""
    out: list[str] = []
    for i in range(0, len(passwords), parallel):
        out += await asyncio.gather(*(hash_password(p) for p in passwords[i : i + parallel]))
    return out


def _time(hhmm: str | None) -> time | None:
    return time.fromisoformat(hhmm) if hhmm else None


async def _rosters(conn: asyncpg.Connection, rows: list[dict[str, Any]], report: Report) -> None:
    communities = await repo.community_ids(conn)
    lawyers = await _lawyer_ids(conn, rows, report)
    for row in rows:
        if (row["district"], row["street"], row["community"]) not in communities:
            where = f"{row['district']} / {row['street']} / {row['community']}"
            report.errors.append(RowError(row["line"], f"no community {where} (import communities first)"))
    if report.errors:
        return
    for row in rows:
        cid = communities[(row["district"], row["street"], row["community"])]
        added = await repo.insert_duty(
            conn, cid, lawyers[row["username"]], row["weekday"], _time(row["start"]), _time(row["end"])
        )
        _count(report, added)


async def _pools(conn: asyncpg.Connection, rows: list[dict[str, Any]], report: Report) -> None:
    districts = await repo.district_ids(conn)
    lawyers = await _lawyer_ids(conn, rows, report)
    for row in rows:
        if row["district"] is not None and row["district"] not in districts:
            report.errors.append(RowError(row["line"], f"no district {row['district']!r}"))
    if report.errors:
        return
    for row in rows:
        district = districts[row["district"]] if row["district"] else None
        pool_id, _ = await repo.find_or_insert_pool(conn, row["pool"], district)
        _count(report, await repo.add_member(conn, pool_id, lawyers[row["username"]]))


APPLY = {"communities": _communities, "lawyers": _lawyers, "rosters": _rosters, "pools": _pools}
