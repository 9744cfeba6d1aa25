"""The justice bureau's figures, from daily/monthly rollups (fast) or the raw tables (exact).

Definitions (also in the OpenAPI descriptions and on the dashboard):
- A question counts on the day it was asked, Asia/Shanghai (FAZHIZHEN_TIMEZONE); `from` and `to` are
  dates, both inclusive; absent, the range is the 30 days ending today.
- response time = first lawyer reply (answer, clarification or acknowledgement) - asked.
- response_rate = answered / questions; within_sla_rate = answered within FAZHIZHEN_ESCALATE_AFTER_SECONDS
  / questions; escalation_rate = escalated / questions; adoption_rate = adopted / answered;
  evaluation_rate = rated / answered; satisfaction_rate = (rated 4-5 or adopted) / (rated or adopted).
- first substantive answer = first lawyer message marked "answer" that is not a short or template
  acknowledgement; acknowledgement_first_rate = questions whose first reply was only one / answered.
- escalation lateness = escalated_at - escalate_at, for escalations because the window passed.
- p50/p90 are percentile_cont over the raw rows when the range holds at most 20,000 questions
  (`percentiles: "exact"`); above that they come from the rollups' mergeable histograms, within one
  bucket (`percentiles: "histogram"`).
- levels: where answered questions were resolved (A community lawyer in window, B district pool,
  C city-wide pool, D after the bureau was alerted); share of answered questions.
- lawyers: assigned = routed to or claimed by the lawyer; response_rate = answered by them within the
  window that applied (community window before escalate_at, pool window before alert_at) / assigned;
  completion_rate = answered by them / assigned; satisfaction_rate = their answers rated 4-5 or adopted
  / rated or adopted (null when none); score = 10·response + 40·completion + 50·satisfaction (null
  while satisfaction is null).
- Every rate has its denominator beside it (`denominators`); `source=raw` answers from the raw tables.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from fazhizhen.errors import InvalidInput
from fazhizhen.log import get_logger
from fazhizhen.models.levels import LevelsBreakdownQuery
from fazhizhen.repo import levels as levels_repo
from fazhizhen.repo import metrics as repo
from fazhizhen.services.categories import CATEGORIES, category_name
from fazhizhen.services.levels import LEVELS, breakdown_result, date_range, place_row, split
from fazhizhen.settings import Settings

log = get_logger("fazhizhen.metrics")

Record = dict[str, Any]

CITY, DISTRICT, STREET, COMMUNITY = 0, 1, 2, 3
DEFAULT_DAYS = 30
MAX_DAYS = 3700
EXACT_PERCENTILES_MAX = 20_000
TOUCH_BATCH = 20_000
# a read waits this long for a refresh in progress (so it sees what was just folded in), then reads anyway
READ_WAIT_MS = 3_000


@dataclass(frozen=True, slots=True)
class Filters:
    """A validated metrics query: an inclusive local-date range, a place and an optional category."""

    date_from: date
    date_to: date
    scope: int
    scope_id: int
    category: str | None = None
    district_id: int | None = None
    street_id: int | None = None
    community_id: int | None = None
    raw: bool = False

    def echo(self) -> Record:
        """The filters as the client should read them back."""
        return {
            "from": self.date_from,
            "to": self.date_to,
            "district_id": self.district_id,
            "street_id": self.street_id,
            "community_id": self.community_id,
            "category": self.category,
        }

    @property
    def days(self) -> list[date]:
        return [self.date_from + timedelta(days=i) for i in range((self.date_to - self.date_from).days + 1)]


# --- pure helpers -------------------------------------------------------------------------------


def _next_month(d: date) -> date:
    return date(d.year + d.month // 12, d.month % 12 + 1, 1)


def cover(date_from: date, date_to: date) -> tuple[list[date], list[date]]:
    """The whole calendar months inside [from, to] and the days left over (at most ~60)."""
    months: list[date] = []
    days: list[date] = []
    d = date_from
    while d <= date_to:
        if d.day == 1 and _next_month(d) - timedelta(days=1) <= date_to:
            months.append(d)
            d = _next_month(d)
        else:
            days.append(d)
            d += timedelta(days=1)
    return months, days


def rate(num: float | None, den: float | None) -> float | None:
    """num / den rounded to 4 places; None when there is no denominator."""
    if not den or num is None:
        return None
    return round(num / den, 4)


def _avg(total_ms: int | None, n: int | None) -> float | None:
    """The mean in seconds of values summed in milliseconds."""
    return round(total_ms / 1000 / n, 1) if n and total_ms is not None else None


def histogram_percentile(
    counts: list[int] | None, bounds: list[float], p: float, maximum: float | None
) -> float | None:
    """percentile_cont's answer estimated from bucket counts (values spread evenly within a bucket)."""
    if not counts:
        return None
    n = sum(counts)
    if n == 0:
        return None

    def nth(k: int) -> float:
        seen = 0
        for i, c in enumerate(counts):
            if c and k < seen + c:
                lo = bounds[i]
                hi = bounds[i + 1] if i + 1 < len(bounds) else max(lo, maximum or lo)
                if maximum is not None:
                    hi = min(hi, max(lo, maximum))
                return lo + (k - seen + 0.5) / c * (hi - lo)
            seen += c
        return maximum or bounds[-1]

    h = p * (n - 1)
    lo_k = math.floor(h)
    value = nth(lo_k)
    if h > lo_k:
        value += (h - lo_k) * (nth(lo_k + 1) - value)
    return round(value, 1)


def _r1(v: float | None) -> float | None:
    return round(v, 1) if v is not None else None


def figures(row: Record | None, bounds: Record, settings: Settings) -> Record:
    """Every summary figure of one summed rollup row, with each rate's denominator beside it."""
    r: Record = row or {}

    def g(k: str) -> int:
        return int(r.get(k) or 0)

    questions, answered, rated = g("questions"), g("answered"), g("rated")
    out: Record = {
        "questions": questions,
        "answered": answered,
        "response_rate": rate(answered, questions),
        "avg_response_seconds": _avg(r.get("response_ms"), answered),
        "p50_response_seconds": histogram_percentile(
            r.get("response_hist"), bounds["response"], 0.5, r.get("response_max")
        ),
        "p90_response_seconds": histogram_percentile(
            r.get("response_hist"), bounds["response"], 0.9, r.get("response_max")
        ),
        "max_response_seconds": _r1(r.get("response_max")),
        "within_sla": g("within_window"),
        "within_sla_rate": rate(g("within_window"), questions),
        "window_seconds": settings.escalate_after_seconds,
        "escalated": g("escalated"),
        "escalation_rate": rate(g("escalated"), questions),
        "alerted": g("alerted"),
        "alert_rate": rate(g("alerted"), questions),
        "adopted": g("adopted"),
        "adoption_rate": rate(g("adopted"), answered),
        "avg_rating": round(g("rating_sum") / rated, 2) if rated else None,
        "rated": rated,
        "evaluation_rate": rate(rated, answered),
        "satisfied": g("satisfied"),
        "satisfaction_rate": rate(g("satisfied"), g("satisfaction_base")),
        "substantive_answered": g("substantive"),
        "avg_substantive_seconds": _avg(r.get("substantive_ms"), g("substantive")),
        "acknowledgement_first": g("first_acknowledgement"),
        "acknowledgement_first_rate": rate(g("first_acknowledgement"), answered),
        "clarification_first": g("first_clarification"),
        "escalations_by_window": g("late"),
        "lateness_avg_seconds": round(r["lateness_ms"] / 1000 / g("late"), 3) if g("late") else None,
        "lateness_p50_seconds": histogram_percentile(
            r.get("lateness_hist"), bounds["lateness"], 0.5, r.get("lateness_max")
        ),
        "lateness_p99_seconds": histogram_percentile(
            r.get("lateness_hist"), bounds["lateness"], 0.99, r.get("lateness_max")
        ),
        "lateness_max_seconds": round(r["lateness_max"], 3) if r.get("lateness_max") is not None else None,
        "percentiles": "histogram",
    }
    out["denominators"] = {
        "response_rate": {"of": "questions", "count": questions},
        "within_sla_rate": {"of": "questions", "count": questions},
        "escalation_rate": {"of": "questions", "count": questions},
        "alert_rate": {"of": "questions", "count": questions},
        "adoption_rate": {"of": "answered", "count": answered},
        "evaluation_rate": {"of": "answered", "count": answered},
        "acknowledgement_first_rate": {"of": "answered", "count": answered},
        "avg_rating": {"of": "rated", "count": rated},
        "satisfaction_rate": {"of": "rated_or_adopted", "count": g("satisfaction_base")},
    }
    return out


def scorecard(row: Record) -> Record:
    """A lawyer's figures: score = 10·response + 40·completion + 50·satisfaction (null without ratings)."""
    assigned = int(row["assigned"])
    response = rate(row["in_window"], assigned)
    completion = rate(row["answered"], assigned)
    satisfaction = rate(row["satisfied"], row["satisfaction_base"])
    score = None
    if satisfaction is not None and response is not None and completion is not None:
        score = round(10 * response + 40 * completion + 50 * satisfaction, 2)
    return {
        "lawyer_id": row["lawyer_id"],
        "name": row["name"],
        "assigned": assigned,
        "answered": int(row["answered"]),
        "answered_within_window": int(row["in_window"]),
        "response_rate": response,
        "completion_rate": completion,
        "satisfaction_rate": satisfaction,
        "satisfaction_base": int(row["satisfaction_base"]),
        "avg_response_seconds": _avg(row["response_ms"], int(row["answered"])),
        "score": score,
    }


# --- filters ------------------------------------------------------------------------------------


async def resolve(
    conn: asyncpg.Connection,
    settings: Settings,
    *,
    date_from: date | None,
    date_to: date | None,
    district_id: int | None = None,
    street_id: int | None = None,
    community_id: int | None = None,
    category: str | None = None,
    raw: bool = False,
) -> Filters:
    """Check a query: defaults for the range, from <= to, places that exist and nest; 422 naming the field."""
    if date_to is None:
        date_to = (
            date_from + timedelta(days=DEFAULT_DAYS - 1)
            if date_from is not None
            else await repo.today(conn, settings.timezone)
        )
    if date_from is None:
        date_from = date_to - timedelta(days=DEFAULT_DAYS - 1)
    if date_from > date_to:
        raise InvalidInput.field("from", "起始日期不能晚于结束日期")
    if (date_to - date_from).days + 1 > MAX_DAYS:
        raise InvalidInput.field("to", f"日期范围不能超过 {MAX_DAYS} 天")
    if category is not None and category not in CATEGORIES:
        raise InvalidInput.field("category", "未知的问题类别")
    scope, scope_id = CITY, 0
    if district_id is not None:
        if await repo.district_place(conn, district_id) is None:
            raise InvalidInput.field("district_id", "区不存在")
        scope, scope_id = DISTRICT, district_id
    if street_id is not None:
        street = await repo.street_place(conn, street_id)
        if street is None:
            raise InvalidInput.field("street_id", "街道不存在")
        if district_id is not None and street["district_id"] != district_id:
            raise InvalidInput.field("street_id", "该街道不属于所选的区")
        scope, scope_id = STREET, street_id
    if community_id is not None:
        community = await repo.community_place(conn, community_id)
        if community is None:
            raise InvalidInput.field("community_id", "社区不存在")
        if (street_id is not None and community["street_id"] != street_id) or (
            district_id is not None and community["district_id"] != district_id
        ):
            raise InvalidInput.field("community_id", "该社区不属于所选的街道或区")
        scope, scope_id = COMMUNITY, community_id
    return Filters(date_from, date_to, scope, scope_id, category, district_id, street_id, community_id, raw)


async def communities_of(conn: asyncpg.Connection, f: Filters) -> list[int] | None:
    """The communities a filter covers (None: the whole city)."""
    return await repo.scope_communities(conn, f.scope, [f.scope_id])


# --- rollup upkeep ------------------------------------------------------------------------------


async def refresh(
    conn: asyncpg.Connection, settings: Settings, *, wait: bool = False, wait_ms: int | None = None
) -> int:
    """Fold up to TOUCH_BATCH touches into the rollups; the number of community-days recomputed.

    Single-flight across processes: returns -1 if another writer holds the lock, at once or after
    `wait_ms`; with `wait` it waits as long as it takes.
    """
    async with conn.transaction():
        if wait:
            await repo.lock(conn)
        elif wait_ms is not None:
            if not await repo.lock(conn, wait_ms):
                return -1
        elif not await repo.try_lock(conn):
            return -1
        keys = await repo.take_touched(conn, TOUCH_BATCH, settings.timezone)
        if keys:
            await repo.recompute(
                conn,
                [k["community_id"] for k in keys],
                [k["day"] for k in keys],
                settings.timezone,
                settings.escalate_after_seconds,
            )
    if keys:
        log.info("metrics_rollups_refreshed", community_days=len(keys))
    return len(keys)


async def refresh_all(conn: asyncpg.Connection, settings: Settings) -> int:
    """Refresh until the touch log is empty (the scheduler job); stops if another writer is at it."""
    total = 0
    while True:
        n = await refresh(conn, settings)
        if n <= 0:
            return total
        total += n


async def rebuild(
    conn: asyncpg.Connection,
    settings: Settings,
    date_from: date | None = None,
    date_to: date | None = None,
) -> int:
    """Recompute the rollups from the raw tables (all of them, or the days in range) in one transaction.

    One pass of the raw aggregate over the range, then the cascade to streets, districts, the city
    and the months: minutes for millions of questions, and readers see the old rollups until commit.
    """
    async with conn.transaction():
        await repo.lock(conn)
        if date_from is None and date_to is None:
            await repo.clear_rollups(conn)
        span = await repo.question_days(conn, settings.timezone)
        first, last = date_from or span["first"], date_to or span["last"]
        n = 0
        if first is not None and last is not None and first <= last:
            n = await repo.rebuild(conn, first, last, settings.timezone, settings.escalate_after_seconds)
    log.info("metrics_rollups_rebuilt", community_days=n)
    return n


# --- reading ------------------------------------------------------------------------------------

_BOUNDS: Record = {}


async def _bounds(conn: asyncpg.Connection) -> Record:
    if not _BOUNDS:
        _BOUNDS.update(await repo.bounds(conn))
    return _BOUNDS


async def _grouped(
    conn: asyncpg.Connection,
    settings: Settings,
    f: Filters,
    group: str,
    *,
    scope: int | None = None,
    ids: list[int] | None = None,
    whole_days: bool = False,
) -> list[Record]:
    if not f.raw:
        await refresh(conn, settings, wait_ms=READ_WAIT_MS)
    months, days = ([], f.days) if whole_days else cover(f.date_from, f.date_to)
    return await repo.grouped(
        conn,
        raw=f.raw,
        scope=f.scope if scope is None else scope,
        ids=[f.scope_id] if ids is None else ids,
        months=months,
        days=days,
        date_from=f.date_from,
        date_to=f.date_to,
        tz=settings.timezone,
        window=settings.escalate_after_seconds,
        category=f.category,
        group=group,
    )


async def summary(conn: asyncpg.Connection, settings: Settings, f: Filters) -> Record:
    """The KPI figures of a range and place (CONTRACT.md /metrics/summary, plus honest extras)."""
    rows = await _grouped(conn, settings, f, "all")
    out = figures(rows[0] if rows else None, await _bounds(conn), settings)
    if out["questions"] <= EXACT_PERCENTILES_MAX:
        exact = await repo.exact_percentiles(
            conn, f.date_from, f.date_to, settings.timezone, await communities_of(conn, f), f.category
        )
        resp, subst, late = exact["response"], exact["substantive"], exact["lateness"]
        out |= {
            "p50_response_seconds": _r1(resp[0]) if resp else None,
            "p90_response_seconds": _r1(resp[1]) if resp else None,
            "p50_substantive_seconds": _r1(subst[0]) if subst else None,
            "p90_substantive_seconds": _r1(subst[1]) if subst else None,
            "lateness_p50_seconds": round(late[0], 3) if late and late[0] is not None else None,
            "lateness_p99_seconds": round(late[1], 3) if late and late[1] is not None else None,
            "percentiles": "exact",
        }
    out["open_callbacks"] = await repo.open_callback_count(conn, await communities_of(conn, f))
    return out | {"filters": f.echo()}


async def levels(conn: asyncpg.Connection, settings: Settings, f: Filters) -> list[Record]:
    """Where answered questions were resolved, A-D; share of all answered questions."""
    rows = await _grouped(conn, settings, f, "all")
    r = rows[0] if rows else {}
    return split({lv: int(r.get(f"level_{lv.lower()}") or 0) for lv in LEVELS})


async def categories(conn: asyncpg.Connection, settings: Settings, f: Filters) -> list[Record]:
    """Questions per category, largest first (every known category, zeros last); share of all questions."""
    rows = await _grouped(conn, settings, f, "category")
    counts = dict.fromkeys(CATEGORIES, 0) | {r["key"]: int(r["questions"]) for r in rows}
    if f.category is not None:
        counts = {f.category: counts.get(f.category, 0)}
    total = sum(counts.values())
    ranked = sorted(
        counts.items(), key=lambda kv: (-kv[1], list(CATEGORIES).index(kv[0]) if kv[0] in CATEGORIES else 99)
    )
    return [
        {"category": code, "name": category_name(code), "count": n, "share": rate(n, total) or 0.0}
        for code, n in ranked
    ]


async def daily(conn: asyncpg.Connection, settings: Settings, f: Filters) -> list[Record]:
    """One row per day in range (empty days included)."""
    rows = {r["key"]: r for r in await _grouped(conn, settings, f, "day", whole_days=True)}
    out = []
    for d in f.days:
        r = rows.get(d.isoformat(), {})
        answered = int(r.get("answered") or 0)
        out.append(
            {
                "date": d,
                "questions": int(r.get("questions") or 0),
                "answered": answered,
                "escalated": int(r.get("escalated") or 0),
                "within_sla": int(r.get("within_window") or 0),
                "acknowledgement_first": int(r.get("first_acknowledgement") or 0),
                "avg_response_seconds": _avg(r.get("response_ms"), answered),
            }
        )
    return out


async def places(conn: asyncpg.Connection, settings: Settings, f: Filters) -> Record:
    """The same figures for each place one level down (city → districts → streets → communities)."""
    children = await repo.place_children(conn, f.scope, f.scope_id)
    child_scope = children[0]["scope"] if children else min(f.scope + 1, COMMUNITY)
    rows = await _grouped(conn, settings, f, "place", scope=child_scope, ids=[c["id"] for c in children])
    by_id = {int(r["key"]): r for r in rows}
    bounds = await _bounds(conn)
    level = {DISTRICT: "district", STREET: "street", COMMUNITY: "community"}[child_scope]
    items = []
    for c in children:
        fig = figures(by_id.get(c["id"]), bounds, settings)
        fig.pop("denominators")
        items.append({"level": level, "id": c["id"], "name": c["name"], **fig})
    items.sort(key=lambda x: (-x["questions"], x["id"]))
    return {"level": level, "filters": f.echo(), "items": items}


BY_SCOPE = {"district": DISTRICT, "street": STREET, "community": COMMUNITY}


async def levels_breakdown(conn: asyncpg.Connection, settings: Settings, q: LevelsBreakdownQuery) -> Record:
    """The A-D split per district, street or community (`by`), each against the 90% A+B goal.

    From the rollups like every other figure (`source=raw`: the raw tables): the places at the `by`
    level in one grouped read, or, when the filter names a place below that level, the filter's place
    alone (its only row is the one place of the `by` level that holds it).
    """
    start, end = date_range(q, ZoneInfo(settings.timezone))
    f = await resolve(
        conn,
        settings,
        date_from=start,
        date_to=end,
        district_id=q.district_id,
        street_id=q.street_id,
        community_id=q.community_id,
        category=q.category,
        raw=q.source == "raw",
    )
    places = await levels_repo.level_places(conn, q.by, q.district_id, q.street_id, q.community_id)
    scope, key = BY_SCOPE[q.by], f"{q.by}_id"
    if f.scope > scope:
        rows = await _grouped(conn, settings, f, "all")
        counts = {p[key]: rows[0] if rows else None for p in places}
    else:
        rows = await _grouped(conn, settings, f, "place", scope=scope, ids=[p[key] for p in places])
        counts = {int(r["key"]): r for r in rows}
    return breakdown_result(f.date_from, f.date_to, q.by, [place_row(p, counts.get(p[key])) for p in places])


async def histogram(conn: asyncpg.Connection, settings: Settings, f: Filters) -> Record:
    """The response-time distribution: count per bucket [from_seconds, to_seconds)."""
    rows = await _grouped(conn, settings, f, "all")
    bounds = (await _bounds(conn))["response"]
    counts = (rows[0]["response_hist"] if rows else None) or [0] * len(bounds)
    buckets = [
        {
            "from_seconds": bounds[i],
            "to_seconds": bounds[i + 1] if i + 1 < len(bounds) else None,
            "count": counts[i],
        }
        for i in range(len(bounds))
    ]
    return {"window_seconds": settings.escalate_after_seconds, "buckets": buckets, "filters": f.echo()}


async def lawyers(conn: asyncpg.Connection, settings: Settings, f: Filters) -> list[Record]:
    """Lawyer scorecards, best score first (unscored after, by questions assigned)."""
    raw = f.raw or f.category is not None
    if not raw:
        await refresh(conn, settings, wait_ms=READ_WAIT_MS)
    months, days = cover(f.date_from, f.date_to)
    rows = await repo.lawyers_grouped(
        conn,
        raw=raw,
        scope=f.scope,
        ids=[f.scope_id],
        months=months,
        days=days,
        date_from=f.date_from,
        date_to=f.date_to,
        tz=settings.timezone,
        category=f.category,
    )
    cards = [scorecard(r) for r in rows]
    cards.sort(key=lambda c: (c["score"] is None, -(c["score"] or 0), -c["assigned"], c["lawyer_id"]))
    return cards


async def open_escalations(conn: asyncpg.Connection, f: Filters, limit: int = 100) -> list[Record]:
    """Escalated questions nobody has answered yet, alerted ones first (no question text)."""
    rows = await repo.open_escalations(conn, await communities_of(conn, f), limit)
    for r in rows:
        r["category_name"] = category_name(r["category"])
    return rows


async def ledger(conn: asyncpg.Connection, settings: Settings, f: Filters) -> AsyncIterator[Record]:
    """The ledger rows of a range and place (call inside a transaction)."""
    communities = await communities_of(conn, f)
    async for row in repo.export_questions(conn, f.date_from, f.date_to, settings.timezone, communities, f.category):
        yield row
