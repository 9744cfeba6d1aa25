"""Residents' and lawyers' question calls: parse, call the service, present."""

from __future__ import annotations

from aiohttp import web

from fazhizhen.keys import DB_POOL, SETTINGS
from fazhizhen.models.requests import AdoptIn, AnswerIn, MessageIn, Page, QuestionIn, RatingIn
from fazhizhen.services import questions as svc
from fazhizhen.services import workers
from fazhizhen.services.categories import CATEGORIES
from fazhizhen.web.jsonio import parse_body, parse_query, path_id, respond
from fazhizhen.web.middleware import principal


async def categories(request: web.Request) -> web.Response:
    return respond([{"code": code, "name": name} for code, name in CATEGORIES.items()])


async def create_question(request: web.Request) -> web.Response:
    who = await principal(request, "resident")
    body = await parse_body(request, QuestionIn)
    async with request.app[DB_POOL].acquire() as conn:
        q = await svc.submit(
            conn,
            request.app[SETTINGS],
            who,
            resident_id=who.id,
            community_id=body.community_id,
            content=body.content,
            category=body.category,
        )
        return respond(await svc.present_one(conn, q, who), status=201)


async def list_questions(request: web.Request) -> web.Response:
    who = await principal(request, "resident")
    page = parse_query(request, Page)
    async with request.app[DB_POOL].acquire() as conn:
        qs = await svc.list_for_resident(conn, who.id, page.before_id, page.limit)
        return respond(await svc.present_many(conn, qs, who))


async def get_question(request: web.Request) -> web.Response:
    who = await principal(request)
    qid = path_id(request)
    async with request.app[DB_POOL].acquire() as conn:
        return respond(await workers.get_one(conn, qid, who))


async def add_message(request: web.Request) -> web.Response:
    who = await principal(request, "resident")
    qid = path_id(request)
    body = await parse_body(request, MessageIn)
    async with request.app[DB_POOL].acquire() as conn:
        return respond(
            await svc.follow_up(conn, qid, who, body.content, request.app[SETTINGS]), status=201
        )


async def adopt(request: web.Request) -> web.Response:
    who = await principal(request, "resident")
    qid = path_id(request)
    body = await parse_body(request, AdoptIn)
    async with request.app[DB_POOL].acquire() as conn:
        q = await svc.adopt(conn, qid, who, body.answer_id)
        return respond(await svc.present_one(conn, q, who))


async def rate(request: web.Request) -> web.Response:
    who = await principal(request, "resident")
    qid = path_id(request)
    body = await parse_body(request, RatingIn)
    async with request.app[DB_POOL].acquire() as conn:
        q = await svc.rate(conn, qid, who, body.score, body.comment)
        return respond(await svc.present_one(conn, q, who))


async def claim(request: web.Request) -> web.Response:
    who = await principal(request, "lawyer")
    qid = path_id(request)
    async with request.app[DB_POOL].acquire() as conn:
        q = await svc.claim(conn, qid, who)
        return respond(await svc.present_one(conn, q, who))


async def answer(request: web.Request) -> web.Response:
    who = await principal(request, "lawyer")
    qid = path_id(request)
    body = await parse_body(request, AnswerIn)
    async with request.app[DB_POOL].acquire() as conn:
        return respond(await svc.answer(conn, qid, who, body.content, body.kind), status=201)


async def lawyer_queue(request: web.Request) -> web.Response:
    who = await principal(request, "lawyer")
    async with request.app[DB_POOL].acquire() as conn:
        queue = await svc.lawyer_queue(conn, who.id)
        out = {name: await svc.present_many(conn, qs, who) for name, qs in queue.items()}
        return respond({name: await workers.staff_view(conn, qs, who) for name, qs in out.items()})


async def question_events(request: web.Request) -> web.Response:
    """The state-change log of one question (bureau, or anyone who may see the question)."""
    who = await principal(request)
    qid = path_id(request)
    async with request.app[DB_POOL].acquire() as conn:
        return respond(await svc.events_for(conn, qid, who))
