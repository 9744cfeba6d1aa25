"""Community workers (社区工作者): their communities, questions for offline residents, internal notes,
referrals, and the staff-only fields (notes, referrals, offline asker) shown beside a question.

Masking decision: an offline resident's name and phone are shown in clear only to the worker who
entered the question (they must call the resident back) and to the lawyer assigned to it (as with a
resident's own numbers); every other viewer gets them masked. Residents never get any of it.
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from fazhizhen.errors import Conflict, Forbidden, InvalidInput, NotFound
from fazhizhen.log import get_logger
from fazhizhen.models.workers import WorkerIn, WorkerQuestionIn, WorkerQuestionsQuery, WorkerReferralsQuery
from fazhizhen.repo import admin as admin_repo
from fazhizhen.repo import workers as repo
from fazhizhen.services import questions
from fazhizhen.services.auth import Principal
from fazhizhen.services.categories import category_name
from fazhizhen.services.passwords import hash_password
from fazhizhen.settings import Settings

log = get_logger("fazhizhen.workers")

Record = dict[str, Any]
STAFF_ROLES = ("lawyer", "worker", "bureau")
REFERRAL_NAMES = {
    "mediation": "人民调解",
    "legal_aid": "法律援助",
    "hotline_12345": "12345 热线",
    "litigation": "诉讼",
}
STATUS_NAMES = {
    "pending": "待社区律师解答",
    "escalated": "已转律师服务团",
    "claimed": "服务团律师已接单",
    "answered": "已解答",
    "closed": "已结束",
}
ROLE_NAMES = {"resident": "居民", "lawyer": "律师", "worker": "社区工作者"}


# --- administration ---------------------------------------------------------------------------


async def _check_communities(conn: asyncpg.Connection, community_ids: list[int]) -> list[int]:
    ids = list(dict.fromkeys(community_ids))
    missing = await repo.missing_communities(conn, ids)
    if missing:
        raise InvalidInput.field("community_ids", f"社区不存在: {', '.join(map(str, missing))}")
    return ids


async def create_worker(conn: asyncpg.Connection, body: WorkerIn) -> Record:
    """A worker account bound to its communities (bureau only); no password echoed."""
    password_hash = await hash_password(body.password)
    async with conn.transaction():
        ids = await _check_communities(conn, body.community_ids)
        try:
            account = await admin_repo.insert_account(conn, "worker", body.username, password_hash)
        except asyncpg.UniqueViolationError:
            raise Conflict("用户名已被占用", details=[{"field": "username", "message": "already exists"}]) from None
        await repo.insert_worker(conn, account["id"], body.name, body.phone)
        await repo.set_worker_communities(conn, account["id"], ids)
        worker = await repo.get_worker(conn, account["id"])
    assert worker is not None
    log.info("worker_created", worker_id=worker["id"], community_ids=ids)
    return worker


async def list_workers(conn: asyncpg.Connection) -> list[Record]:
    """Every worker with its communities."""
    return await repo.list_workers(conn)


async def set_communities(conn: asyncpg.Connection, worker_id: int, community_ids: list[int]) -> Record:
    """Rebind a worker to exactly these communities (bureau only)."""
    async with conn.transaction():
        if await repo.get_worker(conn, worker_id) is None:
            raise NotFound("社区工作者不存在")
        ids = await _check_communities(conn, community_ids)
        await repo.set_worker_communities(conn, worker_id, ids)
        worker = await repo.get_worker(conn, worker_id)
    assert worker is not None
    log.info("worker_communities_set", worker_id=worker_id, community_ids=ids)
    return worker


async def me(conn: asyncpg.Connection, worker: Principal) -> Record:
    """The calling worker with the communities they serve (names included, for pickers)."""
    found = await repo.get_worker(conn, worker.id)
    if found is None:
        raise NotFound("社区工作者不存在")
    return {**found, "communities": await repo.worker_communities_named(conn, worker.id)}


DEMO_WORKERS = ("刘桂兰", "陈建华", "周秀梅", "吴志强", "郑丽娟", "孙国庆")


async def load_demo_workers(conn: asyncpg.Connection, community_ids: list[int], password: str) -> int:
    """Demo workers worker1..N, each serving two neighbouring communities (one street of the demo city)."""
    pairs = [community_ids[i : i + 2] for i in range(0, len(community_ids), 2)]
    for n, (name, ids) in enumerate(zip(DEMO_WORKERS, pairs, strict=False), start=1):
        body = WorkerIn(name=name, username=f"worker{n}", password=password, community_ids=ids)
        await create_worker(conn, body)
    return min(len(DEMO_WORKERS), len(pairs))


# --- reading ----------------------------------------------------------------------------------


def audit_reads(who: Principal, question_ids: list[int], via: str) -> None:
    """Record that a worker read questions (the audit trail the bureau relies on)."""
    if who.role != "worker" or not question_ids:
        return
    log.info("question_read", worker_id=who.id, question_ids=question_ids, via=via)


def mask_phone(phone: str) -> str:
    """A phone number with its middle hidden: 138****5678, 010****5678."""
    digits = [c for c in phone if c.isdigit()]
    if len(digits) < 7:
        return "*" * len(digits)
    return "".join(digits[:3]) + "****" + "".join(digits[-4:])


def mask_name(name: str) -> str:
    """A person's name with all but the surname hidden: 张**."""
    return name[:1] + "*" * max(1, len(name) - 1)


def offline_view(asker: Record, assigned_lawyer_id: int | None, who: Principal) -> Record:
    """The offline resident as `who` may see them: in clear for the entering worker and the assignee."""
    clear = (who.role == "worker" and who.id == asker["worker_id"]) or (
        who.role == "lawyer" and who.id == assigned_lawyer_id
    )
    name, phone = asker["name"], asker["phone"]
    return {
        "name": name if clear or name is None else mask_name(name),
        "phone": phone if clear or phone is None else mask_phone(phone),
    }


OUTCOME_NAMES = {"resolved": "已解决", "unresolved": "未解决", "withdrawn": "已撤回", "": "办理中"}


def referral_summary(pairs: list[list[str]] | None) -> str:
    """Referrals as the ledger shows them: 人民调解（已解决）；12345 热线（办理中）."""
    return "；".join(f"{REFERRAL_NAMES.get(to, to)}（{OUTCOME_NAMES.get(out, out)}）" for to, out in pairs or [])


def _referral_out(r: Record) -> Record:
    extra = {"community_id": r["community_id"]} if "community_id" in r else {}
    return {
        **extra,
        "id": r["id"],
        "question_id": r["question_id"],
        "to": r["to_service"],
        "to_name": REFERRAL_NAMES[r["to_service"]],
        "note": r["note"],
        "author_role": r["author_role"],
        "author_id": r["author_id"],
        "created_at": r["created_at"],
        "outcome": r["outcome"],
        "outcome_note": r["outcome_note"],
        "outcome_by": r["outcome_by"],
        "outcome_at": r["outcome_at"],
    }


async def staff_view(
    conn: asyncpg.Connection, presented: list[Record], who: Principal, via: str = "question"
) -> list[Record]:
    """Add the staff-only fields beside each presented question; residents get the list unchanged.

    Fields: `asked_by_worker_id`, `offline_resident` ({name, phone} or null), `notes`, `referrals`.
    """
    if who.role not in STAFF_ROLES or not presented:
        return presented
    ids = [p["id"] for p in presented]
    askers = await repo.offline_askers_for(conn, ids)
    notes = await repo.notes_for(conn, ids)
    referrals = await repo.referrals_for(conn, ids)
    staff = {i: {"asker": askers.get(i), "notes": notes[i], "referrals": referrals[i]} for i in ids}
    return attach_staff_fields(presented, who, staff, via)


def attach_staff_fields(
    presented: list[Record], who: Principal, staff: dict[int, Record], via: str = "question"
) -> list[Record]:
    """`staff_view` with the rows already read: `staff[id]` holds `asker` (or None), `notes`, `referrals`."""
    if who.role not in STAFF_ROLES or not presented:
        return presented
    for p in presented:
        rows = staff[p["id"]]
        asker = rows["asker"]
        p["asked_by_worker_id"] = asker["worker_id"] if asker else None
        p["offline_resident"] = offline_view(asker, p["assigned_lawyer_id"], who) if asker else None
        p["notes"] = rows["notes"]
        p["referrals"] = [_referral_out(r) for r in rows["referrals"]]
    audit_reads(who, [p["id"] for p in presented], via)
    return presented


async def list_questions(conn: asyncpg.Connection, worker: Principal, query: WorkerQuestionsQuery) -> list[Record]:
    """Questions of my communities, newest first, presented (masked) with the staff-only fields."""
    qs = await repo.worker_questions(conn, worker.id, query.community_id, query.status, query.before_id, query.limit)
    return await staff_view(conn, await questions.present_many(conn, qs, worker), worker, "list")


async def get_one(conn: asyncpg.Connection, question_id: int, who: Principal, via: str = "question") -> Record:
    """One question `who` may see, presented with the staff-only fields."""
    q = await questions.get_for(conn, question_id, who)
    return (await staff_view(conn, [await questions.present_one(conn, q, who)], who, via))[0]


# --- acting -----------------------------------------------------------------------------------


async def submit_offline(
    conn: asyncpg.Connection, settings: Settings, worker: Principal, body: WorkerQuestionIn
) -> Record:
    """A question entered by a worker for a resident without the mini-program, routed like any other."""
    if not await repo.worker_serves(conn, worker.id, body.community_id):
        raise Forbidden("您不负责该社区", details=[{"field": "community_id", "message": "not your community"}])
    async with conn.transaction():
        q = await questions.submit(
            conn,
            settings,
            worker,
            community_id=body.community_id,
            content=body.content,
            category=body.category,
        )
        q = await repo.mark_asked_by_worker(conn, q["id"], worker.id)
        await repo.insert_offline_asker(conn, q["id"], worker.id, body.resident_name, body.resident_phone)
    log.info("question_asked_by_worker", question_id=q["id"], worker_id=worker.id, community_id=q["community_id"])
    return q


async def add_note(conn: asyncpg.Connection, question_id: int, who: Principal, content: str) -> Record:
    """An internal note on a question `who` may see; never shown to the resident."""
    await questions.get_for(conn, question_id, who)
    note = await repo.insert_note(conn, question_id, who.role, who.id, content)
    log.info("question_note_added", question_id=question_id, note_id=note["id"], author_role=who.role)
    return note


async def list_notes(conn: asyncpg.Connection, question_id: int, who: Principal) -> list[Record]:
    """The internal notes of a question `who` may see, oldest first."""
    await questions.get_for(conn, question_id, who)
    audit_reads(who, [question_id], "notes")
    return (await repo.notes_for(conn, [question_id]))[question_id]


async def add_referral(conn: asyncpg.Connection, question_id: int, who: Principal, to: str, note: str | None) -> Record:
    """Record that the question was referred to mediation, legal aid, 12345 or litigation."""
    await questions.get_for(conn, question_id, who)
    r = await repo.insert_referral(conn, question_id, to, note, who.role, who.id)
    log.info("question_referred", question_id=question_id, referral_id=r["id"], to=to, author_role=who.role)
    return _referral_out(r)


async def list_referrals(conn: asyncpg.Connection, question_id: int, who: Principal) -> list[Record]:
    """The referrals of a question `who` may see, oldest first."""
    await questions.get_for(conn, question_id, who)
    audit_reads(who, [question_id], "referrals")
    return [_referral_out(r) for r in (await repo.referrals_for(conn, [question_id]))[question_id]]


async def worker_referrals(conn: asyncpg.Connection, worker: Principal, query: WorkerReferralsQuery) -> list[Record]:
    """Referrals on my communities' questions, newest first (only the open ones with `open=true`)."""
    rows = await repo.worker_referrals(conn, worker.id, query.open, query.before_id, query.limit)
    audit_reads(worker, sorted({r["question_id"] for r in rows}), "referrals")
    return [_referral_out(r) for r in rows]


async def set_referral_outcome(
    conn: asyncpg.Connection,
    question_id: int,
    referral_id: int,
    who: Principal,
    outcome: str,
    note: str | None,
) -> Record:
    """Record how a referral ended, once; 409 if an outcome is already recorded."""
    await questions.get_for(conn, question_id, who)
    r = await repo.set_referral_outcome(conn, question_id, referral_id, outcome, note, who.id)
    if r is None:
        if await repo.get_referral(conn, question_id, referral_id) is None:
            raise NotFound("转介记录不存在")
        raise Conflict("该转介已记录结果")
    log.info("referral_outcome_set", question_id=question_id, referral_id=referral_id, outcome=outcome)
    return _referral_out(r)


# --- a view to print or read aloud --------------------------------------------------------------


def _local(at: datetime | None, tz: ZoneInfo) -> str:
    return at.astimezone(tz).strftime("%Y-%m-%d %H:%M") if at else ""


async def printable(
    conn: asyncpg.Connection, settings: Settings, question_id: int, worker: Principal
) -> tuple[str, str]:
    """The thread as (title, lines) for a worker to print or read to the resident.

    It carries what the resident may know: the question and the lawyers' replies, masked as for the
    worker. Internal notes and referrals are deliberately left out: this sheet goes to the resident.
    """
    p = await get_one(conn, question_id, worker, "print")
    community = await admin_repo.get_community(conn, p["community_id"])
    tz = ZoneInfo(settings.timezone)
    title = f"法律咨询记录 第 {p['id']} 号"
    head = [
        ("社区", community["name"] if community else str(p["community_id"])),
        ("类别", category_name(p["category"])),
        ("提问时间", _local(p["created_at"], tz)),
        ("状态", STATUS_NAMES.get(p["status"], p["status"])),
    ]
    if p["offline_resident"] and p["offline_resident"]["name"]:
        head.insert(0, ("居民", p["offline_resident"]["name"]))
    lines = [f"{k}：{v}" for k, v in head]
    lines += ["", "【问题】", p["content"] or ""]
    for m in p["messages"]:
        who = ROLE_NAMES.get(m["author_role"], m["author_role"])
        label = "律师追问" if m["kind"] == "clarification" else f"{who}{'解答' if who == '律师' else '留言'}"
        lines += ["", f"【{label}】{_local(m['created_at'], tz)}", m["content"] or ""]
    if not p["messages"]:
        lines += ["", "律师尚未解答，请耐心等待。"]
    return title, "\n".join(lines)


def render_html(title: str, text: str) -> str:
    """A plain, large-print HTML page of the printable text (every value escaped)."""
    body = "".join(
        f'<p class="h">{escape(line)}</p>' if line.startswith("【") else f"<p>{escape(line)}</p>"
        for line in text.split("\n")
        if line
    )
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title>"
        "<style>body{font-family:sans-serif;font-size:20px;line-height:1.7;max-width:40em;margin:2em auto}"
        "p{margin:.3em 0;white-space:pre-wrap}.h{font-weight:bold;margin-top:1em}"
        "@media print{body{margin:0}}</style></head>"
        f"<body><h1>{escape(title)}</h1>{body}"
        "<p><small>本记录由社区工作者代为打印或朗读，供居民留存。</small></p></body></html>"
    )
