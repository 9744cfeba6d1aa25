"""`demo --scale city` at a reduced scale: the shape of the city, the category mix, the response times."""

from __future__ import annotations

from fazhizhen.db.pool import connect
from fazhizhen.services.demo_city import DISTRICTS, load_city
from tests.conftest import make_settings


async def test_city_demo_builds_a_realistic_year_once(db_dsn: str) -> None:
    settings = make_settings(db_dsn)
    conn = await connect(db_dsn)
    try:
        summary = await load_city(conn, settings, scale=0.02)
        assert "city demo loaded" in summary
        assert await conn.fetchval("SELECT count(*) FROM districts") == len(DISTRICTS) == 13
        lawyers = await conn.fetchval("SELECT count(*) FROM lawyers")
        communities = await conn.fetchval("SELECT count(*) FROM communities")
        assert lawyers > communities >= 26
        # every community has a weekday lawyer and an always-on backup; pools serve 11 of 13 districts
        uncovered = await conn.fetchval(
            "SELECT count(*) FROM communities c WHERE NOT EXISTS "
            "(SELECT 1 FROM duty_slots d WHERE d.community_id = c.id AND d.weekday IS NULL)"
        )
        assert uncovered == 0
        assert await conn.fetchval("SELECT count(*) FROM pools WHERE district_id IS NOT NULL") == 11
        n = await conn.fetchval("SELECT count(*) FROM questions")
        assert n > 400
        top = await conn.fetch("SELECT category FROM questions GROUP BY 1 ORDER BY count(*) DESC LIMIT 3")
        assert {r["category"] for r in top} == {"neighbor", "property", "marriage_family"}
        avg_min = await conn.fetchval(
            "SELECT avg(extract(epoch FROM first_answered_at - created_at)) / 60 FROM questions"
        )
        assert 5.5 < avg_min < 7.7
        levels = {r["resolved_level"]: r["n"] for r in await conn.fetch(
            "SELECT resolved_level, count(*) AS n FROM questions GROUP BY 1")}  # fmt: skip
        assert set(levels) <= {"A", "B", "C", "D"} and levels["A"] > 0.8 * n and levels.get("B", 0) > 0
        # foreign keys were not checked during the COPY (replica role): re-adding each one re-checks
        # every row, and fails on an orphan
        fks = await conn.fetch(
            """SELECT conrelid::regclass::text AS child, conname, pg_get_constraintdef(oid) AS def
               FROM pg_constraint WHERE contype = 'f' AND connamespace = 'public'::regnamespace
                 AND conrelid::regclass::text IN ('questions', 'messages', 'question_events', 'ratings',
                                                  'callbacks', 'duty_slots', 'pool_members', 'lawyers')"""
        )
        assert len(fks) >= 10
        async with conn.transaction():
            for fk in fks:
                await conn.execute(
                    f'ALTER TABLE {fk["child"]} DROP CONSTRAINT "{fk["conname"]}", '
                    f'ADD CONSTRAINT "{fk["conname"]}" {fk["def"]}'
                )
        # the bureau's figures come from the rollups, rebuilt after the COPY
        assert await conn.fetchval("SELECT count(*) FROM metrics_rollup") > 0
        assert await load_city(conn, settings, scale=0.02) == "city demo data already loaded"
    finally:
        await conn.close()
