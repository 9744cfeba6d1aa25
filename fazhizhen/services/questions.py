"""The life of a question: submit and route, claim, answer, follow up, adopt, rate, and who sees what."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from fazhizhen import observability as obs
from fazhizhen.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from fazhizhen.log import get_logger
from fazhizhen.repo import questions as repo
from fazhizhen.repo import workers as workers_repo
from fazhizhen.services import auth, ratelimit, routing, screening
from fazhizhen.services.auth import Principal
from fazhizhen.services.batching import MicroBatcher
from fazhizhen.services.categories import category_name
from fazhizhen.services.privacy import mask_pii
from fazhizhen.settings import Settings

log = get_logger("fazhizhen.questions")

Record = dict[str, Any]
OPEN_STATUSES = ("pending", "escalated", "claimed")


def decide(
    context: Record,
    settings: Settings,
    now: Any | None = None,
    given: dict[int, int] | None = None,
) -> tuple[int | None, routing.PoolRef | None]:
    """The routing rules applied to a `submission_contexts` row: the on-duty lawyer to receive a new
    question at `now` (default: the row's clock), or else the pool it goes to at once. `given` counts
    the questions each lawyer was given earlier in the same batch (more load, and given just now)."""
    now = context["now"] if now is None else now
    slots = [
        routing.DutySlot(*slot)
        for slot in zip(
            context["slot_lawyer_ids"] or [],
            context["slot_weekdays"] or [],
            context["slot_starts"] or [],
            context["slot_ends"] or [],
            strict=True,
        )
    ]
    lawyers = routing.on_duty(slots, now, ZoneInfo(settings.timezone))
    if lawyers:
        given = given or {}
        loads = {
            lid: (n + given[lid], now) if lid in given else (n, last)
            for lid, n, last in zip(
                context["slot_lawyer_ids"],
                context["slot_lawyer_open"],
                context["slot_lawyer_last_assigned"],
                strict=True,
            )
        }
        candidates = [routing.Candidate(lid, *loads[lid]) for lid in lawyers]
        return routing.pick_lawyer(candidates), None
    pools = [
        routing.PoolRef(pid, district)
        for pid, district in zip(context["pool_ids"] or [], context["pool_districts"] or [], strict=True)
    ]
    return None, routing.pool_for(context["district_id"], pools)


async def route(
    conn: asyncpg.Connection, settings: Settings, community_id: int, district_id: int | None, now: Any
) -> tuple[int | None, routing.PoolRef | None]:
    """The on-duty lawyer to receive a question of `community_id` at `now`, or else the pool it goes to."""
    [context] = await repo.submission_contexts(conn, [community_id])
    return decide({**context, "district_id": district_id}, settings, now)


async def serving_pool(conn: asyncpg.Connection, district_id: int | None) -> routing.PoolRef | None:
    """The pool that takes a district's escalations (its own, else the city-wide one)."""
    pools = [routing.PoolRef(r["pool_id"], r["district_id"]) for r in await repo.list_pool_refs(conn)]
    return routing.pool_for(district_id, pools)


@dataclass(frozen=True, slots=True)
class NewQuestion:
    """A question ready to be written: who asks (a principal, or the hash of the token they sent, which
    the submission read checks), where, what, and what screening found."""

    actor: Principal | None
    community_id: int
    content: str
    category: str
    category_source: str
    review_flag: str | None
    token_hash: bytes | None = None


def asks_for(actor: Principal) -> int | None:
    """The resident a question by `actor` is for, whose limits it counts against (a worker's offline
    question is for nobody registered: no limits)."""
    return actor.id if actor.role == "resident" else None


async def new_question(
    conn: asyncpg.Connection | None,
    settings: Settings,
    actor: Principal | None,
    *,
    community_id: int,
    content: str,
    category: str | None,
    token_hash: bytes | None = None,
) -> NewQuestion:
    """Classify the text when the asker gave no category, and screen it (`conn` and `actor` are needed
    only when screening calls WeChat: `screening.screens_text`)."""
    category_source = "resident"
    if category is None:
        from fazhizhen.services.classify import classify

        # off the event loop: the first call builds the tokenizer and tables (seconds)
        category, category_source = await asyncio.to_thread(classify, content), "classifier"
    review = await screening.before_submit(conn, settings, actor, content) if actor is not None else None
    return NewQuestion(actor, community_id, content, category, category_source, review, token_hash)


def _routed_row(item: NewQuestion, actor: Principal, now: Any, lawyer_id: int | None, pool: routing.PoolRef | None,
                settings: Settings) -> Record:
    """The question's columns, its `created` event and its routing event, as insert_routed_questions
    takes them: pending with the on-duty lawyer, else escalated to the pool at once."""
    row: Record = {
        "community_id": item.community_id,
        "resident_id": asks_for(actor),
        "category": item.category,
        "category_source": item.category_source,
        "content": item.content,
        "assigned_lawyer_id": lawyer_id,
        "review_flag": item.review_flag,
        "created_at": now,
        "created_role": actor.role,
        "created_actor_id": actor.id,
        "created_data": {
            "community_id": item.community_id, "category": item.category, "category_source": item.category_source
        },
        "limited_resident_id": asks_for(actor),
    }  # fmt: skip
    if lawyer_id is not None:
        escalate_at = routing.escalate_at(now, settings.escalate_after_seconds)
        return row | {
            "status": "pending", "pool_id": None, "escalate_at": escalate_at, "escalated_at": None,
            "escalation_reason": None, "alert_at": None,
            "routing_kind": "routed", "routing_level": None,
            "routing_data": {"lawyer_id": lawyer_id, "escalate_at": escalate_at.isoformat()},
        }  # fmt: skip
    pool_id = pool.pool_id if pool else None
    return row | {
        "status": "escalated", "pool_id": pool_id, "escalate_at": now, "escalated_at": now,
        "escalation_reason": "no_lawyer_on_duty", "alert_at": routing.alert_at(now, settings.pool_sla_seconds),
        "routing_kind": "escalated", "routing_level": 1,
        "routing_data": {"from_lawyer_id": None, "pool_id": pool_id, "reason": "no_lawyer_on_duty",
                         "due_at": now.isoformat()},
    }  # fmt: skip


def _asker(item: NewQuestion, context: Record) -> Principal:
    """Who asks: the principal given, else the resident behind the token the submission read checked
    (401 for a token that is not live, 403 for a staff token: only residents ask with their own)."""
    if item.actor is not None:
        return item.actor
    assert item.token_hash is not None, "a question needs an actor or a token"
    who = auth.live_principal(
        item.token_hash, context["token_hash"], context["token_role"], context["token_principal_id"]
    )
    return auth.require(who, "resident")


def _rounds(rows: list[tuple[int, Record]]) -> list[list[tuple[int, Record]]]:
    """Split rows so no statement counts one resident twice: the k-th question of a resident goes in
    the k-th statement, which runs after the one before it committed (and so counts it)."""
    rounds: list[list[tuple[int, Record]]] = []
    seen: dict[int, int] = {}
    for i, row in rows:
        key = row["limited_resident_id"]
        k = 0
        if key is not None:
            k = seen[key] = seen.get(key, -1) + 1
        if k == len(rounds):
            rounds.append([])
        rounds[k].append((i, row))
    return rounds


Written = tuple[Record, Principal]  # the question as stored, and who asked it
Outcome = Written | BaseException  # or the error its asker gets


async def write_questions(conn: asyncpg.Connection, settings: Settings, items: list[NewQuestion]) -> list[Outcome]:
    """Route and write `items`: one `submission_contexts` read (which also checks the askers' tokens),
    the decisions in routing's pure functions (a lawyer given one of these questions counts it for the
    next), then one statement that counts each resident's usage under their lock and, under every
    limit, writes the questions, their events and the assignees' stamps. Two round trips and one
    commit however many items, plus one more statement per repeat asker (`_rounds`).

    Returns, in order, each question written with its asker, or the error its asker gets (401/403 for
    the token, unknown community, 429, or what the database said). A statement the database refuses
    as a whole (a row deleted meanwhile, a deadlock) is retried one question at a time, so each asker
    gets their own answer; that needs `conn` outside a transaction when there are several items. A
    lost connection fails every question not yet written (its commit may or may not have happened).
    """
    contexts = await repo.submission_contexts(
        conn, [item.community_id for item in items], [item.token_hash for item in items]
    )
    outcomes: list[Outcome | None] = [None] * len(items)
    asker_of: dict[int, Principal] = {}
    rows: list[tuple[int, Record]] = []
    given: dict[int, int] = {}
    for i, (item, context) in enumerate(zip(items, contexts, strict=True)):
        try:
            actor = _asker(item, context)
        except DomainError as exc:
            outcomes[i] = exc
            continue
        if context["community_id"] is None:
            outcomes[i] = InvalidInput.field("community_id", "社区不存在")
            continue
        lawyer_id, pool = decide(context, settings, given=given)
        if lawyer_id is not None:
            given[lawyer_id] = given.get(lawyer_id, 0) + 1
        asker_of[i] = actor
        rows.append((i, _routed_row(item, actor, context["now"], lawyer_id, pool, settings)))
    rounds = _rounds(rows)
    for n, batch in enumerate(rounds):
        try:
            written = await _insert(conn, settings, [row for _, row in batch])
        except Exception as exc:  # the connection is gone: nothing more is written on it
            for later in rounds[n:]:
                for i, _ in later:
                    outcomes[i] = exc
            break
        for (i, _), w in zip(batch, written, strict=True):
            outcomes[i] = w if isinstance(w, BaseException) else (w, asker_of[i])
    missing = [i for i, o in enumerate(outcomes) if o is None]
    assert not missing, f"no outcome for items {missing}"
    return [o for o in outcomes if o is not None]


async def _insert(
    conn: asyncpg.Connection, settings: Settings, rows: list[Record]
) -> list[Record | BaseException]:
    """One insert_routed_questions statement; each row's question, or its 429. Refused as a whole by
    the database, the rows are tried one at a time (a lone row gets the database's error)."""
    limits = ratelimit.question_limits(settings)
    try:
        written = await repo.insert_routed_questions(conn, rows, limits)
    except asyncpg.PostgresError as exc:
        if len(rows) == 1:
            return [exc]
        log.warning("intake_batch_split", size=len(rows), error=type(exc).__name__)
        alone: list[Record | BaseException] = []
        for row in rows:
            try:
                alone.extend(await _insert(conn, settings, [row]))
            except Exception as lost:  # the connection is gone: the rest fail the same way
                alone.append(lost)
        return alone
    out: list[Record | BaseException] = []
    for usage, q in written:
        refusal = None if q is not None else ratelimit.question_refusal(settings, usage)
        if q is None and refusal is None:
            raise AssertionError(f"question refused under usage {usage} that no limit refuses")
        out.append(q if q is not None else refusal)  # type: ignore[arg-type]
    return out


def created(q: Record) -> None:
    """Log and count a question just written (in the asker's request, so the line has its request id)."""
    screening.note_flagged(q)
    obs.question_event("created")
    log.info(
        "question_created",
        question_id=q["id"],
        community_id=q["community_id"],
        status=q["status"],
        assigned_lawyer_id=q["assigned_lawyer_id"],
        pool_id=q["pool_id"],
        category=q["category"],
    )


def _one(outcome: Outcome) -> Written:
    if isinstance(outcome, BaseException):
        raise outcome
    created(outcome[0])
    return outcome


async def submit(
    conn: asyncpg.Connection,
    settings: Settings,
    actor: Principal,
    *,
    community_id: int,
    content: str,
    category: str | None,
) -> Record:
    """Create a question and route it on `conn` (which may be in a transaction): to the on-duty lawyer,
    else straight to the pool. Residents' questions go through `Intake`, which shares the trips."""
    item = await new_question(conn, settings, actor, community_id=community_id, content=content, category=category)
    [outcome] = await write_questions(conn, settings, [item])
    return _one(outcome)[0]


class Intake:
    """Residents' questions, written in batches under load (group commit: services/batching.py).

    A lone question is written at once; while a batch is being written the next ones gather, so a busy
    service pays two round trips and one commit per batch (`write_questions`: what each asker gets
    when the database refuses a batch, or the connection is lost)."""

    def __init__(self, pool: asyncpg.Pool, settings: Settings) -> None:
        self.pool = pool
        self.settings = settings
        self._batcher: MicroBatcher[NewQuestion, Written] = MicroBatcher(
            self._write,
            max_batch=settings.intake_batch_max,
            max_inflight=1,
            name="intake",
            observe=obs.batch_observer("intake"),
        )

    @property
    def checks_tokens(self) -> bool:
        """Whether `submit_with_token` may be used: the token is checked by the batch's own read, unless
        WeChat screens the text first (which needs the asker before the batch)."""
        return not screening.screens_text(self.settings)

    async def submit(self, actor: Principal, *, community_id: int, content: str, category: str | None) -> Record:
        """Create and route `actor`'s question; returns it once committed (its batch's commit)."""
        async with contextlib.AsyncExitStack() as stack:
            # WeChat's check of the text reads and writes the database; nothing else before the batch does
            screens = screening.screens_text(self.settings)
            conn = await stack.enter_async_context(self.pool.acquire()) if screens else None
            item = await new_question(
                conn, self.settings, actor, community_id=community_id, content=content, category=category
            )
        return _one(await self._batcher(item))[0]

    async def submit_with_token(
        self, token_hash: bytes, *, community_id: int, content: str, category: str | None
    ) -> Written:
        """Like `submit` for the resident behind a bearer token, checked in the batch's read (no round
        trip of its own): 401 for a token that is not live, 403 for a staff one."""
        item = await new_question(
            None, self.settings, None, community_id=community_id, content=content, category=category,
            token_hash=token_hash,
        )  # fmt: skip
        return _one(await self._batcher(item))

    async def _write(self, items: list[NewQuestion]) -> list[Outcome]:
        async with self.pool.acquire() as conn:
            return await write_questions(conn, self.settings, items)

    async def close(self) -> None:
        """Wait for the batches being written."""
        await self._batcher.close()


# --- who may see what -------------------------------------------------------------------------


async def visible_to(conn: asyncpg.Connection, q: Record, who: Principal) -> bool:
    """Whether `who` may read question `q` (residents: their own; lawyers: assigned, pool queue, answered;
    workers: questions of their communities)."""
    if who.role == "bureau":
        return True
    if who.role == "resident":
        return bool(q["resident_id"] == who.id)
    if who.role == "lawyer":
        if q["assigned_lawyer_id"] == who.id:
            return True
        if q["status"] == "escalated" and await repo.is_pool_member(conn, q["pool_id"], who.id):
            return True
        return await repo.lawyer_has_answered(conn, q["id"], who.id)
    if who.role == "worker":
        return await workers_repo.worker_serves(conn, who.id, q["community_id"])
    return False


def sees_in_clear(q: Record, who: Principal | None) -> bool:
    """Only the asker (a resident, or the worker asking for one) and the assignee see numbers in clear."""
    if who is None:
        return False
    if who.role == "resident":
        return bool(q["resident_id"] == who.id)
    if who.role == "worker":
        return bool(q.get("asked_by_worker_id") == who.id)
    return who.role == "lawyer" and q["assigned_lawyer_id"] == who.id


def present(q: Record, messages: list[Record], who: Principal | None) -> Record:
    """The public shape of a question (CONTRACT.md), masked unless `who` may see it in clear."""
    clear = sees_in_clear(q, who)
    text = (lambda s: s) if clear else mask_pii
    first = q["first_answered_at"]
    return {
        "id": q["id"],
        "community_id": q["community_id"],
        "category": q["category"],
        "category_name": category_name(q["category"]),
        "content": text(q["content"]),
        "status": q["status"],
        "assigned_lawyer_id": q["assigned_lawyer_id"],
        "pool_id": q["pool_id"],
        "created_at": q["created_at"],
        "escalate_at": q["escalate_at"],
        "escalated_at": q["escalated_at"],
        "escalation_reason": q["escalation_reason"],
        "alert_at": q["alert_at"],
        "alerted_at": q["alerted_at"],
        "claimed_at": q["claimed_at"],
        "first_answered_at": first,
        "response_seconds": (first - q["created_at"]).total_seconds() if first else None,
        "resolved_level": q["resolved_level"],
        "adopted_answer_id": q["adopted_answer_id"],
        "closed_at": q["closed_at"],
        "rating": q["rating"],
        "rating_comment": text(q["rating_comment"]) if clear or who is None or who.role != "lawyer" else None,
        "messages": [
            {
                "id": m["id"],
                "author_role": m["author_role"],
                "author_id": m["author_id"],
                "kind": m["kind"],
                "content": text(m["content"]),
                "created_at": m["created_at"],
            }
            for m in messages
        ],
    }


async def present_many(conn: asyncpg.Connection, qs: list[Record], who: Principal | None) -> list[Record]:
    """Present several questions with their threads, fetched in one query."""
    threads = await repo.messages_for(conn, [q["id"] for q in qs]) if qs else {}
    return [present(q, threads.get(q["id"], []), who) for q in qs]


def present_new(q: Record, who: Principal | None) -> Record:
    """Present a question just created: its thread is empty, so nothing to fetch."""
    return present(q, [], who)


async def present_one(conn: asyncpg.Connection, q: Record, who: Principal | None) -> Record:
    """Present one question with its thread."""
    return (await present_many(conn, [q], who))[0]


async def get_for(conn: asyncpg.Connection, question_id: int, who: Principal) -> Record:
    """A question `who` may see; 404 otherwise (its existence is not revealed)."""
    q = await repo.get_question(conn, question_id)
    if q is None or not await visible_to(conn, q, who):
        raise NotFound("问题不存在")
    return q


async def events_for(conn: asyncpg.Connection, question_id: int, who: Principal) -> list[Record]:
    """The state-change log of a question `who` may see."""
    await get_for(conn, question_id, who)
    return await repo.question_events(conn, question_id)


async def list_for_resident(
    conn: asyncpg.Connection, resident_id: int, before_id: int | None, limit: int
) -> list[Record]:
    """A resident's questions, newest first."""
    return await repo.list_resident_questions(conn, resident_id, before_id, limit)


async def lawyer_queue(
    conn: asyncpg.Connection, lawyer: Principal
) -> tuple[dict[str, list[Record]], dict[int, Record]]:
    """My unanswered questions (soonest deadline first) and my pools' unclaimed ones (oldest first),
    presented, in one query; beside them each question's staff-only rows (`asker`, `notes`, `referrals`)."""
    queue: dict[str, list[Record]] = {"assigned": [], "pool": []}
    staff: dict[int, Record] = {}
    for r in await repo.lawyer_queue(conn, lawyer.id):
        queue[r["queue"]].append(present(r, r["thread"], lawyer))
        staff[r["id"]] = {"asker": r["asker"], "notes": r["notes"], "referrals": r["referrals"]}
    return queue, staff


# --- state changes ----------------------------------------------------------------------------


async def claim(conn: asyncpg.Connection, question_id: int, lawyer: Principal) -> Record:
    """Take an escalated question from my pool: one conditional UPDATE, so exactly one claimer wins."""
    async with conn.transaction():
        q = await repo.get_question(conn, question_id)
        if q is None:
            raise NotFound("问题不存在")
        pool_id = q["pool_id"]
        if pool_id is None:
            # never escalated: a member of the pool that would serve it gets 409 (wrong status), others 403
            community = await repo.community_routing_info(conn, q["community_id"])
            ref = await serving_pool(conn, community["district_id"] if community else None)
            pool_id = ref.pool_id if ref else None
        if not await repo.is_pool_member(conn, pool_id, lawyer.id):
            raise Forbidden("您不在负责该问题的律师服务团中")
        won = await repo.claim_question(conn, question_id, lawyer.id)
        if won is None:
            current = await repo.get_question(conn, question_id)
            if current and current["status"] == "claimed" and current["assigned_lawyer_id"] == lawyer.id:
                return current
            raise Conflict(
                "该问题已被其他律师认领" if current and current["assigned_lawyer_id"] else "该问题当前不可认领",
                status=current["status"] if current else None,
            )
        await repo.insert_event(
            conn,
            question_id,
            "claimed",
            actor_role="lawyer",
            actor_id=lawyer.id,
            data={"lawyer_id": lawyer.id, "pool_id": won["pool_id"]},
        )
    obs.question_event("claimed")
    log.info("question_claimed", question_id=question_id, lawyer_id=lawyer.id, pool_id=won["pool_id"])
    return won


async def answer(
    conn: asyncpg.Connection, question_id: int, lawyer: Principal, content: str, kind: str = "answer"
) -> Record:
    """A lawyer's message; only the current assignee may answer. The first one sets the response time."""
    async with conn.transaction():
        q = await repo.get_question(conn, question_id, lock=True)
        if q is None:
            raise NotFound("问题不存在")
        if q["status"] == "closed":
            raise Conflict("问题已结束，不能再回复", status="closed")
        if q["assigned_lawyer_id"] != lawyer.id:
            if q["first_answered_at"] is not None and q["first_answered_by"] != lawyer.id:
                raise Conflict("该问题已由其他律师解答", status=q["status"])
            raise Forbidden("只有当前负责的律师可以解答")
        msg = await repo.insert_message(conn, question_id, "lawyer", lawyer.id, kind, content)
        if q["first_answered_at"] is None:
            level = routing.resolved_level(
                escalated=q["escalated_at"] is not None,
                alerted_before_answer=q["alerted_at"] is not None,
                pool_district_id=await repo.pool_district(conn, q["pool_id"]),
            )
            await repo.mark_first_answer(conn, question_id, lawyer.id, level)
            await repo.insert_event(
                conn,
                question_id,
                "answered",
                actor_role="lawyer",
                actor_id=lawyer.id,
                data={"message_id": msg["id"], "resolved_level": level, "resident_id": q["resident_id"]},
            )
            obs.question_event("answered")
            log.info("question_answered", question_id=question_id, lawyer_id=lawyer.id, resolved_level=level)
        else:
            await repo.touch_question(conn, question_id)
            await repo.insert_event(
                conn,
                question_id,
                "message",
                actor_role="lawyer",
                actor_id=lawyer.id,
                data={"message_id": msg["id"], "resident_id": q["resident_id"]},
            )
            log.info("question_message_added", question_id=question_id, lawyer_id=lawyer.id)
    return msg


async def _own_question(conn: asyncpg.Connection, question_id: int, resident: Principal) -> Record:
    q = await repo.get_question(conn, question_id, lock=True)
    if q is None or q["resident_id"] != resident.id:
        raise NotFound("问题不存在")
    return q


async def follow_up(
    conn: asyncpg.Connection,
    question_id: int,
    resident: Principal,
    content: str,
    settings: Settings | None = None,
) -> Record:
    """The asking resident adds a message to the thread (not once the question is closed)."""
    review = await screening.before_follow_up(conn, settings, resident, content) if settings else None
    async with conn.transaction():
        q = await _own_question(conn, question_id, resident)
        if q["status"] == "closed":
            raise Conflict("问题已结束，不能再追问", status="closed")
        msg = await repo.insert_message(conn, question_id, "resident", resident.id, "followup", content)
        await screening.flag_message(conn, msg, review)
        await repo.touch_question(conn, question_id)
        await repo.insert_event(
            conn,
            question_id,
            "followup",
            actor_role="resident",
            actor_id=resident.id,
            data={"message_id": msg["id"], "lawyer_id": q["assigned_lawyer_id"]},
        )
    log.info("question_followed_up", question_id=question_id)
    return msg


async def adopt(conn: asyncpg.Connection, question_id: int, resident: Principal, answer_id: int) -> Record:
    """The resident adopts one lawyer answer of their question, which closes it."""
    async with conn.transaction():
        q = await _own_question(conn, question_id, resident)
        if q["status"] == "closed":
            raise Conflict("问题已采纳或已结束", status="closed")
        msg = await repo.get_message(conn, answer_id)
        if msg is None or msg["question_id"] != question_id or msg["author_role"] != "lawyer":
            raise InvalidInput.field("answer_id", "该回答不属于此问题")
        updated = await repo.adopt_answer(conn, question_id, answer_id)
        if updated is None:
            raise Conflict("问题已采纳或已结束", status="closed")
        await repo.insert_event(
            conn,
            question_id,
            "adopted",
            actor_role="resident",
            actor_id=resident.id,
            data={"answer_id": answer_id, "lawyer_id": msg["author_id"]},
        )
    log.info("question_adopted", question_id=question_id, answer_id=answer_id)
    return updated


async def rate(
    conn: asyncpg.Connection, question_id: int, resident: Principal, score: int, comment: str | None
) -> Record:
    """The resident rates the answers (1-5) once answered; rating again replaces the score."""
    async with conn.transaction():
        q = await _own_question(conn, question_id, resident)
        if q["first_answered_at"] is None:
            raise Conflict("问题尚未得到解答，暂不能评价", status=q["status"])
        updated = await repo.rate(conn, question_id, resident.id, score, comment)
        await repo.insert_event(
            conn,
            question_id,
            "rated",
            actor_role="resident",
            actor_id=resident.id,
            data={"score": score, "lawyer_id": q["first_answered_by"]},
        )
    log.info("question_rated", question_id=question_id, score=score)
    return updated
