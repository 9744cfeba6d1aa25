"""The simulator and the service agree: a small scenario replayed through the real API, windows compressed
to 2 s, reaches the same assignees, escalations, pools, claims, alerts and levels the simulator predicted.

The simulator plans the run (who asks when, which lawyer answers or misses, who claims from the pool);
the test plays the residents' and lawyers' parts through the API at the simulator's pace and runs the
service's own sweep at each deadline the simulator saw pass. Every decision is the service's.
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp.test_utils import TestClient

from fazhizhen.keys import DB_POOL
from fazhizhen.services.escalation import sweep
from fazhizhen.services.routing import DutySlot, on_duty
from fazhizhen.settings import Settings
from fazhizhen.simulate.engine import (
    Arrival,
    City,
    EventLog,
    PolicyResult,
    build_city,
    generate_arrivals,
    run_policy,
)
from fazhizhen.simulate.policies import BASELINE, Policy
from fazhizhen.simulate.scenario import Scenario, load_scenario
from tests.conftest import make_settings
from tests.factories import Api, User

pytestmark = pytest.mark.slow

TZ = ZoneInfo("Asia/Shanghai")
WINDOW = 2.0  # seconds, for both the community window and the pool window
COMPRESSION = 900 / WINDOW
# Arrivals on a 0.8 s grid keep every two deadlines (created + 2 s or + 4 s) at least 0.4 s apart, far
# more than the replay's jitter, so the service's sweeps see them in the simulator's order.
GAP = 0.8
QUESTIONS = 24
SEED = 24  # a seed whose plan takes every path on every weekday (checked below)
REASONS = {"off_duty": "no_lawyer_on_duty", "window": "window_passed"}


@pytest.fixture
def settings(db_dsn: str) -> Settings:
    return make_settings(db_dsn, escalate_after_seconds=WINDOW, pool_sla_seconds=WINDOW)


def compressed_scenario(start: datetime) -> Scenario:
    """The bundled small scenario, starting now, every behaviour time shrunk like the windows."""
    small = load_scenario("small")
    beh = small.behaviour
    profiles = [
        p.model_copy(
            update={
                "answer_median_minutes": p.answer_median_minutes / COMPRESSION,
                "reaction_median_minutes": p.reaction_median_minutes / COMPRESSION,
                "claim_median_minutes": p.claim_median_minutes / COMPRESSION,
                # misses are what this test is about: more of them exercise every path
                "miss_chance": min(1.0, p.miss_chance * 3),
            }
        )
        for p in beh.profiles
    ]
    behaviour = beh.model_copy(
        update={
            "profiles": profiles,
            # the same at every hour, so the plan does not depend on when the suite runs
            "availability_by_hour": [0.9] * 24,
            "pool_answer_median_minutes": beh.pool_answer_median_minutes / COMPRESSION,
            "bureau_followup_median_minutes": beh.bureau_followup_median_minutes / COMPRESSION,
        }
    )
    hour = start.astimezone(TZ).hour
    rosters = small.rosters.model_copy(
        update={
            # roster windows hours away from now: the replay never crosses a boundary
            "duty_start": time((hour - 3) % 24),
            "duty_end": time((hour + 4) % 24),
            "weekend_cover_share": 1.0,
        }
    )
    return small.model_copy(update={"start": start, "behaviour": behaviour, "rosters": rosters})


def plan(start: datetime) -> tuple[City, list[Arrival], Policy, PolicyResult, EventLog]:
    """The simulator's prediction for a compressed replay starting at `start`."""
    scenario = compressed_scenario(start)
    city = build_city(scenario, SEED)
    # one rota community of the first district is off duty now: its questions go straight to the pool
    hour = start.astimezone(TZ).hour
    off = next(c for c in city.communities if c.district == 1 and all(s.weekday is not None for s in c.slots))
    later = tuple(DutySlot(lid, None, time((hour + 6) % 24), time((hour + 7) % 24)) for lid in off.lawyers)
    communities = [dataclasses.replace(c, slots=later) if c is off else c for c in city.communities]
    city = dataclasses.replace(city, communities=tuple(communities))
    # who asks what does not depend on the hour the suite runs: drawn from the scenario's own start
    drawn = generate_arrivals(build_city(load_scenario("small"), SEED), 3, SEED)[:QUESTIONS]
    arrivals = [dataclasses.replace(a, t=(i + 1) * GAP) for i, a in enumerate(drawn)]
    policy = BASELINE.model_copy(
        update={
            "escalate_after_seconds": WINDOW,
            "pool_sla_seconds": WINDOW,
            "remind_before_seconds": 300 / COMPRESSION,
        }
    )
    log: EventLog = []
    result = run_policy(city, arrivals, policy, log=log)
    return city, arrivals, policy, result, log


def test_the_plan_exercises_every_path() -> None:
    for day in range(7):  # rosters rotate by weekday: the only way the plan depends on when it runs
        city, *_, result, log = plan(datetime(2026, 11, 23, 10, 17, tzinfo=TZ) + timedelta(days=day))
        assert {"ask", "answer", "escalate", "claim", "alert"} <= {what for _, what, _, _ in log}, day
        assert {None, "off_duty", "window"} <= {q.escalation for q in result.questions}, day
        assert {"A", "B", "C", "D"} <= {q.level for q in result.questions}, day
        picks = []
        for q in result.questions:
            duty = on_duty(
                city.communities[q.community - 1].slots, city.start + timedelta(seconds=q.created), TZ
            )
            if q.assigned_lawyer is not None and len(duty) > 1:
                picks.append(q.assigned_lawyer == min(duty))
        # pick_lawyer had a choice: broken by lowest id, and at least once by open questions
        assert True in picks and False in picks, day


def _hhmm(t: time | None) -> str | None:
    return None if t is None else t.strftime("%H:%M")


async def test_service_follows_the_simulators_prediction(api: Api, client: TestClient) -> None:  # type: ignore[type-arg]
    # the test may read the wall clock; the simulator and the service never do it for each other
    city, arrivals, policy, result, log = plan(datetime.now(TZ))
    bureau = await api.bureau()

    # the same city through the admin API, created in the simulator's id order so ties break alike
    districts: dict[int, int] = {}
    streets: dict[int, int] = {}
    for index, district in enumerate(city.scenario.districts, start=1):
        body = await api.ok("POST", "/admin/districts", bureau, {"name": district.name}, status=201)
        districts[index] = body["id"]
        street = {"district_id": body["id"], "name": f"{district.name}街道"}
        streets[index] = (await api.ok("POST", "/admin/streets", bureau, street, status=201))["id"]
    communities: dict[int, int] = {}
    for c in city.communities:
        body = {"street_id": streets[c.district], "name": f"社区{c.id}"}
        communities[c.id] = (await api.ok("POST", "/admin/communities", bureau, body, status=201))["id"]
    lawyers: dict[int, User] = {}
    for law in city.lawyers:
        lawyers[law.id] = await api.lawyer(specialties=sorted(law.specialties))
    assert [lawyers[k].id for k in sorted(lawyers)] == sorted(u.id for u in lawyers.values())
    for c in city.communities:
        for slot in c.slots:
            window: dict[str, Any] = {
                "weekday": slot.weekday,
                "start": _hhmm(slot.start),
                "end": _hhmm(slot.end),
            }
            await api.duty(
                communities[c.id],
                lawyers[slot.lawyer_id],
                **{k: v for k, v in window.items() if v is not None},
            )
    pools: dict[int, int] = {}
    refs, members = city.pools(policy.pool_scale)
    for ref in sorted(refs, key=lambda r: r.pool_id):
        served = districts[ref.district_id] if ref.district_id is not None else None
        pools[ref.pool_id] = await api.pool([lawyers[m] for m in members[ref.pool_id]], served)
    residents = [await api.resident() for _ in arrivals]
    db = client.app[DB_POOL]
    settings = api.settings

    # the replay, paced like the plan
    ids: dict[int, int] = {}
    asked: dict[int, dict[str, Any]] = {}
    loop = asyncio.get_running_loop()
    began = loop.time()
    for t, what, qi, lawyer_id in log:
        delay = began + t - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        planned = result.questions[qi]
        if what == "ask":
            a = arrivals[qi]
            q = await api.ask(
                residents[qi], communities[a.community], f"模拟问题{qi}：邻居噪音怎么办？", a.category
            )
            ids[qi], asked[qi] = q["id"], q
            expected = lawyers[lawyer_id].id if lawyer_id else None
            assert (q["assigned_lawyer_id"], q["status"]) == (
                expected,
                "pending" if lawyer_id else "escalated",
            ), qi
        elif what == "answer":
            body = {"content": "建议先协商，保留证据。"}
            await api.ok("POST", f"/questions/{ids[qi]}/answers", lawyers[lawyer_id], body, status=201)
        elif what == "claim":
            await api.ok("POST", f"/questions/{ids[qi]}/claim", lawyers[lawyer_id], status=200)
        elif what == "escalate":
            due = datetime.fromisoformat(asked[qi]["escalate_at"])
            done = await sweep(db, settings, now=due)
            assert ([r["id"] for r in done.escalated], done.alerted) == ([ids[qi]], []), (qi, planned)
        elif what == "alert":
            current = await api.ok("GET", f"/questions/{ids[qi]}", residents[qi])
            done = await sweep(db, settings, now=datetime.fromisoformat(current["alert_at"]))
            assert (done.escalated, [r["id"] for r in done.alerted]) == ([], [ids[qi]]), (qi, planned)

    # every question ends where the simulator said it would
    reverse_lawyer = {u.id: k for k, u in lawyers.items()}
    reverse_pool = {v: k for k, v in pools.items()}
    seen, predicted = [], []
    for qi, planned in enumerate(result.questions):
        got = await api.ok("GET", f"/questions/{ids[qi]}", residents[qi])
        answers = [m for m in got["messages"] if m["author_role"] == "lawyer"]
        seen.append(
            (
                qi,
                got["status"],
                got["escalation_reason"],
                reverse_pool.get(got["pool_id"]),
                got["alerted_at"] is not None,
                reverse_lawyer.get(answers[0]["author_id"]) if answers else None,
                got["resolved_level"],
            )
        )
        predicted.append(
            (
                qi,
                "answered",
                REASONS.get(planned.escalation or ""),
                planned.pool_id,
                planned.alerted,
                planned.answered_by,
                planned.level,
            )
        )
    assert seen == predicted
