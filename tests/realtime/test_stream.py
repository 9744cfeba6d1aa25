"""The lawyer and bureau SSE streams: who gets which event, replay after Last-Event-ID, limits."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from fazhizhen.app import create_app
from fazhizhen.keys import DB_POOL
from fazhizhen.realtime.hub import Hub
from fazhizhen.services import escalation, reminders
from fazhizhen.settings import Settings
from tests.conftest import make_settings
from tests.factories import Api
from tests.realtime.conftest import Opener, pool_city
from tests.realtime.sse import SSE


async def test_assigned_reaches_only_the_assignee(api: Api, open_stream: Opener) -> None:
    city = await api.city()
    lawyer, other = await api.lawyer(), await api.lawyer()
    await api.duty(city.community_id, lawyer)
    resident = await api.resident()
    async with open_stream(lawyer) as mine, open_stream(other) as theirs:
        q = await api.ask(resident, city.community_id)
        ev = await mine.next()
        assert ev is not None and ev.event == "assigned"
        assert ev.data["question_id"] == q["id"] and ev.data["lawyer_id"] == lawyer.id
        await theirs.quiet()


async def test_escalation_claim_and_alert_reach_everyone_concerned(
    api: Api,
    client: TestClient,
    settings: Settings,
    open_stream: Opener,  # type: ignore[type-arg]
) -> None:
    city, duty, (a, b), pool_id = await pool_city(api)
    bureau = await api.bureau()
    resident = await api.resident()
    pool = client.app[DB_POOL]
    async with (
        open_stream(duty) as s_duty,
        open_stream(a) as s_a,
        open_stream(b) as s_b,
        open_stream(bureau, "/bureau/stream") as s_bureau,
    ):
        q = await api.ask(resident, city.community_id)
        (ev,) = await s_duty.take(1)
        assert ev.event == "assigned"
        due = q["escalate_at"]
        await escalation.sweep(pool, settings, now=datetime.fromisoformat(due) + timedelta(seconds=1))
        (ev,) = await s_duty.take(1)
        assert (ev.event, ev.data["question_id"], ev.data["pool_id"]) == ("escalated", q["id"], pool_id)
        for s in (s_a, s_b):
            (ev,) = await s.take(1)
            assert (ev.event, ev.data["question_id"]) == ("pool_new", q["id"])
        (ev,) = await s_bureau.take(1)
        assert (ev.event, ev.data["question_id"]) == ("escalated", q["id"])

        await api.ok("POST", f"/questions/{q['id']}/claim", a)
        (ev,) = await s_b.take(1)
        assert (ev.event, ev.data["question_id"], ev.data["lawyer_id"]) == ("pool_claimed", q["id"], a.id)
        await s_a.quiet(0.2)  # the claimer is not told about their own claim

        got = await api.ok("GET", f"/questions/{q['id']}", a)
        await escalation.sweep(
            pool, settings, now=datetime.fromisoformat(got["alert_at"]) + timedelta(seconds=1)
        )
        (ev,) = await s_bureau.take(1)
        assert (ev.event, ev.data["question_id"], ev.data["pool_id"]) == ("alerted", q["id"], pool_id)
        await s_duty.quiet(0.1)


async def test_reminder_once_per_deadline(
    api: Api,
    client: TestClient,
    settings: Settings,
    open_stream: Opener,  # type: ignore[type-arg]
) -> None:
    city = await api.city()
    lawyer = await api.lawyer()
    await api.duty(city.community_id, lawyer)
    q = await api.ask(await api.resident(), city.community_id)
    due = datetime.fromisoformat(q["escalate_at"])
    pool = client.app[DB_POOL]
    async with open_stream(lawyer) as s:
        await s.take(1)  # assigned
        early = await reminders.remind(
            pool, settings, now=due - timedelta(seconds=settings.remind_before_seconds + 5)
        )
        assert early == []
        first = await reminders.remind(pool, settings, now=due - timedelta(seconds=100))
        again = await reminders.remind(pool, settings, now=due - timedelta(seconds=50))
        assert [r["question_id"] for r in first] == [q["id"]] and again == []
        (ev,) = await s.take(1)
        assert ev.event == "reminder" and ev.data["question_id"] == q["id"]
        assert datetime.fromisoformat(ev.data["due_at"]) == due
        await s.quiet(0.2)
        late = await reminders.remind(pool, settings, now=due + timedelta(seconds=1))
        assert late == []


async def test_no_reminder_when_the_window_is_shorter_than_the_lead(db_dsn: str) -> None:
    settings = make_settings(db_dsn, escalate_after_seconds=60, remind_before_seconds=300)
    async with TestClient(TestServer(create_app(settings))) as c:
        api = Api(c, settings)
        city = await api.city()
        await api.duty(city.community_id, await api.lawyer())
        q = await api.ask(await api.resident(), city.community_id)
        due = datetime.fromisoformat(q["escalate_at"])
        assert await reminders.remind(c.app[DB_POOL], settings, now=due - timedelta(seconds=30)) == []


async def test_last_event_id_replays_exactly_what_was_missed(api: Api, open_stream: Opener) -> None:
    city = await api.city()
    lawyer = await api.lawyer()
    await api.duty(city.community_id, lawyer)
    resident = await api.resident()
    async with open_stream(lawyer) as s:
        await api.ask(resident, city.community_id)
        (first,) = await s.take(1)
    missed = [await api.ask(resident, city.community_id) for _ in range(3)]
    other_city = await api.city()
    await api.duty(other_city.community_id, await api.lawyer())
    await api.ask(resident, other_city.community_id)  # someone else's: never replayed to us
    await asyncio.sleep(0.1)
    async with open_stream(lawyer, last_event_id=first.id) as s:
        got = await s.take(3)
        assert [e.data["question_id"] for e in got] == [q["id"] for q in missed]
        assert [e.id for e in got] == sorted(e.id for e in got) and got[0].id > first.id
        live = await api.ask(resident, city.community_id)
        (ev,) = await s.take(1)
        assert ev.data["question_id"] == live["id"] and ev.id > got[-1].id
        await s.quiet(0.2)


async def test_stream_needs_the_authorization_header(api: Api, client: TestClient) -> None:  # type: ignore[type-arg]
    lawyer = await api.lawyer()
    resident = await api.resident()
    async with client.get(f"/api/v1/lawyer/stream?token={lawyer.token}") as resp:
        assert resp.status == 401
    async with client.get("/api/v1/lawyer/stream", headers=resident.headers) as resp:
        assert resp.status == 403
    async with client.get("/api/v1/bureau/stream", headers=lawyer.headers) as resp:
        assert resp.status == 403


async def test_heartbeats_keep_idle_streams_alive(db_dsn: str, api: Api) -> None:
    lawyer = await api.lawyer()
    app = create_app(make_settings(db_dsn, stream_heartbeat_seconds=0.05))
    async with (
        TestClient(TestServer(app)) as c,
        c.get("/api/v1/lawyer/stream", headers=lawyer.headers) as resp,
    ):
        sse = SSE(resp)
        await sse.quiet(0.3)
        assert sse.comments.count("ping") >= 3


def test_hub_never_waits_for_a_slow_client() -> None:
    hub = Hub(pool=None, client_buffer=2)  # type: ignore[arg-type]
    slow, fast = hub.register(7), hub.register(7)
    for seq in (1, 2, 3):
        hub.dispatch({"seq": seq, "event": "assigned", "lawyer_ids": [7], "bureau": False, "data": {}})
        fast.queue.get_nowait()  # the fast one keeps up
    assert slow.closed_reason == "overflow" and fast.closed_reason is None
    assert [slow.queue.get_nowait()["seq"] for _ in range(2)] == [1, 2]
    assert slow.queue.get_nowait() is None  # end of stream; nothing after it
    assert hub.head == 3


def test_hub_hands_each_row_to_its_addressees_only_encoded_once() -> None:
    hub = Hub(pool=None, client_buffer=10)  # type: ignore[arg-type]
    a1, a2, b, bureau = hub.register(7), hub.register(7), hub.register(8), hub.register(None)
    hub.dispatch({"seq": 1, "event": "pool_new", "lawyer_ids": [7, 9], "bureau": False, "data": {"q": "问"}})
    hub.dispatch({"seq": 2, "event": "alerted", "lawyer_ids": [], "bureau": True, "data": {}})
    first, second = a1.queue.get_nowait(), a2.queue.get_nowait()
    assert first["frame"] is second["frame"]  # the same bytes for every addressee
    assert first["frame"] == 'id: 1\nevent: pool_new\ndata: {"q": "问"}\n\n'.encode()
    assert b.queue.empty() and a1.queue.empty()
    assert bureau.queue.get_nowait()["seq"] == 2 and bureau.queue.empty()
    for client in (a1, a2, b, bureau):
        hub.unregister(client)
    hub.dispatch({"seq": 3, "event": "assigned", "lawyer_ids": [7], "bureau": False, "data": {}})
    assert not hub.clients and all(c.queue.empty() for c in (a1, a2, b, bureau))


async def test_a_client_cut_off_for_falling_behind_catches_up_by_replay(db_dsn: str, api: Api) -> None:
    city, _duty, (a,), _ = await pool_city(api, members=1)
    resident = await api.resident()
    qs = [await api.ask(resident, city.community_id) for _ in range(3)]
    settings = make_settings(db_dsn, stream_client_buffer=1, stream_poll_seconds=0.02)
    app = create_app(settings)
    async with TestClient(TestServer(app)) as c:
        async with c.get("/api/v1/lawyer/stream", headers=a.headers) as resp:
            sse = SSE(resp)
            await resp.content.readline()
            later = datetime.fromisoformat(qs[-1]["escalate_at"]) + timedelta(seconds=1)
            await escalation.sweep(app[DB_POOL], settings, now=later)  # three pool_new in one batch
            first = await sse.next()
            assert first is not None and first.event == "pool_new"
            assert await sse.next() is None  # cut off: its buffer of one overflowed
        async with c.get(
            "/api/v1/lawyer/stream", headers=a.headers | {"Last-Event-ID": str(first.id)}
        ) as resp:
            rest = await SSE(resp).take(2)
    assert sorted([first.data["question_id"]] + [e.data["question_id"] for e in rest]) == [
        q["id"] for q in qs
    ]


async def test_shutdown_ends_open_streams_promptly(db_dsn: str, api: Api) -> None:
    lawyer = await api.lawyer()
    app = create_app(make_settings(db_dsn, stream_poll_seconds=0.02))
    client = TestClient(TestServer(app))
    await client.start_server()
    try:
        async with client.get("/api/v1/lawyer/stream", headers=lawyer.headers) as resp:
            sse = SSE(resp)
            await resp.content.readline()
            closing = asyncio.create_task(client.server.close())
            assert await sse.next(timeout=2) is None
        await asyncio.wait_for(closing, 5)
    finally:
        await client.close()


async def test_listener_backs_off_while_the_database_is_unreachable(monkeypatch: pytest.MonkeyPatch) -> None:
    from fazhizhen.realtime import listener as listener_mod

    attempts = 0
    real_connect = listener_mod.asyncpg.connect

    async def counting_connect(*args: Any, **kwargs: Any) -> Any:
        nonlocal attempts
        attempts += 1
        return await real_connect(*args, **kwargs)

    monkeypatch.setattr(listener_mod.asyncpg, "connect", counting_connect)
    hub = Hub(pool=None, client_buffer=1)  # type: ignore[arg-type]
    lost = listener_mod.Listener("postgresql://nobody@127.0.0.1:1/none", hub)
    lost.published(hub.head + 1)  # a wake-up pending when the connection went away
    lost.start()
    await asyncio.sleep(0.5)
    await lost.stop()
    assert 1 <= attempts <= 4, attempts  # back-off from 0.1 s, not a busy loop
