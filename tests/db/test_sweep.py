"""The deadline sweep: on time, exactly once across concurrent sweepers, caught up after downtime."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import asyncpg
import pytest

from fazhizhen.services.escalation import sweep
from tests.factories import Api


async def _pool(api: Api) -> asyncpg.Pool:
    from fazhizhen.keys import DB_POOL

    return api.client.server.app[DB_POOL]  # type: ignore[union-attr]


async def test_escalates_only_after_the_window(api: Api) -> None:
    city = await api.city()
    lawyer, member = await api.lawyer(), await api.lawyer()
    await api.duty(city.community_id, lawyer)
    pool_id = await api.pool([member])
    q = await api.ask(await api.resident(), city.community_id)
    db = await _pool(api)
    due = q["escalate_at"]
    assert (await sweep(db, api.settings)).escalated == []  # window is 900 s: nothing due now

    from datetime import datetime

    deadline = datetime.fromisoformat(due)
    assert (await sweep(db, api.settings, now=deadline - timedelta(milliseconds=1))).escalated == []
    result = await sweep(db, api.settings, now=deadline)
    assert [r["id"] for r in result.escalated] == [q["id"]]

    got = await api.ok("GET", f"/questions/{q['id']}", member)
    assert got["status"] == "escalated" and got["assigned_lawyer_id"] is None and got["pool_id"] == pool_id
    assert got["escalated_at"] == got["escalate_at"]
    # the community lawyer no longer has it, and cannot answer it any more
    queue = await api.ok("GET", "/lawyer/queue", lawyer)
    assert queue["assigned"] == []
    code, _ = await api.call("POST", f"/questions/{q['id']}/answers", lawyer, {"content": "迟到的回答"})
    assert code == 403
    # nothing more happens at level 1 however often the sweep runs
    assert (await sweep(db, api.settings, now=deadline + timedelta(seconds=1))).escalated == []


async def test_district_pool_preferred_over_city_pool(api: Api) -> None:
    city = await api.city()
    other = await api.city()
    lawyer, a, b = await api.lawyer(), await api.lawyer(), await api.lawyer()
    await api.duty(city.community_id, lawyer)
    await api.duty(other.community_id, lawyer)
    city_pool = await api.pool([a])
    district_pool = await api.pool([b], district_id=city.district_id)
    resident = await api.resident()
    q1 = await api.ask(resident, city.community_id)
    q2 = await api.ask(resident, other.community_id)
    from datetime import datetime

    res = await sweep(await _pool(api), api.settings, now=datetime.fromisoformat(q2["escalate_at"]))
    pools = {r["id"]: r["pool_id"] for r in res.escalated}
    assert pools == {q1["id"]: district_pool, q2["id"]: city_pool}


async def _due_questions(api: Api, n: int) -> tuple[asyncpg.Pool, int, list[int]]:
    """`n` pending questions of one duty lawyer, written directly for speed, all due (oldest first)."""
    city = await api.city()
    lawyer, member = await api.lawyer(), await api.lawyer()
    await api.duty(city.community_id, lawyer)
    await api.pool([member])
    db = await _pool(api)
    async with db.acquire() as conn:
        rows = await conn.fetch(
            """INSERT INTO questions (community_id, resident_id, category, content, status, assigned_lawyer_id,
                                      escalate_at)
               SELECT $1, $2, 'neighbor', 'q' || g, 'pending', $3, now() - make_interval(secs => $4 + 1 - g)
               FROM generate_series(1, $4::int) g RETURNING id""",
            city.community_id,
            (await api.resident()).id,
            lawyer.id,
            n,
        )
    return db, lawyer.id, [r["id"] for r in rows]


async def test_concurrent_sweepers_escalate_each_question_once(api: Api, db_dsn: str) -> None:
    db, _, _ = await _due_questions(api, 300)
    pools = [await asyncpg.create_pool(db_dsn, min_size=1, max_size=1) for _ in range(4)]
    try:
        results = await asyncio.gather(*(sweep(p, api.settings, batch=25) for p in pools for _ in range(3)))
    finally:
        for p in pools:
            await p.close()
    moved = [r["id"] for res in results for r in res.escalated]
    assert len(moved) == 300 and len(set(moved)) == 300
    async with db.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM question_events WHERE kind = 'escalated'") == 300
        assert await conn.fetchval("SELECT count(*) FROM questions WHERE status = 'escalated'") == 300


async def test_second_escalation_is_impossible_not_unlikely(api: Api) -> None:
    city = await api.city()
    q = await api.ask(await api.resident(), city.community_id)  # nobody on duty: escalated at once
    assert q["status"] == "escalated" and q["escalation_reason"] == "no_lawyer_on_duty"
    async with (await _pool(api)).acquire() as conn:
        try:
            await conn.execute(
                "INSERT INTO question_events (question_id, kind, level, actor_role) VALUES ($1, 'escalated', 1, 'x')",
                q["id"],
            )
        except asyncpg.UniqueViolationError:
            pass
        else:
            raise AssertionError("a second level-1 event was accepted")
        try:
            await conn.execute("UPDATE question_events SET kind = 'x' WHERE question_id = $1", q["id"])
        except asyncpg.RaiseError:
            pass
        else:
            raise AssertionError("question_events accepted an UPDATE")


async def test_pool_window_alerts_once_claimed_or_not(api: Api) -> None:
    city = await api.city()
    member = await api.lawyer()
    await api.pool([member])
    resident = await api.resident()
    q1 = await api.ask(resident, city.community_id)
    q2 = await api.ask(resident, city.community_id)
    q3 = await api.ask(resident, city.community_id)
    await api.ok("POST", f"/questions/{q2['id']}/claim", member)
    await api.ok("POST", f"/questions/{q3['id']}/claim", member)
    await api.ok("POST", f"/questions/{q3['id']}/answers", member, {"content": "已解答"}, status=201)
    from datetime import datetime

    later = datetime.fromisoformat(q3["alert_at"]) + timedelta(seconds=1)
    db = await _pool(api)
    res = await sweep(db, api.settings, now=later)
    assert sorted(r["id"] for r in res.alerted) == sorted([q1["id"], q2["id"]])
    assert (await sweep(db, api.settings, now=later + timedelta(seconds=5))).alerted == []
    # answered after the alert: resolved at level D
    await api.ok("POST", f"/questions/{q2['id']}/answers", member, {"content": "晚了的解答"}, status=201)
    got = await api.ok("GET", f"/questions/{q2['id']}", resident)
    assert got["resolved_level"] == "D" and got["alerted_at"] is not None


async def test_deadlines_missed_while_down_are_caught_at_start(make_api: object, db_dsn: str) -> None:
    build = make_api
    api = await build(escalate_after_seconds=0.2)  # type: ignore[operator]
    city = await api.city()
    lawyer, member = await api.lawyer(), await api.lawyer()
    await api.duty(city.community_id, lawyer)
    await api.pool([member])
    q = await api.ask(await api.resident(), city.community_id)
    assert q["status"] == "pending"
    await api.client.close()  # "the server is down" while the deadline passes
    # a new server with its scheduler on escalates it in its first sweep
    api2 = await build(scheduler_enabled=True, sweep_interval_seconds=0.1)  # type: ignore[operator]
    bureau = await api2.bureau()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    status = None
    while status != "escalated" and loop.time() < deadline:
        await asyncio.sleep(0.05)
        status = (await api2.ok("GET", f"/questions/{q['id']}", bureau))["status"]
    assert status == "escalated"
    events = await api2.ok("GET", f"/questions/{q['id']}/events", bureau)
    assert [e["kind"] for e in events] == ["created", "routed", "escalated"]


async def test_each_escalation_is_logged_once_per_question_or_in_its_batch_line(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    import logging

    import structlog
    from structlog.testing import capture_logs

    from fazhizhen.services import escalation

    db, lawyer_id, ids = await _due_questions(api, 5)
    monkeypatch.setattr(escalation, "LOG_EACH_UP_TO", 2)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.INFO))
    try:
        with capture_logs() as logs:
            result = await sweep(db, api.settings, batch=3)  # a batch of 3 (one line), then 2 (a line each)
    finally:
        structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    assert sorted(r["id"] for r in result.escalated) == ids
    batched = [e for e in logs if e["event"] == "questions_escalated"]
    single = [e for e in logs if e["event"] == "question_escalated"]
    assert len(batched) == 1 and batched[0]["count"] == 3 and len(batched[0]["question_ids"]) == 3
    assert batched[0]["lateness_seconds_max"] >= batched[0]["lateness_seconds_min"] > 0
    assert len(single) == 2 and all(e["from_lawyer_id"] == lawyer_id for e in single)
    logged = batched[0]["question_ids"] + [e["question_id"] for e in single]
    assert sorted(logged) == ids
