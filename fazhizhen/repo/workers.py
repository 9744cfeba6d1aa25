"""SQL for community workers, the questions they enter for offline residents, notes and referrals."""

from __future__ import annotations

from typing import Any

import asyncpg

from fazhizhen.db.queries import Q

Record = dict[str, Any]


def _one(row: asyncpg.Record | None) -> Record | None:
    return dict(row) if row is not None else None


def _by_question(rows: list[asyncpg.Record], question_ids: list[int]) -> dict[int, list[Record]]:
    out: dict[int, list[Record]] = {qid: [] for qid in question_ids}
    for r in rows:
        out[r["question_id"]].append(dict(r))
    return out


async def insert_worker(conn: asyncpg.Connection, worker_id: int, name: str, phone: str | None) -> Record:
    return dict(await conn.fetchrow(Q.insert_worker, worker_id, name, phone))


async def set_worker_communities(conn: asyncpg.Connection, worker_id: int, community_ids: list[int]) -> None:
    await conn.execute(Q.set_worker_communities, worker_id, community_ids)


async def missing_communities(conn: asyncpg.Connection, community_ids: list[int]) -> list[int]:
    return [r["c"] for r in await conn.fetch(Q.missing_communities, community_ids)]


async def get_worker(conn: asyncpg.Connection, worker_id: int) -> Record | None:
    return _one(await conn.fetchrow(Q.get_worker, worker_id))


async def worker_communities_named(conn: asyncpg.Connection, worker_id: int) -> list[Record]:
    return [dict(r) for r in await conn.fetch(Q.worker_communities_named, worker_id)]


async def list_workers(conn: asyncpg.Connection) -> list[Record]:
    return [dict(r) for r in await conn.fetch(Q.list_workers)]


async def worker_serves(conn: asyncpg.Connection, worker_id: int, community_id: int) -> bool:
    return bool(await conn.fetchval(Q.worker_serves, worker_id, community_id))


async def worker_questions(
    conn: asyncpg.Connection,
    worker_id: int,
    community_id: int | None,
    status: str | None,
    before_id: int | None,
    limit: int,
) -> list[Record]:
    rows = await conn.fetch(Q.worker_questions, worker_id, community_id, status, before_id, limit)
    return [dict(r) for r in rows]


async def mark_asked_by_worker(conn: asyncpg.Connection, question_id: int, worker_id: int) -> Record:
    return dict(await conn.fetchrow(Q.mark_asked_by_worker, question_id, worker_id))


async def insert_offline_asker(
    conn: asyncpg.Connection, question_id: int, worker_id: int, name: str | None, phone: str | None
) -> None:
    await conn.execute(Q.insert_offline_asker, question_id, worker_id, name, phone)


async def offline_askers_for(conn: asyncpg.Connection, question_ids: list[int]) -> dict[int, Record]:
    return {r["question_id"]: dict(r) for r in await conn.fetch(Q.offline_askers_for, question_ids)}


async def insert_note(
    conn: asyncpg.Connection, question_id: int, author_role: str, author_id: int, content: str
) -> Record:
    return dict(await conn.fetchrow(Q.insert_note, question_id, author_role, author_id, content))


async def notes_for(conn: asyncpg.Connection, question_ids: list[int]) -> dict[int, list[Record]]:
    return _by_question(await conn.fetch(Q.notes_for, question_ids), question_ids)


async def insert_referral(
    conn: asyncpg.Connection, question_id: int, to: str, note: str | None, author_role: str, author_id: int
) -> Record:
    return dict(await conn.fetchrow(Q.insert_referral, question_id, to, note, author_role, author_id))


async def referrals_for(conn: asyncpg.Connection, question_ids: list[int]) -> dict[int, list[Record]]:
    return _by_question(await conn.fetch(Q.referrals_for, question_ids), question_ids)


async def worker_referrals(
    conn: asyncpg.Connection, worker_id: int, open_only: bool, before_id: int | None, limit: int
) -> list[Record]:
    return [dict(r) for r in await conn.fetch(Q.worker_referrals, worker_id, open_only, before_id, limit)]


async def get_referral(conn: asyncpg.Connection, question_id: int, referral_id: int) -> Record | None:
    return _one(await conn.fetchrow(Q.get_referral, question_id, referral_id))


async def set_referral_outcome(
    conn: asyncpg.Connection,
    question_id: int,
    referral_id: int,
    outcome: str,
    note: str | None,
    account_id: int,
) -> Record | None:
    row = await conn.fetchrow(Q.set_referral_outcome, question_id, referral_id, outcome, note, account_id)
    return _one(row)


async def erase_for_resident(conn: asyncpg.Connection, resident_id: int) -> None:
    """Erase notes and referral notes on a resident's questions (call before their resident_id goes)."""
    await conn.execute(Q.erase_resident_notes, resident_id)
    await conn.execute(Q.erase_resident_referral_notes, resident_id)


async def purge_older_than(conn: asyncpg.Connection, days: int) -> None:
    """Erase notes, referral notes and offline residents' names and phones of old questions."""
    await conn.execute(Q.purge_old_notes, days)
    await conn.execute(Q.purge_old_referral_notes, days)
    await conn.execute(Q.purge_old_offline_askers, days)
