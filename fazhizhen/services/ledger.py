"""The ledger (台账) export: one row per question, Chinese headers; CSV (UTF-8 with BOM for Excel) or .xlsx."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import IO, Any
from zoneinfo import ZoneInfo

import asyncpg
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from fazhizhen.services import metrics
from fazhizhen.services.categories import category_name
from fazhizhen.services.privacy import mask_pii
from fazhizhen.services.workers import referral_summary
from fazhizhen.settings import Settings

BOM = "\ufeff"
ROWS_PER_CHUNK = 200

STATUS = {
    "pending": "待解答",
    "escalated": "已升级待认领",
    "claimed": "已认领待解答",
    "answered": "已解答",
    "closed": "已办结",
}
REASON = {"window_passed": "超时未答", "no_lawyer_on_duty": "无值班律师"}
REPLY_KIND = {"answer": "解答", "clarification": "追问澄清", "acknowledgement": "仅确认收到"}
SOURCE = {"resident": "居民选择", "classifier": "自动分类"}


def _cell(text: str | None) -> str:
    """User text made safe for spreadsheets: personal numbers masked, no formula injection."""
    masked = mask_pii(text) or ""
    return "'" + masked if masked[:1] in ("=", "+", "-", "@", "\t", "\r") else masked


def columns(tz: ZoneInfo) -> list[tuple[str, Callable[[dict[str, Any]], Any]]]:
    """(header, value of a ledger row) for each column, in order."""

    def t(key: str) -> Callable[[dict[str, Any]], str]:
        def fmt(r: dict[str, Any]) -> str:
            v: datetime | None = r[key]
            return v.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S") if v else ""

        return fmt

    def secs(key: str) -> Callable[[dict[str, Any]], str]:
        return lambda r: f"{r[key]:.0f}" if r[key] is not None else ""

    return [
        ("编号", lambda r: r["id"]),
        ("提问时间", t("created_at")),
        ("区", lambda r: r["district"]),
        ("街道", lambda r: r["street"]),
        ("社区", lambda r: r["community"]),
        ("问题类别", lambda r: category_name(r["category"])),
        ("类别来源", lambda r: SOURCE.get(r["category_source"], r["category_source"])),
        ("问题内容", lambda r: _cell(r["content"])),
        ("状态", lambda r: STATUS.get(r["status"], r["status"])),
        ("解决层级", lambda r: r["resolved_level"] or ""),
        ("社区律师", lambda r: r["routed_lawyer"] or ""),
        ("升级时间", t("escalated_at")),
        ("升级原因", lambda r: REASON.get(r["escalation_reason"] or "", r["escalation_reason"] or "")),
        ("律师服务团", lambda r: r["pool"] or ""),
        ("认领律师", lambda r: r["claimed_lawyer"] or ""),
        ("认领时间", t("claimed_at")),
        ("告警时间", t("alerted_at")),
        ("首次回复时间", t("first_answered_at")),
        ("首次回复律师", lambda r: r["first_answered_by"] or ""),
        ("首次响应用时(秒)", secs("response_seconds")),
        ("首次回复类型", lambda r: REPLY_KIND.get(r["first_reply_kind"] or "", "")),
        ("首次实质解答时间", t("first_substantive_at")),
        ("实质解答用时(秒)", secs("substantive_seconds")),
        ("是否采纳", lambda r: "是" if r["adopted"] else "否"),
        ("办结时间", t("closed_at")),
        ("评分", lambda r: r["rating"] if r["rating"] is not None else ""),
        ("评价内容", lambda r: _cell(r["rating_comment"])),
        ("提问渠道", lambda r: "社工代问" if r["asked_by_worker"] else "小程序"),
        ("代问社工", lambda r: r["asked_by_worker"] or ""),
        ("转介", lambda r: referral_summary(r["referrals"])),
    ]


async def csv_chunks(conn: asyncpg.Connection, settings: Settings, f: metrics.Filters) -> AsyncIterator[bytes]:
    """The ledger as encoded CSV pieces, a few hundred rows at a time (call inside a transaction)."""
    cols = columns(ZoneInfo(settings.timezone))
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    buf.write(BOM)
    writer.writerow([h for h, _ in cols])
    n = 0
    async for row in metrics.ledger(conn, settings, f):
        writer.writerow([fn(row) for _, fn in cols])
        n += 1
        if n % ROWS_PER_CHUNK == 0:
            yield buf.getvalue().encode("utf-8")
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue().encode("utf-8")


def _xlsx_value(v: Any) -> Any:
    """A CSV cell as an .xlsx cell: control characters dropped (the format forbids them), and text
    starting with "=" (which openpyxl would store as a formula) kept as text, as the CSV does."""
    if not isinstance(v, str):
        return v
    v = ILLEGAL_CHARACTERS_RE.sub("", v)
    return "'" + v if v.startswith("=") else v


async def write_xlsx(conn: asyncpg.Connection, settings: Settings, f: metrics.Filters, out: IO[bytes]) -> int:
    """The ledger as an .xlsx workbook written to `out` (call inside a transaction); the number of rows.

    openpyxl's write-only mode spools rows to a temporary file as they are appended, so memory stays
    flat for any range; the rows are appended and the zip written in a worker thread, a few hundred
    at a time, so the event loop keeps serving. Same columns and cells as the CSV.
    """
    cols = columns(ZoneInfo(settings.timezone))
    book = Workbook(write_only=True)
    sheet = book.create_sheet("台账")
    sheet.append([h for h, _ in cols])
    batch: list[list[Any]] = []

    def flush(rows: list[list[Any]]) -> None:
        for r in rows:
            sheet.append(r)

    n = 0
    async for row in metrics.ledger(conn, settings, f):
        batch.append([_xlsx_value(fn(row)) for _, fn in cols])
        n += 1
        if len(batch) >= ROWS_PER_CHUNK:
            await asyncio.to_thread(flush, batch)
            batch = []
    await asyncio.to_thread(flush, batch)
    await asyncio.to_thread(book.save, out)
    return n
