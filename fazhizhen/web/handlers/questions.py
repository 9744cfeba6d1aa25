"""Residents' and lawyers' question calls: parse, call the service, present."""

from __future__ import annotations

from aiohttp import web

from fazhizhen.errors import DomainError
from fazhizhen.keys import DB_POOL, INTAKE, SETTINGS
from fazhizhen.models.requests import AdoptIn, AnswerIn, MessageIn, Page, QuestionIn, RatingIn
from fazhizhen.models.responses import CategoryOut, EventOut, MessageOut, QuestionOut, QueueOut
from fazhizhen.services import auth, workers
from fazhizhen.services import questions as svc
from fazhizhen.services.categories import CATEGORIES
from fazhizhen.web.jsonio import parse_body, parse_query, path_id, respond
from fazhizhen.web.middleware import authenticated, principal
from fazhizhen.web.openapi import ANY_ROLE, endpoint


@endpoint("Question categories", response=list[CategoryOut], db=False)
async def categories(request: web.Request) -> web.Response:
    return respond([{"code": code, "name": name} for code, name in CATEGORIES.items()])


@endpoint(
    "Ask a question", roles=("resident",), body=QuestionIn, response=QuestionOut, status=201, errors=(429,)
)
async def create_question(request: web.Request) -> web.Response:
    intake = request.app[INTAKE]
    if not intake.checks_tokens:
        who = await principal(request, "resident")
        body = await parse_body(request, QuestionIn)
        q = await intake.submit(who, community_id=body.community_id, content=body.content, category=body.category)
        return respond(svc.present_new(q, who), status=201)
    try:
        body = await parse_body(request, QuestionIn)
    except (DomainError, web.HTTPException):
        await principal(request, "resident")  # 401 and 403 come before any complaint about the body
        raise
    # the token is checked by the batch's own read: one round trip fewer for the busiest call
    q, who = await intake.submit_with_token(
        auth.bearer_digest(request.headers.get("Authorization")),
        community_id=body.community_id, content=body.content, category=body.category,
    )  # fmt: skip
    authenticated(request, who)
    return respond(svc.present_new(q, who), status=201)


@endpoint("My questions, newest first", roles=("resident",), query=Page, response=list[QuestionOut])
async def list_questions(request: web.Request) -> web.Response:
    who = await principal(request, "resident")
    page = parse_query(request, Page)
    async with request.app[DB_POOL].acquire() as conn:
        qs = await svc.list_for_resident(conn, who.id, page.before_id, page.limit)
        return respond(await svc.present_many(conn, qs, who))


@endpoint("One question with its thread", roles=ANY_ROLE, response=QuestionOut)
async def get_question(request: web.Request) -> web.Response:
    who = await principal(request)
    qid = path_id(request)
    async with request.app[DB_POOL].acquire() as conn:
        return respond(await workers.get_one(conn, qid, who))


@endpoint(
    "A resident's follow-up",
    roles=("resident",),
    body=MessageIn,
    response=MessageOut,
    status=201,
    errors=(409,),
)
async def add_message(request: web.Request) -> web.Response:
    who = await principal(request, "resident")
    qid = path_id(request)
    body = await parse_body(request, MessageIn)
    async with request.app[DB_POOL].acquire() as conn:
        return respond(
            await svc.follow_up(conn, qid, who, body.content, request.app[SETTINGS]), status=201
        )


@endpoint(
    "Adopt an answer (closes the question)",
    roles=("resident",),
    body=AdoptIn,
    response=QuestionOut,
    errors=(409,),
)
async def adopt(request: web.Request) -> web.Response:
    who = await principal(request, "resident")
    qid = path_id(request)
    body = await parse_body(request, AdoptIn)
    async with request.app[DB_POOL].acquire() as conn:
        q = await svc.adopt(conn, qid, who, body.answer_id)
        return respond(await svc.present_one(conn, q, who))


@endpoint("Rate the answers 1-5", roles=("resident",), body=RatingIn, response=QuestionOut, errors=(409,))
async def rate(request: web.Request) -> web.Response:
    who = await principal(request, "resident")
    qid = path_id(request)
    body = await parse_body(request, RatingIn)
    async with request.app[DB_POOL].acquire() as conn:
        q = await svc.rate(conn, qid, who, body.score, body.comment)
        return respond(await svc.present_one(conn, q, who))


@endpoint("Claim an escalated question of my pool", roles=("lawyer",), response=QuestionOut, errors=(409,))
async def claim(request: web.Request) -> web.Response:
    who = await principal(request, "lawyer")
    qid = path_id(request)
    async with request.app[DB_POOL].acquire() as conn:
        q = await svc.claim(conn, qid, who)
        return respond(await svc.present_one(conn, q, who))


@endpoint(
    "Answer (the current assignee)",
    roles=("lawyer",),
    body=AnswerIn,
    response=MessageOut,
    status=201,
    errors=(409,),
)
async def answer(request: web.Request) -> web.Response:
    who = await principal(request, "lawyer")
    qid = path_id(request)
    body = await parse_body(request, AnswerIn)
    async with request.app[DB_POOL].acquire() as conn:
        return respond(await svc.answer(conn, qid, who, body.content, body.kind), status=201)


@endpoint("My work queue", roles=("lawyer",), response=QueueOut)
async def lawyer_queue(request: web.Request) -> web.Response:
    who = await principal(request, "lawyer")
    async with request.app[DB_POOL].acquire() as conn:
        queue, staff = await svc.lawyer_queue(conn, who)
    return respond({name: workers.attach_staff_fields(qs, who, staff) for name, qs in queue.items()})


@endpoint("A question's state-change log", roles=ANY_ROLE, response=list[EventOut])
async def question_events(request: web.Request) -> web.Response:
    """The state-change log of one question (bureau, or anyone who may see the question)."""
    who = await principal(request)
    qid = path_id(request)
    async with request.app[DB_POOL].acquire() as conn:
        return respond(await svc.events_for(conn, qid, who))
