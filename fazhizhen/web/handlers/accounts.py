"""Account security: change my password; the bureau resets passwords and (de)activates accounts."""

from __future__ import annotations

from aiohttp import web

from fazhizhen.keys import DB_POOL, SETTINGS
from fazhizhen.models.responses import ResidentLoginOut
from fazhizhen.models.security import AccountPatchIn, PasswordChangeIn, WeChatLoginIn
from fazhizhen.services import accounts, wechat
from fazhizhen.web.jsonio import parse_body, path_id, respond
from fazhizhen.web.middleware import principal
from fazhizhen.web.openapi import endpoint
from fazhizhen.web.security import client_addr


@endpoint(
    "Change my password",
    roles=("lawyer", "worker", "bureau"),
    body=PasswordChangeIn,
    response={"type": "object"},
    errors=(429,),
)
async def change_password(request: web.Request) -> web.Response:
    who = await principal(request, "lawyer", "worker", "bureau")
    body = await parse_body(request, PasswordChangeIn)
    async with request.app[DB_POOL].acquire() as conn:
        out = await accounts.change_own_password(
            conn, request.app[SETTINGS], who, body.old_password, body.new_password, client_addr(request)
        )
    return respond(out)


@endpoint(
    "Reset a password or (de)activate an account",
    roles=("bureau",),
    body=AccountPatchIn,
    response={"type": "object"},
    errors=(409,),
)
async def update_account(request: web.Request) -> web.Response:
    who = await principal(request, "bureau")
    account_id = path_id(request)
    body = await parse_body(request, AccountPatchIn)
    async with request.app[DB_POOL].acquire() as conn:
        out = await accounts.update_account(
            conn,
            request.app[SETTINGS],
            who,
            account_id,
            active=body.active,
            password=body.password,
            client_addr=client_addr(request),
        )
    return respond(out)


@endpoint(
    "Resident login with a mini-program code (code2Session)",
    body=WeChatLoginIn,
    response=ResidentLoginOut,
    errors=(401, 403, 429),
)
async def wechat_login(request: web.Request) -> web.Response:
    body = await parse_body(request, WeChatLoginIn)
    async with request.app[DB_POOL].acquire() as conn:
        out = await wechat.login(conn, request.app[SETTINGS], body.code, client_addr(request))
    return respond(out)
