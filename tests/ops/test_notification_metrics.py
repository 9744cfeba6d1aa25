"""Notification outcomes reach Prometheus: one sample per delivery attempt, by channel and outcome."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from tests.factories import Api
from tests.ops.test_metrics import _scrape
from tests.realtime.fakes import Fake

# fixtures too: `wechat` (a fake WeChat API) and `settings` (it, with 3 attempts and no back-off)
from tests.realtime.test_outbox import answered_question, deliver, settings, wechat  # noqa: F401

NAME = "fazhizhen_notifications_total"
OUTCOMES = ("delivered", "retried", "dead", "skipped")


def _key(channel: str, outcome: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    return NAME, (("channel", channel), ("outcome", outcome))


async def test_delivery_outcomes_are_counted_by_channel(api: Api, client: TestClient, wechat: Fake) -> None:  # type: ignore[type-arg]  # noqa: F811
    before = await _scrape(api)
    wechat.script = ["http500"]  # the first attempt fails and is retried, the second is delivered
    await answered_question(api, "openid-metrics-ok")
    assert (await deliver(client)).sent == 1
    await answered_question(api, "openid-metrics-refused")
    await answered_question(api, "openid-metrics-down")
    # the first row: the resident refused subscribe messages, dead at once; the second: retried twice,
    # then dead after its third and last attempt (FAZHIZHEN_OUTBOX_MAX_ATTEMPTS=3 here)
    wechat.script = ["errcode43101", "http503", "http503", "http503"]
    await deliver(client)

    after = await _scrape(api)
    counted = {o: after.get(_key("wechat", o), 0.0) - before.get(_key("wechat", o), 0.0) for o in OUTCOMES}
    assert counted == {"delivered": 1, "retried": 3, "dead": 2, "skipped": 0}
    # the webhook channel had no traffic, yet its series exist (at zero) so alerts can use rate()
    assert all(_key("webhook", o) in after for o in OUTCOMES)


async def test_an_unconfigured_channel_counts_skips(make_api) -> None:  # type: ignore[no-untyped-def]
    api = await make_api(wechat_template_answered=None)
    before = await _scrape(api)
    await answered_question(api, "openid-metrics-skip")
    await deliver(api.client)
    after = await _scrape(api)
    assert after[_key("wechat", "skipped")] - before.get(_key("wechat", "skipped"), 0.0) == 1
