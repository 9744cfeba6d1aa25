"""Community workers' calls, the bureau's worker administration, and internal notes and referrals."""

from __future__ import annotations

from aiohttp import web

from fazhizhen.keys import DB_POOL, SETTINGS
from fazhizhen.models.workers import (
    NoteIn,
    ReferralIn,
    ReferralOutcomeIn,
    WorkerCommunitiesIn,
    WorkerIn,
    WorkerQuestionIn,
    WorkerQuestionsQuery,
    WorkerReferralsQuery,
)
from fazhizhen.services import workers as svc
from fazhizhen.web.jsonio import parse_body, parse_query, path_id, respond
from fazhizhen.web.middleware import principal

WRITERS = ("worker", "lawyer")
READERS = ("worker", "lawyer", "bureau")


async def create_worker(request: web.Request) -> web.Response:
    await principal(request, "bureau")
    body = await parse_body(request, WorkerIn)
    async with request.app[DB_POOL].acquire() as conn:
        return respond(await svc.create_worker(conn, body), status=201)


async def list_workers(request: web.Request) -> web.Response:
    await principal(request, "bureau")
    async with request.app[DB_POOL].acquire() as conn:
        return respond(await svc.list_workers(conn))


async def set_communities(request: web.Request) -> web.Response:
    await principal(request, "bureau")
    worker_id = path_id(request)
    body = await parse_body(request, WorkerCommunitiesIn)
    async with request.app[DB_POOL].acquire() as conn:
        return respond(await svc.set_communities(conn, worker_id, body.community_ids))


async def me(request: web.Request) -> web.Response:
    who = await principal(request, "worker")
    async with request.app[DB_POOL].acquire() as conn:
        return respond(await svc.me(conn, who))


async def list_questions(request: web.Request) -> web.Response:
    who = await principal(request, "worker")
    query = parse_query(request, WorkerQuestionsQuery)
    async with request.app[DB_POOL].acquire() as conn:
        return respond(await svc.list_questions(conn, who, query))


async def create_question(request: web.Request) -> web.Response:
    who = await principal(request, "worker")
    body = await parse_body(request, WorkerQuestionIn)
    async with request.app[DB_POOL].acquire() as conn:
        q = await svc.submit_offline(conn, request.app[SETTINGS], who, body)
        return respond(await svc.get_one(conn, q["id"], who, "created"), status=201)


async def print_question(request: web.Request) -> web.Response:
    """The thread to print or read aloud: HTML by default, plain text with ?format=text."""
    who = await principal(request, "worker")
    qid = path_id(request)
    async with request.app[DB_POOL].acquire() as conn:
        title, text = await svc.printable(conn, request.app[SETTINGS], qid, who)
    if request.query.get("format") == "text":
        return web.Response(text=f"{title}\n\n{text}\n", content_type="text/plain", charset="utf-8")
    return web.Response(text=svc.render_html(title, text), content_type="text/html", charset="utf-8")


async def add_note(request: web.Request) -> web.Response:
    who = await principal(request, *WRITERS)
    qid = path_id(request)
    body = await parse_body(request, NoteIn)
    async with request.app[DB_POOL].acquire() as conn:
        return respond(await svc.add_note(conn, qid, who, body.content), status=201)


async def list_notes(request: web.Request) -> web.Response:
    who = await principal(request, *READERS)
    qid = path_id(request)
    async with request.app[DB_POOL].acquire() as conn:
        return respond(await svc.list_notes(conn, qid, who))


async def add_referral(request: web.Request) -> web.Response:
    who = await principal(request, *WRITERS)
    qid = path_id(request)
    body = await parse_body(request, ReferralIn)
    async with request.app[DB_POOL].acquire() as conn:
        return respond(await svc.add_referral(conn, qid, who, body.to, body.note), status=201)


async def list_referrals(request: web.Request) -> web.Response:
    who = await principal(request, *READERS)
    qid = path_id(request)
    async with request.app[DB_POOL].acquire() as conn:
        return respond(await svc.list_referrals(conn, qid, who))


async def worker_referrals(request: web.Request) -> web.Response:
    who = await principal(request, "worker")
    query = parse_query(request, WorkerReferralsQuery)
    async with request.app[DB_POOL].acquire() as conn:
        return respond(await svc.worker_referrals(conn, who, query))


async def set_referral_outcome(request: web.Request) -> web.Response:
    who = await principal(request, *WRITERS)
    qid, rid = path_id(request), path_id(request, "referral_id")
    body = await parse_body(request, ReferralOutcomeIn)
    async with request.app[DB_POOL].acquire() as conn:
        return respond(await svc.set_referral_outcome(conn, qid, rid, who, body.outcome, body.note))
