"""Notifications: the outbox written with the state change, delivered once, retried, given up on."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from fazhizhen.app import create_app
from fazhizhen.db.pool import create_pool
from fazhizhen.keys import DB_POOL, REALTIME
from fazhizhen.services import escalation, outbox, webhooks
from fazhizhen.settings import Settings
from tests.conftest import make_settings
from tests.factories import Api, User
from tests.realtime.fakes import Fake, receiver_app, serve, wechat_app

NO_WAIT = {"outbox_backoff_base_seconds": 0, "outbox_backoff_cap_seconds": 0}


@pytest.fixture
async def wechat() -> AsyncIterator[Fake]:
    fake = Fake()
    async with serve(wechat_app(fake), fake):
        yield fake


@pytest.fixture
async def receiver() -> AsyncIterator[Fake]:
    fake = Fake()
    async with serve(receiver_app(fake), fake, "/hook"):
        yield fake


@pytest.fixture
def settings(db_dsn: str, wechat: Fake) -> Settings:
    return make_settings(
        db_dsn,
        wechat_appid="wx-test",
        wechat_secret="s3cret",
        wechat_api_base=wechat.url,
        wechat_template_answered="tmpl-answered",
        wechat_template_followup="tmpl-followup",
        wechat_content_check=False,  # msgSecCheck is tested in tests/api/test_wechat.py
        http_timeout_seconds=2.0,  # short for the scripted time-outs, long enough for a loaded machine
        outbox_max_attempts=3,
        **NO_WAIT,
    )


async def deliver(client: TestClient) -> outbox.DeliveryResult:  # type: ignore[type-arg]
    rt = client.app[REALTIME]
    return await outbox.deliver_due(rt.pool, rt.senders, rt.policy)


async def rows(client: TestClient) -> list[dict[str, Any]]:  # type: ignore[type-arg]
    async with client.app[DB_POOL].acquire() as conn:
        return await outbox.list_rows(conn, None, None, 100)


async def answered_question(api: Api, openid: str = "openid-resident") -> tuple[User, User, dict[str, Any]]:
    city = await api.city()
    lawyer = await api.lawyer()
    await api.duty(city.community_id, lawyer)
    resident = await api.resident(openid)
    q = await api.ask(resident, city.community_id)
    await api.ok("POST", f"/questions/{q['id']}/answers", lawyer, {"content": "建议先协商，保留证据。"})
    return lawyer, resident, q


async def test_an_answer_sends_one_subscribe_message(api: Api, client: TestClient, wechat: Fake) -> None:  # type: ignore[type-arg]
    lawyer, resident, q = await answered_question(api, "openid-a")
    result = await deliver(client)
    assert result.sent == 1
    (msg,) = wechat.received
    assert msg["body"]["touser"] == "openid-a" and msg["body"]["template_id"] == "tmpl-answered"
    assert str(q["id"]) in msg["body"]["page"] and msg["body"]["data"]["thing1"]["value"] == "邻里纠纷"
    assert (await deliver(client)).sent == 0  # never twice

    # a second lawyer message without a follow-up in between notifies nobody
    await api.ok("POST", f"/questions/{q['id']}/answers", lawyer, {"content": "补充：可找调解委员会。"})
    await api.ok("POST", f"/questions/{q['id']}/messages", resident, {"content": "如果对方不同意调解呢？"})
    await api.ok("POST", f"/questions/{q['id']}/answers", lawyer, {"content": "那可以向法院起诉。"})
    assert (await deliver(client)).sent == 1
    assert [m["body"]["template_id"] for m in wechat.received] == ["tmpl-answered", "tmpl-followup"]
    assert wechat.tokens_issued == 1  # the access token is cached
    assert {r["status"] for r in await rows(client)} == {"sent"}


async def test_wechat_token_expiry_errors_and_timeouts_are_retried(
    api: Api,
    client: TestClient,
    wechat: Fake,  # type: ignore[type-arg]
) -> None:
    wechat.script = ["errcode40001", "http500", "timeout"]
    await answered_question(api)
    result = await deliver(client)  # no back-off in these settings: all three attempts in one run
    assert (result.failed, result.dead, result.sent) == (2, 1, 0)
    (row,) = await rows(client)
    assert row["status"] == "dead" and row["attempts"] == 3 and "Timeout" in row["last_error"]
    assert wechat.tokens_issued == 2  # the expired token was dropped and fetched again


async def test_a_failed_attempt_waits_for_its_back_off(api: Api, client: TestClient, wechat: Fake) -> None:  # type: ignore[type-arg]
    wechat.script = ["http503"]
    await answered_question(api)
    rt = client.app[REALTIME]
    policy = outbox.RetryPolicy(max_attempts=5, base_seconds=30, cap_seconds=60)
    first = await outbox.deliver_due(rt.pool, rt.senders, policy)
    again = await outbox.deliver_due(rt.pool, rt.senders, policy)
    assert (first.failed, again.failed, again.sent) == (1, 0, 0)
    (row,) = await rows(client)
    wait = (row["next_attempt_at"] - row["created_at"]).total_seconds()
    assert row["status"] == "pending" and 15 <= wait <= 35


async def test_a_refused_subscription_is_dead_at_once(api: Api, client: TestClient, wechat: Fake) -> None:  # type: ignore[type-arg]
    wechat.script = ["errcode43101"]
    await answered_question(api)
    assert (await deliver(client)).dead == 1
    (row,) = await rows(client)
    assert row["status"] == "dead" and row["attempts"] == 1


async def test_no_template_configured_skips(db_dsn: str) -> None:
    app = create_app(make_settings(db_dsn))
    async with TestClient(TestServer(app)) as c:
        api = Api(c, make_settings(db_dsn))
        await answered_question(api)
        assert (await deliver(c)).skipped == 1
        assert [r["status"] for r in await rows(c)] == ["skipped"]


async def _escalate(api: Api, client: TestClient, settings: Settings, n: int = 1) -> list[dict[str, Any]]:  # type: ignore[type-arg]
    city = await api.city()
    await api.duty(city.community_id, await api.lawyer())
    await api.pool([await api.lawyer()], district_id=city.district_id)
    resident = await api.resident()
    qs = [await api.ask(resident, city.community_id) for _ in range(n)]
    later = datetime.fromisoformat(qs[-1]["escalate_at"]) + timedelta(seconds=1)
    await escalation.sweep(client.app[DB_POOL], settings, now=later)
    return qs


async def test_webhooks_are_signed_retried_and_sent_once(
    api: Api,
    client: TestClient,
    settings: Settings,
    receiver: Fake,  # type: ignore[type-arg]
) -> None:
    bureau = await api.bureau()
    hook = await api.ok(
        "POST",
        "/admin/webhooks",
        bureau,
        {"url": receiver.url, "events": ["escalated"], "description": "12345"},
    )
    assert hook["secret"].startswith("whsec_")
    listed = await api.ok("GET", "/admin/webhooks", bureau)
    assert [h["id"] for h in listed] == [hook["id"]] and "secret" not in listed[0]

    receiver.script = ["http500", "timeout"]
    (q,) = await _escalate(api, client, settings)
    result = await deliver(client)  # no back-off in these settings: the retries follow at once
    assert (result.failed, result.sent) == (2, 1)
    assert (await deliver(client)).sent == 0
    assert len(receiver.received) == 3
    deliveries = {r["headers"]["X-Fazhizhen-Delivery"] for r in receiver.received}
    assert len(deliveries) == 1  # the same delivery id on each attempt: receivers can drop repeats
    last = receiver.received[-1]
    h = last["headers"]
    assert h["X-Fazhizhen-Event"] == "escalated" and last["body"]["question_id"] == q["id"]
    assert webhooks.verify(
        hook["secret"], int(h["X-Fazhizhen-Timestamp"]), last["raw"], h["X-Fazhizhen-Signature"]
    )
    assert not webhooks.verify(
        "whsec_wrong", int(h["X-Fazhizhen-Timestamp"]), last["raw"], h["X-Fazhizhen-Signature"]
    )

    outbox_view = await api.ok("GET", "/admin/outbox", bureau)
    assert hook["secret"] not in str(outbox_view)
    await api.ok("DELETE", f"/admin/webhooks/{hook['id']}", bureau, status=204)
    await _escalate(api, client, settings)
    assert (await deliver(client)).sent == 0  # a removed webhook gets nothing new


async def test_two_processes_delivering_at_once_send_each_notification_once(
    api: Api,
    client: TestClient,
    settings: Settings,
    receiver: Fake,
    db_dsn: str,  # type: ignore[type-arg]
) -> None:
    bureau = await api.bureau()
    await api.ok("POST", "/admin/webhooks", bureau, {"url": receiver.url})
    await _escalate(api, client, settings, n=12)
    receiver.delay = 0.01
    rt = client.app[REALTIME]
    other = await create_pool(db_dsn, min_size=1, max_size=5)  # a second process's pool
    try:
        results = await asyncio.gather(
            outbox.deliver_due(rt.pool, rt.senders, rt.policy, workers=4),
            outbox.deliver_due(other, rt.senders, rt.policy, workers=4),
        )
    finally:
        await other.close()
    assert sum(r.sent for r in results) == 12 and all(r.sent for r in results)
    ids = [r["headers"]["X-Fazhizhen-Delivery"] for r in receiver.received]
    assert len(ids) == len(set(ids)) == 12


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    policy = outbox.RetryPolicy(max_attempts=10, base_seconds=2, cap_seconds=60)
    low = [outbox.backoff_seconds(n, policy, rand=lambda: 0.0) for n in (1, 2, 3, 4, 8)]
    high = [outbox.backoff_seconds(n, policy, rand=lambda: 1.0) for n in (1, 2, 3, 4, 8)]
    assert high == [2, 4, 8, 16, 60]
    assert low == [1, 2, 4, 8, 30]
