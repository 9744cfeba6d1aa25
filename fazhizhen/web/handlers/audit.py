"""The bureau reads the audit log."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from aiohttp import web

from fazhizhen.keys import DB_POOL, SETTINGS
from fazhizhen.models.security import AuditQuery
from fazhizhen.services import audit
from fazhizhen.web.jsonio import parse_query, respond
from fazhizhen.web.middleware import principal
from fazhizhen.web.openapi import endpoint


def _instant(value: datetime | date | None, tz: ZoneInfo, *, end: bool) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    day = value + timedelta(days=1) if end else value  # `to` is inclusive of its whole day
    return datetime.combine(day, time(0), tzinfo=tz)


@endpoint("The audit log, newest first, filterable", roles=("bureau",), query=AuditQuery, response={"type": "object"})
async def list_audit(request: web.Request) -> web.Response:
    await principal(request, "bureau")
    q = parse_query(request, AuditQuery)
    tz = ZoneInfo(request.app[SETTINGS].timezone)
    filters = q.model_dump(exclude={"from_", "to", "limit"}) | {
        "since": _instant(q.from_, tz, end=False),
        "until": _instant(q.to, tz, end=True),
    }
    async with request.app[DB_POOL].acquire() as conn:
        return respond(await audit.page(conn, filters, q.limit))
