"""The rollups answer exactly what the raw tables answer: on randomised data, after random changes,
with writers and two rollup refreshers racing, and for a change still uncommitted while a refresh runs."""

from __future__ import annotations

import asyncio
import dataclasses
import random
import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import asyncpg
import pytest

from fazhizhen.db.dsn import with_database
from fazhizhen.db.pool import connect
from fazhizhen.models.levels import LevelsBreakdownQuery
from fazhizhen.services import demo, metrics
from fazhizhen.settings import Settings
from tests.conftest import TEMPLATE, make_settings

DEMO = "fzz_demo_metrics"

READERS = [
    metrics.summary,
    metrics.levels,
    metrics.categories,
    metrics.daily,
    metrics.lawyers,
    metrics.places,
]


@pytest.fixture
def settings(db_dsn: str) -> Settings:
    return make_settings(db_dsn)


@pytest.fixture(scope="module")
async def demo_template(server_dsn: str, template_dsn: str) -> str:
    """A database holding ~70 days (three calendar months) of demo questions, loaded once per module."""
    admin = await asyncpg.connect(server_dsn)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{DEMO}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{DEMO}" TEMPLATE "{TEMPLATE}"')
    finally:
        await admin.close()
    conn = await connect(with_database(server_dsn, DEMO))
    try:
        await demo.load_demo(conn, make_settings(with_database(server_dsn, DEMO)), days=70, per_day=3, seed=11)
    finally:
        await conn.close()
    return DEMO


@pytest.fixture
async def db_dsn(server_dsn: str, demo_template: str) -> AsyncIterator[str]:
    """A fresh copy of the demo database (its touch log not yet folded into the rollups)."""
    name = "fzz_" + uuid.uuid4().hex[:12]
    admin = await asyncpg.connect(server_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{demo_template}"')
        yield with_database(server_dsn, name)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
async def db(db_dsn: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await connect(db_dsn)
    try:
        yield conn
    finally:
        await conn.close()


async def _mutate(conn: asyncpg.Connection, rng: random.Random, n: int) -> None:
    """Random changes of the kinds the service makes (and a few it does not: moves between places)."""
    ids = [r["id"] for r in await conn.fetch("SELECT id FROM questions ORDER BY id")]
    communities = [r["id"] for r in await conn.fetch("SELECT id FROM communities")]
    for qid in rng.sample(ids, n):
        kind = rng.randrange(5)
        if kind == 0:  # still unanswered, in the pool
            await conn.execute(
                """UPDATE questions SET status = 'escalated', first_answered_at = NULL,
                   first_answered_by = NULL, resolved_level = NULL, adopted_answer_id = NULL, rating = NULL,
                   closed_at = NULL, first_reply_kind = NULL, first_substantive_at = NULL WHERE id = $1""",
                qid,
            )
        elif kind == 1:
            await conn.execute("UPDATE questions SET rating = $2 WHERE id = $1", qid, rng.choice([None, 1, 2, 3, 4, 5]))
        elif kind == 2:
            await conn.execute(
                "UPDATE questions SET first_reply_kind = 'acknowledgement', "
                "first_substantive_at = first_answered_at + interval '7 minutes' WHERE id = $1",
                qid,
            )
        elif kind == 3:
            await conn.execute("UPDATE questions SET community_id = $2 WHERE id = $1", qid, rng.choice(communities))
        else:
            await conn.execute(
                "UPDATE questions SET created_at = created_at - make_interval(days => $2), category = $3 WHERE id = $1",
                qid,
                rng.randrange(1, 40),
                rng.choice(["neighbor", "labor", "other"]),
            )


async def _filters(conn: asyncpg.Connection, settings: Settings, rng: random.Random) -> list[metrics.Filters]:
    place = await conn.fetchrow(
        "SELECT c.id AS community_id, c.street_id, s.district_id FROM communities c "
        "JOIN streets s ON s.id = c.street_id ORDER BY c.id LIMIT 1 OFFSET $1",
        rng.randrange(4),
    )
    today: date = await conn.fetchval("SELECT (now() AT TIME ZONE 'Asia/Shanghai')::date")
    month_start = (today - timedelta(days=40)).replace(day=1)
    ranges = [
        (today - timedelta(days=120), today),  # whole months and ragged edges
        (month_start, month_start + timedelta(days=45)),
        (today - timedelta(days=3), today - timedelta(days=3)),
    ]
    places: list[dict[str, Any]] = [
        {},
        {"district_id": place["district_id"]},
        {"district_id": place["district_id"], "street_id": place["street_id"]},
        {"community_id": place["community_id"]},
    ]
    combos = [(r, w, c) for r in ranges for w in places for c in (None, "neighbor")]
    return [
        await metrics.resolve(conn, settings, date_from=r[0], date_to=r[1], category=c, **w)
        for r, w, c in rng.sample(combos, 8)
    ]


async def _assert_rollups_match_raw(conn: asyncpg.Connection, settings: Settings, rng: random.Random) -> None:
    for f in await _filters(conn, settings, rng):
        raw = dataclasses.replace(f, raw=True)
        for reader in READERS:
            fast, exact = await reader(conn, settings, f), await reader(conn, settings, raw)
            assert fast == exact, (reader.__name__, f)


async def test_routed_lawyer_is_recorded_for_rows_written_already_answered(db: asyncpg.Connection) -> None:
    """The demo writes answered questions and then their `routed` events: the event trigger must fill
    routed_lawyer_id (the scorecards' `assigned`) from the event, and touch nothing already set."""
    mismatched = await db.fetchval(
        """SELECT count(*) FROM question_events e JOIN questions q ON q.id = e.question_id
           WHERE e.kind = 'routed' AND q.routed_lawyer_id IS DISTINCT FROM (e.data ->> 'lawyer_id')::bigint"""
    )
    routed = await db.fetchval("SELECT count(*) FROM question_events WHERE kind = 'routed'")
    assert routed > 100 and mismatched == 0
    qid, lawyer = await db.fetchrow(
        "SELECT question_id, (data ->> 'lawyer_id')::bigint FROM question_events WHERE kind = 'routed' LIMIT 1"
    )
    other = await db.fetchval("SELECT id FROM lawyers WHERE id <> $1 LIMIT 1", lawyer)
    await db.execute(
        "INSERT INTO question_events (question_id, kind, actor_role, data) VALUES ($1, 'routed', 'system', $2)",
        qid,
        {"lawyer_id": other},
    )
    assert await db.fetchval("SELECT routed_lawyer_id FROM questions WHERE id = $1", qid) == lawyer


async def test_rollups_equal_raw_on_random_data(db: asyncpg.Connection, settings: Settings) -> None:
    rng = random.Random(5)
    assert await db.fetchval("SELECT count(*) FROM metrics_touched") > 0  # the demo's inserts were logged
    await metrics.refresh_all(db, settings)
    await _assert_rollups_match_raw(db, settings, rng)
    await _mutate(db, rng, 120)
    await _assert_rollups_match_raw(db, settings, rng)  # every read folds pending touches in first


async def test_levels_breakdown_from_rollups_equals_raw(db: asyncpg.Connection, settings: Settings) -> None:
    """/metrics/levels/breakdown reads the rollups: the same answer as the raw tables, at every `by`
    and with filters above, at and below it (a filter below `by` reads the filter's place)."""
    await _mutate(db, random.Random(3), 40)
    place = await db.fetchrow(
        "SELECT c.id AS community_id, c.street_id, s.district_id FROM communities c "
        "JOIN streets s ON s.id = c.street_id ORDER BY c.id LIMIT 1"
    )
    today: date = await db.fetchval("SELECT (now() AT TIME ZONE 'Asia/Shanghai')::date")
    checked = 0
    for by in ("district", "street", "community"):
        for where in ({}, {"district_id": place["district_id"]}, {"community_id": place["community_id"]}):
            for extra in ({"from": str(today - timedelta(days=100)), "to": str(today)}, {"category": "neighbor"}):
                q = LevelsBreakdownQuery.model_validate({"by": by, **where, **extra})
                fast = await metrics.levels_breakdown(db, settings, q)
                exact = await metrics.levels_breakdown(db, settings, q.model_copy(update={"source": "raw"}))
                assert fast == exact, (by, where, extra)
                checked += fast["total"]["questions"]
    assert checked > 0


async def test_rebuild_reproduces_the_incremental_rollups(db: asyncpg.Connection, settings: Settings) -> None:
    await _mutate(db, random.Random(8), 60)
    await metrics.refresh_all(db, settings)
    incremental = await db.fetch("SELECT * FROM metrics_rollup ORDER BY 1, 2, 3, 4, 5")
    lawyers = await db.fetch("SELECT * FROM metrics_lawyer_rollup ORDER BY 1, 2, 3, 4, 5")
    assert await metrics.rebuild(db, settings) > 0
    assert await db.fetch("SELECT * FROM metrics_rollup ORDER BY 1, 2, 3, 4, 5") == incremental
    assert await db.fetch("SELECT * FROM metrics_lawyer_rollup ORDER BY 1, 2, 3, 4, 5") == lawyers


async def test_racing_writers_and_refreshers(db: asyncpg.Connection, db_dsn: str, settings: Settings) -> None:
    """Writers on three connections and refreshers on two (two server processes) lose nothing."""
    await metrics.refresh_all(db, settings)
    conns = [await connect(db_dsn) for _ in range(5)]
    try:

        async def writer(conn: asyncpg.Connection, seed: int) -> None:
            rng = random.Random(seed)
            for _ in range(15):
                async with conn.transaction():
                    await _mutate(conn, rng, 2)
                    await asyncio.sleep(0)

        async def refresher(conn: asyncpg.Connection) -> None:
            for _ in range(25):
                await metrics.refresh(conn, settings)
                await asyncio.sleep(0.005)

        await asyncio.gather(*(writer(c, i) for i, c in enumerate(conns[:3])), *(refresher(c) for c in conns[3:]))
    finally:
        for c in conns:
            await c.close()
    await metrics.refresh(db, settings, wait=True)
    await _assert_rollups_match_raw(db, settings, random.Random(2))


async def test_a_change_committed_after_a_refresh_began_is_not_lost(
    db: asyncpg.Connection, db_dsn: str, settings: Settings
) -> None:
    await metrics.refresh_all(db, settings)
    writer = await connect(db_dsn)
    try:
        tx = writer.transaction()
        await tx.start()
        qid = await writer.fetchval("SELECT id FROM questions ORDER BY id LIMIT 1")
        await writer.execute("UPDATE questions SET rating = 1 WHERE id = $1", qid)
        assert await metrics.refresh(db, settings) == 0  # the uncommitted touch is invisible
        await tx.commit()
    finally:
        await writer.close()
    assert await metrics.refresh(db, settings) > 0
    await _assert_rollups_match_raw(db, settings, random.Random(3))


async def test_histogram_percentiles_stay_within_a_bucket(db: asyncpg.Connection, settings: Settings) -> None:
    """Above EXACT_PERCENTILES_MAX the summary's p50/p90 come from the merged histogram: compare them."""
    today: date = await db.fetchval("SELECT (now() AT TIME ZONE 'Asia/Shanghai')::date")
    f = await metrics.resolve(db, settings, date_from=today - timedelta(days=80), date_to=today)
    rows = await metrics._grouped(db, settings, f, "all")
    bounds = await metrics._bounds(db)
    estimated = metrics.figures(rows[0], bounds, settings)
    exact = await metrics.summary(db, settings, f)
    assert exact["percentiles"] == "exact" and estimated["percentiles"] == "histogram"
    edges = bounds["response"]
    for key in ("p50_response_seconds", "p90_response_seconds"):
        value = exact[key]
        i = max(j for j, b in enumerate(edges) if b <= value)
        width = edges[i + 1] - edges[i]
        assert abs(estimated[key] - value) <= width, (key, estimated[key], value, width)


async def test_concurrent_reads_all_see_pending_changes(db_dsn: str, settings: Settings) -> None:
    """A dashboard fires its calls at once: whichever folds the touch log in, the others wait for it."""
    conns = [await connect(db_dsn) for _ in range(6)]
    try:
        assert await conns[0].fetchval("SELECT count(*) FROM metrics_touched") > 0
        f = await metrics.resolve(
            conns[0], settings, date_from=date.today() - timedelta(days=200), date_to=date.today() + timedelta(days=1)
        )
        raw = await metrics.summary(conns[0], settings, dataclasses.replace(f, raw=True))
        results = await asyncio.gather(*(metrics.summary(c, settings, f) for c in conns))
    finally:
        for c in conns:
            await c.close()
    assert all(r == raw for r in results)


async def test_rollup_command_folds_in_and_rebuilds(db: asyncpg.Connection, db_dsn: str) -> None:
    from tests.api.test_cli import _run

    out = _run(db_dsn, "rollup")
    assert out.returncode == 0 and "community-day(s) recomputed" in out.stdout, out.stderr
    assert await db.fetchval("SELECT count(*) FROM metrics_touched") == 0
    before = await db.fetch("SELECT * FROM metrics_rollup ORDER BY 1, 2, 3, 4, 5")
    assert before
    out = _run(db_dsn, "rollup", "--rebuild")
    assert out.returncode == 0, out.stderr
    assert await db.fetch("SELECT * FROM metrics_rollup ORDER BY 1, 2, 3, 4, 5") == before
