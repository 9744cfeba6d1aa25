"""The discrete-event loop: a virtual clock, a heap of events, and routing.py making every decision.

Nothing here reads the wall clock or sleeps. Time is seconds since the scenario's start; every decision
the service also makes (who is on duty, who gets the question, when it escalates, which pool, when the
bureau is alerted, which level it resolved at) is taken by calling the service's own functions with an
aware datetime built from that virtual clock.
"""

from __future__ import annotations

import heapq
import math
import random
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from itertools import accumulate
from statistics import NormalDist
from zoneinfo import ZoneInfo

from fazhizhen.services.routing import (
    Candidate,
    DutySlot,
    PoolRef,
    alert_at,
    escalate_at,
    is_due,
    on_duty,
    pick_lawyer,
    pool_for,
    resolved_level,
)
from fazhizhen.simulate.policies import Policy, next_in_rotation, pick_specialist
from fazhizhen.simulate.scenario import Scenario

Progress = Callable[[float], None]
# what the service would see happen, in order: (time, "ask" | "answer" | "escalate" | "claim" | "alert",
# question index, lawyer id or 0); a bureau hand-over after an alert is logged as that lawyer's claim
EventLog = list[tuple[float, str, int, int]]

# Equal times: an answer beats a claim beats a new arrival beats the deadlines, as in the service
# where an answer committed before the sweep runs counts as in time.
_ANSWER, _CLAIM, _ARRIVAL, _REMIND, _ESCALATE, _OFFER, _ALERT = range(7)

_MASK = (1 << 64) - 1
_INV_CDF = NormalDist().inv_cdf


def _mix(x: int) -> int:
    x = (x + 0x9E3779B97F4A7C15) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


def _u(key: int, *parts: int) -> float:
    # Keyed draws (not a shared stream) give common random numbers: a question meets the same luck
    # under every policy, so differences between policies are the policies' and not noise.
    x = key
    for p in parts:
        x = _mix(x ^ _mix(p))
    return ((x >> 11) + 0.5) * 2.0**-53


def _lognormal(median: float, sigma: float, key: int, *parts: int) -> float:
    return median * math.exp(sigma * _INV_CDF(_u(key, *parts)))


@dataclass(frozen=True, slots=True)
class Lawyer:
    """One lawyer of the synthetic city with their drawn behaviour (times in seconds)."""

    id: int
    community: int
    district: int
    profile: str
    specialties: frozenset[str]
    speed: float
    answer_median: float
    answer_sigma: float
    miss_chance: float
    reminder_reaction: float
    reaction_median: float
    claim_median: float
    claim_sigma: float
    pool_skip: float
    availability: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class Community:
    """A community: its district, its roster lines and its lawyers."""

    id: int
    district: int
    slots: tuple[DutySlot, ...]
    lawyers: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Arrival:
    """A question as the synthetic residents ask it; `key` fixes its luck."""

    t: float
    community: int
    category: str
    key: int


@dataclass(frozen=True, slots=True)
class City:
    """The synthetic city a scenario and a seed describe."""

    scenario: Scenario
    tz: ZoneInfo
    start: datetime
    communities: tuple[Community, ...]
    lawyers: tuple[Lawyer, ...]
    community_weights: tuple[float, ...]
    specialties: dict[int, frozenset[str]]
    # draft order of each district's pool candidates; a pool of size n takes the first n
    pool_drafts: dict[int, tuple[int, ...]]
    city_draft: tuple[int, ...]

    def lawyer(self, lawyer_id: int) -> Lawyer:
        """The lawyer with this id."""
        return self.lawyers[lawyer_id - 1]

    def pools(self, scale: float) -> tuple[list[PoolRef], dict[int, tuple[int, ...]]]:
        """The pools (district ones first, then the city-wide one) and their members at a size scale."""
        refs: list[PoolRef] = []
        members: dict[int, tuple[int, ...]] = {}
        taken: set[int] = set()
        for index, district in enumerate(self.scenario.districts, start=1):
            if district.pool_size <= 0:
                continue
            draft = self.pool_drafts[index]
            chosen = draft[: min(len(draft), round(district.pool_size * scale))]
            refs.append(PoolRef(pool_id=index, district_id=index))
            members[index] = tuple(sorted(chosen))
            taken.update(chosen)
        size = round(self.scenario.rosters.city_pool_size * scale)
        if size > 0:
            city_id = len(self.scenario.districts) + 1
            chosen_city: list[int] = []
            for lawyer_id in self.city_draft:
                if len(chosen_city) >= size:
                    break
                if lawyer_id not in taken:
                    chosen_city.append(lawyer_id)
            refs.append(PoolRef(pool_id=city_id, district_id=None))
            members[city_id] = tuple(sorted(chosen_city))
        return refs, members


def build_city(scenario: Scenario, seed: int) -> City:
    """Draw the city: community demand weights, rosters, lawyers' profiles and specialties, pool drafts."""
    rng = random.Random(f"{seed}:city")
    tz = scenario.tz
    rosters, beh = scenario.rosters, scenario.behaviour
    districts = [d for index, d in enumerate(scenario.districts, start=1) for _ in range(d.communities)]
    district_of = [i for i, d in enumerate(scenario.districts, start=1) for _ in range(d.communities)]
    n_comm = len(districts)
    sigma = scenario.demand.community_weight_sigma
    weights = [rng.lognormvariate(0.0, sigma) for _ in range(n_comm)]
    # every community has a lawyer; busier communities are more likely to get the extra ones
    staff = [1] * n_comm
    for c in rng.choices(range(n_comm), weights=weights, k=rosters.lawyers - n_comm):
        staff[c] += 1

    cats = list(scenario.demand.category_mix)
    cat_w = [scenario.demand.category_mix[c] for c in cats]
    prof_w = [p.share for p in beh.profiles]
    communities: list[Community] = []
    lawyers: list[Lawyer] = []
    next_id = 1
    for c in range(n_comm):
        ids = tuple(range(next_id, next_id + staff[c]))
        next_id += staff[c]
        shared = rng.random() < rosters.shared_share
        days = list(range(7)) if rng.random() < rosters.weekend_cover_share else list(range(5))
        slots: list[DutySlot] = []
        s, e = rosters.duty_start, rosters.duty_end
        if shared:
            for lid in ids:
                if len(days) == 7:
                    slots.append(DutySlot(lid, None, s, e))
                else:
                    slots.extend(DutySlot(lid, d, s, e) for d in days)
        else:
            slots.extend(DutySlot(ids[k % len(ids)], d, s, e) for k, d in enumerate(days))
        communities.append(Community(c + 1, district_of[c], tuple(slots), ids))
        for lid in ids:
            profile = rng.choices(beh.profiles, weights=prof_w, k=1)[0]
            speed = rng.lognormvariate(0.0, beh.lawyer_speed_sigma)
            k = rng.randint(min(rosters.specialties_min, rosters.specialties_max), rosters.specialties_max)
            spec: set[str] = set()
            pool_c, pool_w = cats[:], cat_w[:]
            while len(spec) < min(k, len(cats)):
                i = rng.choices(range(len(pool_c)), weights=pool_w, k=1)[0]
                spec.add(pool_c.pop(i))
                pool_w.pop(i)
            avail = tuple(min(1.0, a * profile.availability_scale) for a in beh.availability_by_hour)
            lawyers.append(
                Lawyer(
                    id=lid,
                    community=c + 1,
                    district=district_of[c],
                    profile=profile.name,
                    specialties=frozenset(spec),
                    speed=speed,
                    answer_median=profile.answer_median_minutes * 60 * beh.answer_time_scale * speed,
                    answer_sigma=profile.answer_sigma,
                    miss_chance=profile.miss_chance,
                    reminder_reaction=profile.reminder_reaction,
                    reaction_median=profile.reaction_median_minutes * 60,
                    claim_median=profile.claim_median_minutes * 60 * speed,
                    claim_sigma=profile.claim_sigma,
                    pool_skip=profile.pool_skip_chance,
                    availability=avail,
                )
            )
    drafts: dict[int, tuple[int, ...]] = {}
    for index in range(1, len(scenario.districts) + 1):
        mine = [law.id for law in lawyers if law.district == index]
        rng.shuffle(mine)
        drafts[index] = tuple(mine)
    everyone = [law.id for law in lawyers]
    rng.shuffle(everyone)
    return City(
        scenario=scenario,
        tz=tz,
        start=scenario.start.astimezone(tz),
        communities=tuple(communities),
        lawyers=tuple(lawyers),
        community_weights=tuple(weights),
        specialties={law.id: law.specialties for law in lawyers},
        pool_drafts=drafts,
        city_draft=tuple(everyone),
    )


def generate_arrivals(city: City, days: int, seed: int) -> list[Arrival]:
    """Questions over `days`: a Poisson stream per local hour shaped by weekday and hour of day."""
    rng = random.Random(f"{seed}:arrivals")
    demand = city.scenario.demand
    wd_mean = sum(demand.weekday_weights) / 7
    hw, he = sum(demand.hourly_weekday), sum(demand.hourly_weekend)
    cum_comm = list(accumulate(city.community_weights))
    cats = list(demand.category_mix)
    cum_cat = list(accumulate(demand.category_mix[c] for c in cats))
    out: list[Arrival] = []
    for hour_index in range(days * 24):
        local = (city.start + timedelta(hours=hour_index)).astimezone(city.tz)
        wd, h = local.weekday(), local.hour
        shape = demand.hourly_weekend[h] / he if wd >= 5 else demand.hourly_weekday[h] / hw
        rate = demand.questions_per_day * demand.weekday_weights[wd] / wd_mean * shape
        if rate <= 0:
            continue
        t = rng.expovariate(rate / 3600.0)
        while t < 3600.0:
            c = bisect_right(cum_comm, rng.random() * cum_comm[-1])
            k = bisect_right(cum_cat, rng.random() * cum_cat[-1])
            out.append(
                Arrival(
                    t=hour_index * 3600.0 + t,
                    community=min(c, len(cum_comm) - 1) + 1,
                    category=cats[min(k, len(cats) - 1)],
                    key=rng.getrandbits(64),
                )
            )
            t += rng.expovariate(rate / 3600.0)
    return out


@dataclass(slots=True)
class QuestionTrace:
    """What happened to one question under one policy (times in seconds since the start)."""

    index: int
    created: float
    community: int
    district: int
    category: str
    assigned_lawyer: int | None = None
    escalate_at: float | None = None
    escalated_at: float | None = None
    escalation: str | None = None  # "off_duty" (nobody on duty) or "window" (window missed)
    pool_id: int | None = None
    pool_district_id: int | None = None
    alert_at: float | None = None
    alerted: bool = False
    claimed_by: int | None = None
    bureau_assigned: bool = False
    answered_by: int | None = None
    answered_at: float | None = None
    level: str | None = None
    # state the loop needs, not part of the outcome
    assignee: int | None = field(default=None, repr=False)
    offers: int = field(default=0, repr=False)

    @property
    def response_seconds(self) -> float | None:
        """First answer minus creation, None while unanswered."""
        return None if self.answered_at is None else self.answered_at - self.created


@dataclass(frozen=True, slots=True)
class PolicyResult:
    """One policy's run: its figures and every question's trace."""

    policy: Policy
    figures: dict[str, float]
    questions: list[QuestionTrace]
    answers_by_lawyer: list[int]


def run_policy(
    city: City,
    arrivals: Sequence[Arrival],
    policy: Policy,
    *,
    progress: Progress | None = None,
    log: EventLog | None = None,
) -> PolicyResult:
    """Replay the arrivals through the service's rules under one policy and measure what residents get."""
    tz, start, beh = city.tz, city.start, city.scenario.behaviour
    lawyers = city.lawyers
    pool_refs, members = city.pools(policy.pool_scale)
    open_q = [0] * (len(lawyers) + 1)
    last_assigned: dict[int, datetime] = {}
    answers = [0] * (len(lawyers) + 1)
    rotation: dict[int, int | None] = {}
    traces = [
        QuestionTrace(i, a.t, a.community, city.communities[a.community - 1].district, a.category)
        for i, a in enumerate(arrivals)
    ]
    heap: list[tuple[float, int, int, int, int]] = [(a.t, _ARRIVAL, i, i, 0) for i, a in enumerate(arrivals)]
    heapq.heapify(heap)
    seq = len(heap)
    horizon = arrivals[-1].t if arrivals else 0.0
    next_tick = 0.0
    tick = max(horizon / 200.0, 1.0)
    spec_speed, spec_miss = beh.specialty_speedup, beh.specialty_miss_factor
    window, pool_sla = policy.escalate_after_seconds, policy.pool_sla_seconds

    def note(t: float, what: str, qi: int, lawyer_id: int = 0) -> None:
        if log is not None:
            log.append((t, what, qi, lawyer_id))

    def push(t: float, kind: int, qi: int, lawyer_id: int = 0) -> None:
        nonlocal seq
        seq += 1
        heapq.heappush(heap, (t, kind, seq, qi, lawyer_id))

    def secs(moment: datetime) -> float:
        return (moment - start).total_seconds()

    def claim_delay(law: Lawyer, q: QuestionTrace, attempt: int) -> float:
        median = law.claim_median * (spec_speed if q.category in law.specialties else 1.0)
        return _lognormal(median, law.claim_sigma, arrivals[q.index].key, 11, law.id, attempt)

    def willing(law: Lawyer, q: QuestionTrace, hour: int, attempt: int) -> bool:
        return _u(arrivals[q.index].key, 10, law.id, attempt) < law.availability[hour] * (1 - law.pool_skip)

    def offer(q: QuestionTrace, t: float, hour: int) -> None:
        assert q.pool_id is not None and q.alert_at is not None
        if t >= q.alert_at:
            return  # past the pool window the bureau takes over
        pool_members = members[q.pool_id]
        member = next_in_rotation(pool_members, rotation.get(q.pool_id))
        if member is None:
            return
        rotation[q.pool_id] = member
        attempt, q.offers = q.offers, q.offers + 1
        law = lawyers[member - 1]
        key = arrivals[q.index].key
        # a personal offer is answered like a reminder: by whoever is around and reacts to nudges
        if _u(key, 10, member, attempt) < law.availability[hour] * law.reminder_reaction:
            delay = _lognormal(law.reaction_median * law.speed, beh.reaction_sigma, key, 12, member, attempt)
            if delay <= policy.offer_timeout_seconds:
                push(t + delay, _CLAIM, q.index, member)
                return
        push(t + policy.offer_timeout_seconds, _OFFER, q.index)

    def enter_pool(q: QuestionTrace, t: float, now: datetime, why: str) -> None:
        q.escalated_at, q.escalation, q.assignee = t, why, None
        if why == "window":
            note(t, "escalate", q.index)
        pool = pool_for(q.district, pool_refs)
        deadline = alert_at(now, pool_sla)
        q.alert_at = secs(deadline)
        push(q.alert_at, _ALERT, q.index)
        if pool is None:
            return
        q.pool_id, q.pool_district_id = pool.pool_id, pool.district_id
        hour = now.astimezone(tz).hour
        if policy.pool_offer == "round_robin":
            offer(q, t, hour)
            return
        best: tuple[float, int] | None = None
        for member in members[pool.pool_id]:
            law = lawyers[member - 1]
            if willing(law, q, hour, 0):
                cand = (t + claim_delay(law, q, 0), member)
                if best is None or cand < best:
                    best = cand
        if best is not None:
            push(best[0], _CLAIM, q.index, best[1])

    def take(q: QuestionTrace, lawyer_id: int, t: float, delay: float) -> None:
        q.assignee = q.claimed_by = lawyer_id
        open_q[lawyer_id] += 1
        note(t, "claim", q.index, lawyer_id)
        push(t + delay, _ANSWER, q.index, lawyer_id)

    while heap:
        t, kind, _, qi, lawyer_id = heapq.heappop(heap)
        q = traces[qi]
        if progress is not None and t >= next_tick and kind == _ARRIVAL:
            progress(min(t / horizon, 1.0) if horizon else 1.0)
            next_tick = t + tick
        if q.answered_at is not None:
            continue
        key = arrivals[qi].key
        if kind == _ARRIVAL:
            now = start + timedelta(seconds=t)
            community = city.communities[q.community - 1]
            ids = on_duty(community.slots, now, tz)
            if not ids:
                note(t, "ask", qi)
                enter_pool(q, t, now, "off_duty")
                continue
            cands = [Candidate(i, open_q[i], last_assigned.get(i)) for i in ids]
            if policy.routing == "specialty":
                chosen = pick_specialist(cands, city.specialties, q.category)
            else:
                chosen = pick_lawyer(cands)
            assert chosen is not None
            q.assigned_lawyer = q.assignee = chosen
            open_q[chosen] += 1
            last_assigned[chosen] = now
            note(t, "ask", qi, chosen)
            deadline = escalate_at(now, window)
            q.escalate_at = secs(deadline)
            push(q.escalate_at, _ESCALATE, qi)
            law = lawyers[chosen - 1]
            own = q.category in law.specialties
            miss = law.miss_chance * (spec_miss if own else 1.0)
            if _u(key, 1) >= miss:
                median = law.answer_median * (spec_speed if own else 1.0)
                push(t + _lognormal(median, law.answer_sigma, key, 2), _ANSWER, qi, chosen)
            if policy.remind_before_seconds is not None:
                remind = secs(deadline - timedelta(seconds=policy.remind_before_seconds))
                if remind > t:
                    push(remind, _REMIND, qi, chosen)
        elif kind == _ANSWER:
            if q.assignee != lawyer_id:
                continue  # escalated or claimed by someone else meanwhile: the service refuses it
            q.answered_at, q.answered_by = t, lawyer_id
            note(t, "answer", qi, lawyer_id)
            open_q[lawyer_id] -= 1
            answers[lawyer_id] += 1
            q.level = resolved_level(
                escalated=q.escalated_at is not None,
                alerted_before_answer=q.alerted,
                pool_district_id=q.pool_district_id,
            )
        elif kind == _REMIND:
            if q.escalated_at is None and q.assignee == lawyer_id:
                law = lawyers[lawyer_id - 1]
                if _u(key, 3) < law.reminder_reaction:
                    push(
                        t + _lognormal(law.reaction_median, beh.reaction_sigma, key, 4),
                        _ANSWER,
                        qi,
                        lawyer_id,
                    )
        elif kind == _ESCALATE:
            now = start + timedelta(seconds=t)
            assert q.escalate_at is not None
            if q.escalated_at is None and is_due(start + timedelta(seconds=q.escalate_at), now):
                assert q.assignee is not None
                open_q[q.assignee] -= 1
                enter_pool(q, t, now, "window")
        elif kind == _CLAIM:
            if q.escalated_at is not None and q.claimed_by is None:
                law = lawyers[lawyer_id - 1]
                median = beh.pool_answer_median_minutes * 60 * law.speed
                if q.category in law.specialties:
                    median *= spec_speed
                take(q, lawyer_id, t, _lognormal(median, beh.pool_answer_sigma, key, 20, lawyer_id))
        elif kind == _OFFER:
            if q.claimed_by is None:
                offer(q, t, (start + timedelta(seconds=t)).astimezone(tz).hour)
        elif kind == _ALERT:
            now = start + timedelta(seconds=t)
            assert q.alert_at is not None
            if not is_due(start + timedelta(seconds=q.alert_at), now):
                continue
            q.alerted = True
            note(t, "alert", qi)
            follow = _lognormal(beh.bureau_followup_median_minutes * 60, beh.bureau_followup_sigma, key, 30)
            if q.claimed_by is not None:
                push(t + follow, _ANSWER, qi, q.claimed_by)  # the bureau chases the claimer
            else:
                # bureau staff phone the pool (without one, the community's lawyers) until someone
                # takes it: whom they reach is luck, not a rule of the service
                pool_members = members.get(q.pool_id, ()) if q.pool_id is not None else ()
                staff = pool_members or city.communities[q.community - 1].lawyers
                picked = staff[min(int(_u(key, 31) * len(staff)), len(staff) - 1)]
                q.bureau_assigned = True
                take(q, picked, t, follow)
    if progress is not None:
        progress(1.0)
    return PolicyResult(policy, measure(traces, answers, policy), traces, answers)


def _percentile(ordered: Sequence[float], p: float) -> float:
    # linear interpolation between closest ranks, as PostgreSQL's percentile_cont
    if not ordered:
        return 0.0
    pos = p * (len(ordered) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def measure(traces: Sequence[QuestionTrace], answers: Sequence[int], policy: Policy) -> dict[str, float]:
    """The bureau's figures for one run (rates 0..1, times in seconds)."""
    n = len(traces)
    times = sorted(rt for q in traces if (rt := q.response_seconds) is not None)
    escalated = sum(1 for q in traces if q.escalated_at is not None)
    alerted = sum(1 for q in traces if q.alerted)
    per_lawyer = list(answers[1:])
    total = sum(per_lawyer)
    fair = total / len(per_lawyer) if per_lawyer else 0.0
    busiest = sorted(per_lawyer, reverse=True)
    top = busiest[: max(1, len(busiest) // 100)]
    levels = {lvl: sum(1 for q in traces if q.level == lvl) for lvl in "ABCD"}

    def rate(k: int, of: int) -> float:
        return k / of if of else 0.0

    figures: dict[str, float] = {
        "questions": float(n),
        "answered": float(len(times)),
        "response_rate": rate(len(times), n),
        "avg_first_response_seconds": sum(times) / len(times) if times else 0.0,
        "p50_first_response_seconds": _percentile(times, 0.50),
        "p90_first_response_seconds": _percentile(times, 0.90),
        "p99_first_response_seconds": _percentile(times, 0.99),
        "max_first_response_seconds": times[-1] if times else 0.0,
        "within_window_rate": rate(sum(1 for x in times if x <= policy.escalate_after_seconds), n),
        "within_15_minutes_rate": rate(sum(1 for x in times if x <= 900), n),
        "escalation_rate": rate(escalated, n),
        "escalated_off_duty_rate": rate(sum(1 for q in traces if q.escalation == "off_duty"), n),
        "escalated_window_rate": rate(sum(1 for q in traces if q.escalation == "window"), n),
        "pool_breach_rate": rate(alerted, escalated),
        "alert_rate": rate(alerted, n),
        "fair_share_answers": fair,
        "max_answers_per_lawyer": float(busiest[0]) if busiest else 0.0,
        "max_load_over_fair_share": busiest[0] / fair if fair else 0.0,
        "top1pct_load_over_fair_share": (sum(top) / len(top)) / fair if fair else 0.0,
        "idle_lawyer_rate": rate(sum(1 for a in per_lawyer if a == 0), len(per_lawyer)),
    }
    for lvl, count in levels.items():
        figures[f"level_{lvl.lower()}_rate"] = rate(count, n)
    return figures


def simulate(
    scenario: Scenario,
    policies: Sequence[Policy],
    *,
    days: int | None = None,
    seed: int | None = None,
    progress: Callable[[int, float], None] | None = None,
) -> list[PolicyResult]:
    """Run every policy over the same city and the same questions; progress gets (policy index, fraction)."""
    seed = scenario.seed if seed is None else seed
    city = build_city(scenario, seed)
    arrivals = generate_arrivals(city, days or scenario.days, seed)
    results = []
    for i, policy in enumerate(policies):
        report: Progress | None = None
        if progress is not None:
            report = partial(progress, i)
        results.append(run_policy(city, arrivals, policy, progress=report))
    return results
