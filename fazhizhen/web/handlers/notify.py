"""The bureau's webhooks and a view of the notification outbox."""

from __future__ import annotations

from aiohttp import web

from fazhizhen.keys import DB_POOL
from fazhizhen.models.notify import OutboxQuery, WebhookIn
from fazhizhen.models.responses import OutboxOut, WebhookOut
from fazhizhen.services import outbox, webhooks
from fazhizhen.web.jsonio import parse_body, parse_query, path_id, respond
from fazhizhen.web.middleware import principal
from fazhizhen.web.openapi import endpoint


@endpoint(
    "Register a webhook for escalations and alerts", roles=("bureau",), body=WebhookIn, response=WebhookOut, status=201
)
async def create_webhook(request: web.Request) -> web.Response:
    who = await principal(request, "bureau")
    body = await parse_body(request, WebhookIn)
    async with request.app[DB_POOL].acquire() as conn:
        row = await webhooks.register(conn, str(body.url), list(body.events), body.description, who.id)
        return respond(row, status=201)


@endpoint("List webhooks", roles=("bureau",), response=list[WebhookOut])
async def list_webhooks(request: web.Request) -> web.Response:
    await principal(request, "bureau")
    async with request.app[DB_POOL].acquire() as conn:
        return respond(await webhooks.list_all(conn))


@endpoint("Deactivate a webhook", roles=("bureau",), status=204)
async def delete_webhook(request: web.Request) -> web.Response:
    await principal(request, "bureau")
    webhook_id = path_id(request)
    async with request.app[DB_POOL].acquire() as conn:
        await webhooks.deactivate(conn, webhook_id)
    return web.Response(status=204)


@endpoint(
    "The notification outbox, newest first, with counts per status",
    roles=("bureau",),
    query=OutboxQuery,
    response=OutboxOut,
)
async def list_outbox(request: web.Request) -> web.Response:
    await principal(request, "bureau")
    q = parse_query(request, OutboxQuery)
    async with request.app[DB_POOL].acquire() as conn:
        rows = await outbox.list_rows(conn, q.status, q.before_id, q.limit)
        counts = await outbox.status_counts(conn)
    return respond({"counts": counts, "items": rows})
