"""Community workers' calls, the bureau's worker administration, and internal notes and referrals."""

from __future__ import annotations

from aiohttp import web

from fazhizhen.keys import DB_POOL, SETTINGS
from fazhizhen.models.responses import NoteOut, ReferralOut, StaffQuestionOut, WorkerOut
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
from fazhizhen.web.openapi import endpoint

WRITERS = ("worker", "lawyer")
READERS = ("worker", "lawyer", "bureau")


@endpoint(
    "Create a community worker account", roles=("bureau",), body=WorkerIn, response=WorkerOut, status=201, errors=(409,)
)
async def create_worker(request: web.Request) -> web.Response:
    await principal(request, "bureau")
    body = await parse_body(request, WorkerIn)
    async with request.app[DB_POOL].acquire() as conn:
        return respond(await svc.create_worker(conn, body), status=201)


@endpoint("List community workers", roles=("bureau",), response=list[WorkerOut])
async def list_workers(request: web.Request) -> web.Response:
    await principal(request, "bureau")
    async with request.app[DB_POOL].acquire() as conn:
        return respond(await svc.list_workers(conn))


@endpoint("Set the communities a worker serves", roles=("bureau",), body=WorkerCommunitiesIn, response=WorkerOut)
async def set_communities(request: web.Request) -> web.Response:
    await principal(request, "bureau")
    worker_id = path_id(request)
    body = await parse_body(request, WorkerCommunitiesIn)
    async with request.app[DB_POOL].acquire() as conn:
        return respond(await svc.set_communities(conn, worker_id, body.community_ids))


@endpoint("Who I am and which communities I serve", roles=("worker",), response=WorkerOut)
async def me(request: web.Request) -> web.Response:
    who = await principal(request, "worker")
    async with request.app[DB_POOL].acquire() as conn:
        return respond(await svc.me(conn, who))


@endpoint(
    "Questions of my communities, newest first",
    roles=("worker",),
    query=WorkerQuestionsQuery,
    response=list[StaffQuestionOut],
)
async def list_questions(request: web.Request) -> web.Response:
    who = await principal(request, "worker")
    query = parse_query(request, WorkerQuestionsQuery)
    async with request.app[DB_POOL].acquire() as conn:
        return respond(await svc.list_questions(conn, who, query))


@endpoint(
    "Ask on behalf of an offline resident",
    roles=("worker",),
    body=WorkerQuestionIn,
    response=StaffQuestionOut,
    status=201,
    errors=(403, 429),
)
async def create_question(request: web.Request) -> web.Response:
    who = await principal(request, "worker")
    body = await parse_body(request, WorkerQuestionIn)
    async with request.app[DB_POOL].acquire() as conn:
        q = await svc.submit_offline(conn, request.app[SETTINGS], who, body)
        return respond(await svc.get_one(conn, q["id"], who, "created"), status=201)


@endpoint(
    "A question to print or read aloud (HTML; plain text with ?format=text)",
    roles=("worker",),
    response={"type": "string"},
    content_type="text/html",
)
async def print_question(request: web.Request) -> web.Response:
    """The thread to print or read aloud: HTML by default, plain text with ?format=text."""
    who = await principal(request, "worker")
    qid = path_id(request)
    async with request.app[DB_POOL].acquire() as conn:
        title, text = await svc.printable(conn, request.app[SETTINGS], qid, who)
    if request.query.get("format") == "text":
        return web.Response(text=f"{title}\n\n{text}\n", content_type="text/plain", charset="utf-8")
    return web.Response(text=svc.render_html(title, text), content_type="text/html", charset="utf-8")


@endpoint("Add an internal note", roles=WRITERS, body=NoteIn, response=NoteOut, status=201)
async def add_note(request: web.Request) -> web.Response:
    who = await principal(request, *WRITERS)
    qid = path_id(request)
    body = await parse_body(request, NoteIn)
    async with request.app[DB_POOL].acquire() as conn:
        return respond(await svc.add_note(conn, qid, who, body.content), status=201)


@endpoint("A question's internal notes", roles=READERS, response=list[NoteOut])
async def list_notes(request: web.Request) -> web.Response:
    who = await principal(request, *READERS)
    qid = path_id(request)
    async with request.app[DB_POOL].acquire() as conn:
        return respond(await svc.list_notes(conn, qid, who))


@endpoint("Refer a question to another service", roles=WRITERS, body=ReferralIn, response=ReferralOut, status=201)
async def add_referral(request: web.Request) -> web.Response:
    who = await principal(request, *WRITERS)
    qid = path_id(request)
    body = await parse_body(request, ReferralIn)
    async with request.app[DB_POOL].acquire() as conn:
        return respond(await svc.add_referral(conn, qid, who, body.to, body.note), status=201)


@endpoint("A question's referrals", roles=READERS, response=list[ReferralOut])
async def list_referrals(request: web.Request) -> web.Response:
    who = await principal(request, *READERS)
    qid = path_id(request)
    async with request.app[DB_POOL].acquire() as conn:
        return respond(await svc.list_referrals(conn, qid, who))


@endpoint(
    "Referrals on my communities' questions, newest first",
    roles=("worker",),
    query=WorkerReferralsQuery,
    response=list[ReferralOut],
)
async def worker_referrals(request: web.Request) -> web.Response:
    who = await principal(request, "worker")
    query = parse_query(request, WorkerReferralsQuery)
    async with request.app[DB_POOL].acquire() as conn:
        return respond(await svc.worker_referrals(conn, who, query))


@endpoint("Record how a referral ended", roles=WRITERS, body=ReferralOutcomeIn, response=ReferralOut, errors=(409,))
async def set_referral_outcome(request: web.Request) -> web.Response:
    who = await principal(request, *WRITERS)
    qid, rid = path_id(request), path_id(request, "referral_id")
    body = await parse_body(request, ReferralOutcomeIn)
    async with request.app[DB_POOL].acquire() as conn:
        return respond(await svc.set_referral_outcome(conn, qid, rid, who, body.outcome, body.note))
