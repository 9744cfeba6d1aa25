"""Scenario 4, metrics: 10 million questions over a year (bulk-generated in SQL), then the bureau's
`/metrics/summary`, `/metrics/categories` and `/metrics/daily` for the whole year city-wide, served from
the rollups, against the naive aggregate over the raw table.

FAZHIZHEN_BENCH_METRICS_ROWS and FAZHIZHEN_BENCH_METRICS_COMMUNITIES scale it down."""

from __future__ import annotations

import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import Bench, _mint_tokens, running_server, script_main, seed_city
from bench.report import fig
from fazhizhen.db.pool import connect
from fazhizhen.services import metrics as metrics_svc
from fazhizhen.services.categories import CATEGORIES
from fazhizhen.settings import Settings

CHUNK = 1_000_000
SECONDARY_INDEXES = """SELECT indexname, indexdef FROM pg_indexes
    WHERE schemaname = 'public' AND tablename = 'questions' AND indexname <> 'questions_pkey'"""
ENDPOINTS = ("summary", "categories", "daily", "levels/breakdown")
# the other readers, timed from the rollups only (no naive twin in the issue)
OTHERS = ("levels", "places", "histogram", "lawyers")

NAIVE = {
    "summary": """SELECT count(*) AS questions, count(first_answered_at) AS answered,
        count(escalated_at) AS escalated, count(adopted_answer_id) AS adopted, avg(rating) AS avg_rating,
        avg(extract(epoch FROM first_answered_at - created_at)) AS avg_response_seconds,
        percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY extract(epoch FROM first_answered_at - created_at))
        FROM questions WHERE created_at >= $1 AND created_at < $2""",
    "categories": """SELECT category, count(*) AS count FROM questions
        WHERE created_at >= $1 AND created_at < $2 GROUP BY category ORDER BY count(*) DESC""",
    "daily": """SELECT (created_at AT TIME ZONE $3)::date AS date, count(*) AS questions,
        count(first_answered_at) AS answered, count(escalated_at) AS escalated,
        avg(extract(epoch FROM first_answered_at - created_at)) AS avg_response_seconds
        FROM questions WHERE created_at >= $1 AND created_at < $2 GROUP BY 1 ORDER BY 1""",
    # what /metrics/levels/breakdown ran before it read the rollups
    "levels/breakdown": """SELECT d.id AS district_id, count(q.id) AS questions,
        count(*) FILTER (WHERE q.resolved_level = 'A') AS a, count(*) FILTER (WHERE q.resolved_level = 'B') AS b
        FROM communities c JOIN streets s ON s.id = c.street_id JOIN districts d ON d.id = s.district_id
        LEFT JOIN questions q ON q.community_id = c.id AND q.created_at >= $1 AND q.created_at < $2
        GROUP BY d.id ORDER BY d.id""",
}

# A year of questions ending now: a fifth escalated (answered from the pool), the rest answered by the
# community lawyer; a third rated. Content is left out (as after anonymisation): the figures never read it.
GENERATE = """
INSERT INTO questions (community_id, category, content, status, assigned_lawyer_id, routed_lawyer_id,
                       created_at, escalate_at, escalated_at, escalation_reason, first_answered_at,
                       first_answered_by, resolved_level, rating, updated_at)
SELECT c[1 + g % cardinality(c)], k[1 + (g * 7) % cardinality(k)], NULL, 'answered',
       l[1 + g % cardinality(l)], l[1 + g % cardinality(l)],
       t.at, t.at + interval '15 minutes',
       CASE WHEN g % 5 = 0 THEN t.at + interval '15 minutes' + (g % 900) * interval '1 ms' END,
       CASE WHEN g % 5 = 0 THEN 'window_passed' END,
       t.at + (CASE WHEN g % 5 = 0 THEN 1200 + g % 1800 ELSE 30 + g % 840 END) * interval '1 second',
       l[1 + g % cardinality(l)], CASE WHEN g % 5 = 0 THEN 'B' ELSE 'A' END,
       CASE WHEN g % 3 = 0 THEN 1 + g % 5 END, t.at
FROM generate_series($1::bigint, $2::bigint) g,
     LATERAL (SELECT $5::timestamptz + (g::float8 / $3) * $8::int * interval '1 day' AS at) t,
     (SELECT $4::bigint[] AS c, $6::bigint[] AS l, $7::text[] AS k) a
"""


async def _time_get(session: aiohttp.ClientSession, url: str, token: str) -> tuple[float, Any]:
    t = time.perf_counter()
    async with session.get(url, headers={"Authorization": f"Bearer {token}"}) as resp:
        body = await resp.json()
        if resp.status != 200:
            raise RuntimeError(f"{url}: {resp.status} {body}")
    return (time.perf_counter() - t) * 1000, body


async def run(bench: Bench) -> dict[str, Any]:
    n = int(os.environ.get("FAZHIZHEN_BENCH_METRICS_ROWS", 20_000 if bench.quick else 10_000_000))
    dsn = await bench.fresh_database("metrics")
    settings = Settings(database_url=dsn)  # type: ignore[arg-type]
    conn = await connect(dsn)
    try:
        places = int(os.environ.get("FAZHIZHEN_BENCH_METRICS_COMMUNITIES", 5 if bench.quick else 100))
        city = await seed_city(conn, communities=places)
        span = 30 if bench.quick else 365  # days holding questions (the calls always ask for a year)
        bureau = await conn.fetchval(
            "INSERT INTO accounts (role, username, password_hash) VALUES ('bureau', 'bench-bureau', '!') RETURNING id"
        )
        token = (await _mint_tokens(conn, "bureau", [bureau], "account_id"))[0]
        start = await conn.fetchval("SELECT date_trunc('day', now()) - make_interval(days => $1)", span - 1)
        year_start = await conn.fetchval("SELECT date_trunc('day', now()) - interval '364 days'")
        t = time.perf_counter()
        # bulk load as a DBA would: secondary indexes dropped and rebuilt after, no per-row triggers
        # (replica role); the rollups are then rebuilt from the raw rows by the service's own rebuild
        indexes = await conn.fetch(SECONDARY_INDEXES)
        for ix in indexes:
            await conn.execute(f'DROP INDEX "{ix["indexname"]}"')
        await conn.execute("SET session_replication_role = replica")
        for lo in range(1, n + 1, CHUNK):
            await conn.execute(GENERATE, lo, min(n, lo + CHUNK - 1), n, city.community_ids, start,
                               city.lawyer_ids, list(CATEGORIES), span)  # fmt: skip
        await conn.execute("SET session_replication_role = DEFAULT")
        gen_s = time.perf_counter() - t
        t = time.perf_counter()
        for ix in indexes:
            await conn.execute(ix["indexdef"])
        await conn.execute("VACUUM ANALYZE questions")
        index_s = time.perf_counter() - t
        t = time.perf_counter()
        days = await metrics_svc.rebuild(conn, settings)
        rebuild_s = time.perf_counter() - t
        await conn.execute("VACUUM ANALYZE")
        rollup_rows = await conn.fetchval("SELECT count(*) FROM metrics_rollup")
        first = (year_start + dt.timedelta(hours=12)).date()
        last = first + dt.timedelta(days=364)
    finally:
        await conn.close()

    timings: dict[str, dict[str, float]] = {}
    checks: dict[str, bool] = {}
    async with (
        running_server(dsn, bench.work_dir / "logs", FAZHIZHEN_SCHEDULER_ENABLED="false") as server,
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=600)) as session,
    ):
        for name in ENDPOINTS:
            url = f"{server.base}/api/v1/metrics/{name}?from={first}&to={last}"
            rollup = [await _time_get(session, url, token) for _ in range(7)]
            naive_ms, naive = await _naive(dsn, name, first, last)
            timings[name] = {"rollup_ms": statistics.median(ms for ms, _ in rollup), "naive_ms": naive_ms}
            checks[name] = _same_counts(name, rollup[0][1], naive)
            if bench.quick:  # the service's own exact path; minutes at full scale, so only here
                raw_ms, raw = await _time_get(session, url + "&source=raw", token)
                timings[name]["source_raw_ms"] = raw_ms
                checks[name] = checks[name] and _same_counts(name, rollup[0][1], raw)
        for name in OTHERS:
            url = f"{server.base}/api/v1/metrics/{name}?from={first}&to={last}"
            timings[name] = {
                "rollup_ms": statistics.median([(await _time_get(session, url, token))[0] for _ in range(7)])
            }
    figures = []
    for name, t in timings.items():
        naive = {"anchor": "naive query over the raw table", "anchor_value": t["naive_ms"]} if "naive_ms" in t else {}
        figures.append(fig(f"GET /metrics/{name}, a year city-wide (rollups)", t["rollup_ms"], "ms", **naive,
                           target="< 100 ms", met=t["rollup_ms"] < 100 if not bench.quick else None))  # fmt: skip
    for name, ok in checks.items():
        figures.append(fig(f"/metrics/{name}: rollup counts equal the raw query's", 1.0 if ok else 0.0, "",
                           target="yes", met=ok, must=True))  # fmt: skip
    figures.append(fig("bulk generation of the questions (INSERT … SELECT, secondary indexes dropped)", gen_s, "s"))
    figures.append(fig("secondary indexes rebuilt, VACUUM ANALYZE", index_s, "s"))
    figures.append(fig(f"full rollup rebuild (`metrics.rebuild`: {days:,} community-days, {rollup_rows:,} rows)",
                       rebuild_s, "s"))  # fmt: skip
    notes = []
    if n < 10_000_000 and not bench.quick:
        notes.append(
            f"10,000,000 rows: not measured in this run (run at {n:,} rows, "
            "`FAZHIZHEN_BENCH_METRICS_ROWS`). The rollup reads depend on the days and places in range, "
            "not on the row count; the naive anchor and the rebuild grow with the rows."
        )
    return {
        "title": f"4. Metrics over {n:,} questions",
        "notes": notes,
        "how": f"{n:,} answered questions over the last {span} days in {len(city.community_ids)} communities "
        "(a fifth escalated, a third rated), inserted with `INSERT … SELECT generate_series` in "
        f"{CHUNK:,}-row statements (secondary indexes dropped, rebuilt after), rollups rebuilt with the "
        "service's own `metrics.rebuild` (one set-based pass per level). Each call is the whole year, "
        "city-wide, through HTTP: median of 7 from the rollups. The anchor is the naive aggregate straight "
        "over `questions` (one SQL statement per call, no HTTP, exact percentiles for the summary).",
        "figures": figures,
        "raw": {"timings": timings, "generate_s": gen_s, "index_s": index_s, "rebuild_s": rebuild_s},
    }


async def _naive(dsn: str, name: str, first: dt.date, last: dt.date) -> tuple[float, Any]:
    """The naive query for `name` over the raw table: (ms, rows shaped like the API's answer)."""
    conn = await connect(dsn)
    try:
        lo = await conn.fetchval("SELECT ($1::date)::timestamp AT TIME ZONE 'Asia/Shanghai'", first)
        hi = await conn.fetchval("SELECT ($1::date + 1)::timestamp AT TIME ZONE 'Asia/Shanghai'", last)
        args = (lo, hi, "Asia/Shanghai") if name == "daily" else (lo, hi)
        t = time.perf_counter()
        rows = await conn.fetch(NAIVE[name], *args)
        ms = (time.perf_counter() - t) * 1000
    finally:
        await conn.close()
    out = [dict(r) for r in rows]
    for r in out:
        if "date" in r:
            r["date"] = r["date"].isoformat()
    return ms, out[0] if name == "summary" else out


def _same_counts(name: str, rollup: Any, raw: Any) -> bool:
    """The integer counts agree between the two sources (percentiles differ by design: histogram vs exact)."""
    if name == "summary":
        keys = ("questions", "answered", "escalated", "adopted")
        return all(rollup.get(k) == raw.get(k) for k in keys)
    if name == "categories":
        return {r["category"]: r["count"] for r in rollup} == {r["category"]: r["count"] for r in raw}
    if name == "levels/breakdown":  # `raw` is the naive query's rows or the API's answer (source=raw)
        rows = raw["rows"] if isinstance(raw, dict) else raw

        def split(r: dict[str, Any]) -> tuple[Any, ...]:
            lv = r.get("levels") or {"A": r["a"], "B": r["b"]}
            return r["district_id"], r["questions"], lv["A"], lv["B"]

        return [split(r) for r in rollup["rows"]] == [split(r) for r in rows]
    # the API lists every day of the range; the naive GROUP BY only days that had questions
    return [(r["date"], r["questions"], r["answered"]) for r in rollup if r["questions"]] == [
        (r["date"], r["questions"], r["answered"]) for r in raw if r["questions"]
    ]


if __name__ == "__main__":
    script_main("metrics", run)
