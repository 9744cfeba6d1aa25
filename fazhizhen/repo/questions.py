"""SQL for questions, their messages, events, ratings and the deadline sweeps."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from fazhizhen.db.queries import Q

Record = dict[str, Any]


def _one(row: asyncpg.Record | None) -> Record | None:
    return dict(row) if row is not None else None


async def db_now(conn: asyncpg.Connection) -> datetime:
    """The database clock (constant within a transaction)."""
    now: datetime = await conn.fetchval(Q.db_now)
    return now


async def community_routing_info(conn: asyncpg.Connection, community_id: int) -> Record | None:
    return _one(await conn.fetchrow(Q.community_routing_info, community_id))


async def submission_contexts(
    conn: asyncpg.Connection, community_ids: list[int], token_hashes: list[bytes | None] | None = None
) -> list[Record]:
    """For each question to route, in order: the clock, the asker behind its token hash (if given), its
    community's roster, loads and the pools, in one round trip."""
    tokens = token_hashes if token_hashes is not None else [None] * len(community_ids)
    return [dict(r) for r in await conn.fetch(Q.submission_contexts, community_ids, tokens)]


USAGE = ("used_last_hour", "used_last_day", "used_open", "used_oldest_in_hour", "used_oldest_in_day", "used_now")


async def question_usage(conn: asyncpg.Connection, resident_id: int) -> Record:
    """A resident's question usage, counted under their submission lock (released with the statement)."""
    return dict(await conn.fetchrow(Q.question_usage, resident_id))


# what insert_routed_questions takes for each question, in its parameter order
_COLUMNS = (
    "community_id", "resident_id", "category", "category_source", "content", "status", "assigned_lawyer_id",
    "pool_id", "escalate_at", "escalated_at", "escalation_reason", "alert_at", "review_flag", "created_at",
    "created_role", "created_actor_id", "created_data", "routing_kind", "routing_level", "routing_data",
    "limited_resident_id",
)  # fmt: skip


async def insert_routed_questions(
    conn: asyncpg.Connection, rows: list[Record], limits: tuple[int, int, int]
) -> list[tuple[Record, Record | None]]:
    """Under each resident's lock and limits (open, per hour, per day), insert questions with their
    `created` and routing events and stamp their assignees, in one statement (one commit).

    Each row carries the keys of `_COLUMNS` (no resident twice). Returns, in order, the usage counted
    under the lock and the question (None when a limit refused it).
    """
    columns = [[row[c] for row in rows] for c in _COLUMNS]
    out: list[tuple[Record, Record | None]] = []
    for r in await conn.fetch(Q.insert_routed_questions, *columns, *limits):
        q = dict(r)
        del q["ord"]
        usage = {k: q.pop(k) for k in USAGE}
        out.append((usage, q if q["id"] is not None else None))
    return out


async def list_pool_refs(conn: asyncpg.Connection) -> list[Record]:
    return [dict(r) for r in await conn.fetch(Q.list_pool_refs)]


async def insert_event(
    conn: asyncpg.Connection,
    question_id: int,
    kind: str,
    *,
    actor_role: str,
    actor_id: int | None = None,
    level: int | None = None,
    data: dict[str, Any] | None = None,
) -> Record:
    row = await conn.fetchrow(Q.insert_event, question_id, kind, level, actor_role, actor_id, data or {})
    return dict(row)


async def get_question(conn: asyncpg.Connection, question_id: int, *, lock: bool = False) -> Record | None:
    return _one(await conn.fetchrow(Q.lock_question if lock else Q.get_question, question_id))


async def messages_for(conn: asyncpg.Connection, question_ids: list[int]) -> dict[int, list[Record]]:
    out: dict[int, list[Record]] = {qid: [] for qid in question_ids}
    for r in await conn.fetch(Q.question_messages, question_ids):
        out[r["question_id"]].append(dict(r))
    return out


async def insert_message(
    conn: asyncpg.Connection,
    question_id: int,
    author_role: str,
    author_id: int | None,
    kind: str,
    content: str,
) -> Record:
    return dict(await conn.fetchrow(Q.insert_message, question_id, author_role, author_id, kind, content))


async def get_message(conn: asyncpg.Connection, message_id: int) -> Record | None:
    return _one(await conn.fetchrow(Q.get_message, message_id))


async def list_resident_questions(
    conn: asyncpg.Connection, resident_id: int, before_id: int | None, limit: int
) -> list[Record]:
    return [dict(r) for r in await conn.fetch(Q.list_resident_questions, resident_id, before_id, limit)]


async def lawyer_queue(conn: asyncpg.Connection, lawyer_id: int) -> list[Record]:
    """Both queues' questions (`queue`: assigned or pool) with `thread`, `asker`, `notes`, `referrals`."""
    try:
        rows = await conn.fetch(Q.lawyer_queue, lawyer_id)
    except asyncpg.OutdatedSchemaCacheError:
        # a migration changed one of the row types returned; asyncpg has dropped its type cache
        rows = await conn.fetch(Q.lawyer_queue, lawyer_id)
    out = []
    for r in rows:
        row = dict(r)
        row["thread"] = [dict(m) for m in row["thread"]]
        row["asker"] = dict(row["asker"]) if row["asker"] is not None else None
        row["notes"] = [
            {k: n[k] for k in ("id", "question_id", "author_role", "author_id", "content", "created_at")}
            | {"author_name": name}
            for n, name in zip(row.pop("note_rows"), row.pop("note_authors"), strict=True)
        ]
        row["referrals"] = [dict(x) for x in row.pop("referral_rows")]
        out.append(row)
    return out


async def lawyer_has_answered(conn: asyncpg.Connection, question_id: int, lawyer_id: int) -> bool:
    return bool(await conn.fetchval(Q.lawyer_has_answered, question_id, lawyer_id))


async def is_pool_member(conn: asyncpg.Connection, pool_id: int | None, lawyer_id: int) -> bool:
    if pool_id is None:
        return False
    return bool(await conn.fetchval(Q.is_pool_member, pool_id, lawyer_id))


async def claim_question(conn: asyncpg.Connection, question_id: int, lawyer_id: int) -> Record | None:
    return _one(await conn.fetchrow(Q.claim_question, question_id, lawyer_id))


async def mark_first_answer(conn: asyncpg.Connection, question_id: int, lawyer_id: int, level: str) -> Record | None:
    return _one(await conn.fetchrow(Q.mark_first_answer, question_id, lawyer_id, level))


async def touch_question(conn: asyncpg.Connection, question_id: int) -> Record:
    return dict(await conn.fetchrow(Q.touch_question, question_id))


async def adopt_answer(conn: asyncpg.Connection, question_id: int, answer_id: int) -> Record | None:
    return _one(await conn.fetchrow(Q.adopt_answer, question_id, answer_id))


async def rate(conn: asyncpg.Connection, question_id: int, resident_id: int, score: int, comment: str | None) -> Record:
    await conn.execute(Q.upsert_rating, question_id, resident_id, score, comment)
    return dict(await conn.fetchrow(Q.set_question_rating, question_id, score, comment))


async def pool_district(conn: asyncpg.Connection, pool_id: int | None) -> int | None:
    if pool_id is None:
        return None
    district: int | None = await conn.fetchval(Q.pool_district, pool_id)
    return district


async def escalate_due(
    conn: asyncpg.Connection, now: datetime | None, limit: int, pool_sla_seconds: float
) -> list[Record]:
    rows = await conn.fetch(Q.escalate_due, now, limit, float(pool_sla_seconds))
    return [dict(r) for r in rows]


async def alert_due(conn: asyncpg.Connection, now: datetime | None, limit: int) -> list[Record]:
    return [dict(r) for r in await conn.fetch(Q.alert_due, now, limit)]


async def question_events(conn: asyncpg.Connection, question_id: int) -> list[Record]:
    return [dict(r) for r in await conn.fetch(Q.question_events, question_id)]
