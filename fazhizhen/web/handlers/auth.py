"""Logins and logout."""

from __future__ import annotations

from aiohttp import web

from fazhizhen.keys import DB_POOL, SETTINGS
from fazhizhen.models.requests import DevLoginIn, LoginIn
from fazhizhen.models.responses import LoginOut, ResidentLoginOut
from fazhizhen.services import auth
from fazhizhen.web.jsonio import parse_body, respond
from fazhizhen.web.middleware import principal
from fazhizhen.web.openapi import ANY_ROLE, endpoint
from fazhizhen.web.security import client_addr


@endpoint("Staff login", body=LoginIn, response=LoginOut, errors=(401, 429))
async def login(request: web.Request) -> web.Response:
    body = await parse_body(request, LoginIn)
    async with request.app[DB_POOL].acquire() as conn:
        out = await auth.password_login(
            conn, request.app[SETTINGS], body.username, body.password, client_addr(request)
        )
    return respond(out)


@endpoint(
    "Resident login by openid (development only; 404 unless FAZHIZHEN_DEV_LOGIN)",
    body=DevLoginIn,
    response=ResidentLoginOut,
    errors=(403, 404),
)
async def dev_login(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    if not settings.dev_login:
        raise web.HTTPNotFound()
    body = await parse_body(request, DevLoginIn)
    async with request.app[DB_POOL].acquire() as conn:
        out = await auth.dev_login(conn, settings, body.openid)
    return respond(out)


@endpoint("Revoke the token used", roles=ANY_ROLE, status=204)
async def logout(request: web.Request) -> web.Response:
    who = await principal(request)
    async with request.app[DB_POOL].acquire() as conn:
        await auth.logout(conn, who)
    return web.Response(status=204)
