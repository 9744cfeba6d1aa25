"""Residents' questions written in batches (group commit): fewer statements under load, and each asker
still gets exactly the answer a question written alone would get."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import asyncpg

from fazhizhen.keys import DB_POOL, INTAKE
from fazhizhen.observability import REGISTRY
from fazhizhen.services import questions as svc
from fazhizhen.services.auth import Principal
from tests.factories import Api, User


async def test_questions_asked_at_once_share_statements_and_all_land(
    statements: list[str], make_api: Callable[..., Awaitable[Api]], db_dsn: str
) -> None:
    api = await make_api(realtime_enabled=False)
    city = await api.city()
    lawyers = [await api.lawyer() for _ in range(3)]
    for lawyer in lawyers:
        await api.duty(city.community_id, lawyer)
    residents = [await api.resident() for _ in range(24)]
    statements.clear()
    batches_before, batched_before = _batch_samples()

    asked = await asyncio.gather(*(api.ask(r, city.community_id) for r in residents))

    inserts = [s for s in statements if "INSERT INTO questions" in s]
    reads = [s for s in statements if "FROM live_tokens" in s and "INSERT" not in s]
    assert 1 <= len(inserts) < len(residents), len(inserts)
    assert len(reads) == len(inserts), statements  # each batch's read checks its askers' tokens too
    batches, batched = _batch_samples()
    assert batched - batched_before == 24 and batches - batches_before == len(inserts)  # /metrics tells ops
    conn = await asyncpg.connect(db_dsn)
    try:
        rows = await conn.fetch(
            "SELECT q.resident_id, q.assigned_lawyer_id, array_agg(e.kind ORDER BY e.id) AS kinds"
            " FROM questions q JOIN question_events e ON e.question_id = q.id GROUP BY q.id ORDER BY q.id"
        )
    finally:
        await conn.close()
    assert sorted(r["resident_id"] for r in rows) == sorted(r.id for r in residents)
    assert {q["id"] for q in asked} == {q["id"] for q in await _ids(db_dsn)}
    assert all(r["kinds"] == ["created", "routed"] for r in rows)
    # a lawyer given a question in a batch counts it for the next one, so the three share the load
    # (two batches written at the same moment can each give one to the same lawyer: off by one or two)
    loads = sorted(sum(r["assigned_lawyer_id"] == lw.id for r in rows) for lw in lawyers)
    assert sum(loads) == 24 and loads[-1] - loads[0] <= 2, loads


def _batch_samples() -> tuple[float, float]:
    """How many intake batches this process wrote, and how many questions they carried."""
    labels = {"batcher": "intake"}
    count = REGISTRY.get_sample_value("fazhizhen_batch_size_count", labels) or 0.0
    return count, REGISTRY.get_sample_value("fazhizhen_batch_size_sum", labels) or 0.0


async def _ids(dsn: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(dsn)
    try:
        return list(await conn.fetch("SELECT id FROM questions"))
    finally:
        await conn.close()


async def test_a_resident_asking_several_at_once_is_counted_against_each_limit(
    make_api: Callable[..., Awaitable[Api]],
) -> None:
    """One resident's questions never share a statement, so each is counted under the lock after the
    one before it committed: with one open question allowed, a burst of five lands exactly one."""
    api = await make_api(realtime_enabled=False, max_open_questions=1)
    city = await api.city()
    await api.duty(city.community_id, await api.lawyer())
    resident = await api.resident()
    others = [await api.resident() for _ in range(3)]
    body = {"community_id": city.community_id, "content": "邻居家漏水到我家怎么办？", "category": "neighbor"}

    burst = await asyncio.gather(
        *(api.call("POST", "/questions", resident, body) for _ in range(5)),
        *(api.call("POST", "/questions", other, body) for other in others),
    )

    mine = [status for status, _ in burst[:5]]
    assert sorted(mine) == [201, 429, 429, 429, 429], burst
    assert all(body["error"]["code"] == "rate_limited" for status, body in burst[:5] if status == 429)
    assert [status for status, _ in burst[5:]] == [201, 201, 201]


async def test_a_batch_refused_whole_is_retried_one_question_at_a_time(
    make_api: Callable[..., Awaitable[Api]],
) -> None:
    """A question the database refuses (here: an asker whose row is gone) fails alone; the questions
    that shared its batch are written."""
    api = await make_api(realtime_enabled=False)
    city = await api.city()
    await api.duty(city.community_id, await api.lawyer())
    residents = [await api.resident() for _ in range(4)]
    intake = api.client.app[INTAKE]

    def ask(resident_id: int) -> Awaitable[dict[str, object]]:
        return intake.submit(
            Principal("resident", resident_id), community_id=city.community_id,
            content="物业乱收停车费合法吗？", category="property",
        )  # fmt: skip

    ghost = 10**12
    asks = [ask(r.id) for r in residents[:2]] + [ask(ghost)] + [ask(r.id) for r in residents[2:]]
    outcomes = await asyncio.gather(*asks, return_exceptions=True)

    assert isinstance(outcomes[2], asyncpg.ForeignKeyViolationError), outcomes[2]
    written = [o for i, o in enumerate(outcomes) if i != 2]
    assert all(isinstance(o, dict) and o["status"] == "pending" for o in written), outcomes
    async with api.client.app[DB_POOL].acquire() as conn:
        stored = await conn.fetchval("SELECT count(*) FROM questions")
    assert stored == 4


async def test_unknown_community_in_a_batch_fails_only_its_own_question(
    make_api: Callable[..., Awaitable[Api]],
) -> None:
    api = await make_api(realtime_enabled=False)
    city = await api.city()
    await api.duty(city.community_id, await api.lawyer())
    residents = [await api.resident() for _ in range(3)]
    body = {"content": "离婚后孩子抚养权怎么判？", "category": "marriage_family"}

    results = await asyncio.gather(
        api.call("POST", "/questions", residents[0], {**body, "community_id": city.community_id}),
        api.call("POST", "/questions", residents[1], {**body, "community_id": 10**9}),
        api.call("POST", "/questions", residents[2], {**body, "community_id": city.community_id}),
    )

    assert [status for status, _ in results] == [201, 422, 201], results
    assert results[1][1]["error"]["details"][0]["field"] == "community_id"


async def test_write_questions_routes_a_whole_batch_in_two_round_trips(
    statements: list[str], make_api: Callable[..., Awaitable[Api]]
) -> None:
    api = await make_api(realtime_enabled=False)
    city, empty = await api.city(), await api.city()
    await api.pool([await api.lawyer()], None)
    on_duty = await api.lawyer()
    await api.duty(city.community_id, on_duty)
    residents = [await api.resident() for _ in range(3)]
    items = [
        svc.NewQuestion(Principal("resident", r.id), community, "楼上噪音扰民怎么处理？", "neighbor", "resident", None)
        for r, community in zip(residents, (city.community_id, empty.community_id, city.community_id), strict=True)
    ]
    async with api.client.app[DB_POOL].acquire() as conn:
        await svc.write_questions(conn, api.settings, items[1:2])  # first use: type introspection
        await asyncio.sleep(0)  # query loggers are called soon after, not during, the call
        statements.clear()
        outcomes = await svc.write_questions(conn, api.settings, items)
        await asyncio.sleep(0)

    assert len(statements) == 2, [s[:80] for s in statements]
    questions = [o[0] for o in outcomes]  # type: ignore[index]
    assert [q["status"] for q in questions] == ["pending", "escalated", "pending"]
    assert questions[1]["escalation_reason"] == "no_lawyer_on_duty"
    assert questions[0]["created_at"] == questions[2]["created_at"]


async def test_asking_checks_the_token_in_the_batch_read_with_the_usual_precedence(api: Api) -> None:
    """POST /questions checks its token in the submission read, not in a look-up of its own; callers
    still get 401 before 403 before any complaint about the body, as on every other endpoint."""
    city = await api.city()
    await api.duty(city.community_id, await api.lawyer())
    resident, lawyer = await api.resident(), await api.lawyer()
    good = {"community_id": city.community_id, "content": "邻居占用公共楼道怎么办？", "category": "neighbor"}
    bad = {"community_id": city.community_id, "content": "短"}
    stranger = User("not-a-token-anyone-was-given", 0, "resident")
    gone = await api.resident()
    await api.ok("POST", "/auth/logout", gone)

    cases = [
        (None, good, 401), (stranger, good, 401), (gone, good, 401), (lawyer, good, 403),
        (None, bad, 401), (stranger, bad, 401), (gone, bad, 401), (lawyer, bad, 403),
        (resident, bad, 422),
    ]  # fmt: skip
    for user, body, status in cases:
        code, answer = await api.call("POST", "/questions", user, body)
        assert code == status, (user, body, code, answer)
    code, answer = await api.call("POST", "/questions", resident, good)
    assert code == 201, answer
    assert [q["id"] for q in await api.ok("GET", "/questions", resident)] == [answer["id"]]


async def test_a_repeat_asker_waits_for_a_later_statement_and_a_refused_one_is_split_without_repeats(
    make_api: Callable[..., Awaitable[Api]],
) -> None:
    """A resident asking twice in one batch gets a second statement (counted after the first
    committed); when a statement is refused as a whole, only its own questions are retried one by one,
    never those of a statement that already committed."""
    api = await make_api(realtime_enabled=False)
    city = await api.city()
    await api.duty(city.community_id, await api.lawyer())
    a, b = await api.resident(), await api.resident()
    ghost = 10**12

    def item(resident_id: int) -> svc.NewQuestion:
        return svc.NewQuestion(Principal("resident", resident_id), city.community_id, "租房押金不退怎么办？",
                               "housing", "resident", None)  # fmt: skip

    async with api.client.app[DB_POOL].acquire() as conn:
        outcomes = await svc.write_questions(conn, api.settings, [item(a.id), item(b.id), item(a.id),
                                                                  item(ghost), item(ghost)])  # fmt: skip
        stored = await conn.fetch("SELECT resident_id FROM questions ORDER BY id")

    assert [type(o).__name__ for o in outcomes] == ["tuple", "tuple", "tuple", "ForeignKeyViolationError",
                                                    "ForeignKeyViolationError"]  # fmt: skip
    assert sorted(r["resident_id"] for r in stored) == sorted([a.id, a.id, b.id])
    assert outcomes[0][0]["id"] < outcomes[2][0]["id"]  # type: ignore[index]
