"""The bureau's metrics, open escalations, ledger export and callbacks: parse, call the service, respond."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

import asyncpg
from aiohttp import web

from fazhizhen.keys import DB_POOL, SETTINGS
from fazhizhen.models.metrics import CallbackAssignIn, CallbackOutcomeIn, CallbackQuery, MetricsQuery
from fazhizhen.models.responses import (
    CallbackOut,
    CategoryCountOut,
    DailyOut,
    HistogramOut,
    LawyerScoreOut,
    LevelOut,
    OpenEscalationOut,
    PlacesOut,
    SummaryOut,
)
from fazhizhen.services import callbacks, ledger, metrics
from fazhizhen.settings import Settings
from fazhizhen.web.jsonio import parse_body, parse_query, path_id, respond
from fazhizhen.web.middleware import principal
from fazhizhen.web.openapi import endpoint

Handler = Callable[[web.Request], Awaitable[web.Response]]
Reader = Callable[[asyncpg.Connection, Settings, metrics.Filters], Awaitable[Any]]


async def _filters(conn: asyncpg.Connection, settings: Settings, q: MetricsQuery) -> metrics.Filters:
    return await metrics.resolve(
        conn,
        settings,
        date_from=q.date_from,
        date_to=q.date_to,
        district_id=q.district_id,
        street_id=q.street_id,
        community_id=q.community_id,
        category=q.category,
        raw=q.source == "raw",
    )


def _reader(fn: Reader) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handler(request: web.Request) -> web.Response:
        await principal(request, "bureau")
        q = parse_query(request, MetricsQuery)
        settings = request.app[SETTINGS]
        async with request.app[DB_POOL].acquire() as conn:
            f = await _filters(conn, settings, q)
            return respond(await fn(conn, settings, f))

    handler.__doc__ = fn.__doc__
    return handler


def _doc(summary: str, response: Any) -> Callable[[Handler], Handler]:
    """Declare a metrics reader; its description is the reader's own docstring and every definition."""

    def mark(handler: Handler) -> Handler:
        description = f"{handler.__doc__ or ''}\n\n{metrics.__doc__ or ''}".strip()
        return endpoint(summary, roles=("bureau",), query=MetricsQuery, response=response, description=description)(
            handler
        )

    return mark


summary = _doc("Key figures of a range and place", SummaryOut)(_reader(metrics.summary))
levels = _doc("Where questions were resolved, A-D", list[LevelOut])(_reader(metrics.levels))
categories = _doc("Questions per category, largest first", list[CategoryCountOut])(_reader(metrics.categories))
daily = _doc("One row per day", list[DailyOut])(_reader(metrics.daily))
lawyers = _doc("Lawyer scorecards, best first", list[LawyerScoreOut])(_reader(metrics.lawyers))
places = _doc("The figures of each place one level down", PlacesOut)(_reader(metrics.places))
histogram = _doc("Response-time distribution", HistogramOut)(_reader(metrics.histogram))


async def _open_escalations(conn: asyncpg.Connection, settings: Settings, f: metrics.Filters) -> Any:
    """Escalated questions still unanswered, alerted first."""
    return await metrics.open_escalations(conn, f)


open_escalations = _doc("Escalated questions still unanswered, alerted first", list[OpenEscalationOut])(
    _reader(_open_escalations)
)


def _filename(f: metrics.Filters, ext: str) -> str:
    return f"questions-{f.date_from:%Y%m%d}-{f.date_to:%Y%m%d}.{ext}"


def _download_headers(f: metrics.Filters, ext: str, content_type: str) -> dict[str, str]:
    name = _filename(f, ext)
    return {
        "Content-Type": content_type,
        "Content-Disposition": f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote('法指针台账-' + name)}",
        "Cache-Control": "no-store",
    }


@endpoint(
    "The ledger (台账) as CSV, UTF-8 with BOM",
    roles=("bureau",),
    query=MetricsQuery,
    response={"type": "string"},
    content_type="text/csv",
)
async def export_csv(request: web.Request) -> web.StreamResponse:
    """The ledger (台账) as CSV, streamed from a server-side cursor: constant memory for any range."""
    await principal(request, "bureau")
    q = parse_query(request, MetricsQuery)
    settings = request.app[SETTINGS]
    async with request.app[DB_POOL].acquire() as conn:
        f = await _filters(conn, settings, q)
        resp = web.StreamResponse(headers=_download_headers(f, "csv", "text/csv; charset=utf-8"))
        await resp.prepare(request)
        async with conn.transaction(readonly=True):
            async for chunk in ledger.csv_chunks(conn, settings, f):
                await resp.write(chunk)
        await resp.write_eof()
        return resp


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@endpoint("The ledger (台账) as an Excel workbook", roles=("bureau",), query=MetricsQuery,
          response={"type": "string", "format": "binary"}, content_type=XLSX)  # fmt: skip
async def export_xlsx(request: web.Request) -> web.StreamResponse:
    """The ledger (台账) as .xlsx, the CSV's columns: built in an unlinked temporary file from a
    server-side cursor (constant memory; a zip cannot be streamed row by row), then streamed."""
    await principal(request, "bureau")
    q = parse_query(request, MetricsQuery)
    settings = request.app[SETTINGS]
    with tempfile.TemporaryFile() as out:
        async with request.app[DB_POOL].acquire() as conn:
            f = await _filters(conn, settings, q)
            async with conn.transaction(readonly=True):
                await ledger.write_xlsx(conn, settings, f, out)
        resp = web.StreamResponse(headers=_download_headers(f, "xlsx", XLSX))
        resp.content_length = out.tell()
        out.seek(0)
        await resp.prepare(request)
        while chunk := await asyncio.to_thread(out.read, 1 << 16):
            await resp.write(chunk)
        await resp.write_eof()
        return resp


@endpoint("Callback tasks (回访)", roles=("bureau",), query=CallbackQuery, response=list[CallbackOut])
async def list_callbacks(request: web.Request) -> web.Response:
    """Callback tasks (回访) opened by ratings of 1 or 2; `status=open` lists those not done."""
    await principal(request, "bureau")
    q = parse_query(request, CallbackQuery)
    settings = request.app[SETTINGS]
    async with request.app[DB_POOL].acquire() as conn:
        f = await _filters(conn, settings, q)
        return respond(await callbacks.list_callbacks(conn, f, q.status))


@endpoint(
    "Assign a callback (to the caller by default)",
    roles=("bureau",),
    body=CallbackAssignIn,
    response=CallbackOut,
    errors=(409,),
)
async def assign_callback(request: web.Request) -> web.Response:
    who = await principal(request, "bureau")
    cid = path_id(request)
    body = await parse_body(request, CallbackAssignIn) if request.can_read_body else CallbackAssignIn()
    async with request.app[DB_POOL].acquire() as conn:
        return respond(await callbacks.assign(conn, cid, who, body.assignee_id))


@endpoint("Record a callback's outcome", roles=("bureau",), body=CallbackOutcomeIn, response=CallbackOut, errors=(409,))
async def complete_callback(request: web.Request) -> web.Response:
    who = await principal(request, "bureau")
    cid = path_id(request)
    body = await parse_body(request, CallbackOutcomeIn)
    async with request.app[DB_POOL].acquire() as conn:
        return respond(await callbacks.complete(conn, cid, who, body.result, body.outcome))
