"""The policy simulator: determinism, policy directions, calibration, the CLI's JSON and SVG."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import time, timedelta
from pathlib import Path

import pytest

from fazhizhen.services.routing import Candidate, DutySlot, escalate_at, is_on_duty, on_duty
from fazhizhen.simulate import engine
from fazhizhen.simulate.cli import main
from fazhizhen.simulate.engine import PolicyResult, build_city, generate_arrivals, run_policy, simulate
from fazhizhen.simulate.policies import (
    BASELINE,
    BUILTIN_POLICIES,
    next_in_rotation,
    pick_specialist,
    select_policies,
)
from fazhizhen.simulate.report import CONTRACT_KEYS, render_svg, render_table, to_json
from fazhizhen.simulate.scenario import Scenario, load_scenario, parse_scenario

CALIBRATED_AVG_SECONDS = 6.6 * 60


@pytest.fixture(scope="module")
def default() -> Scenario:
    return load_scenario("default")


@pytest.fixture(scope="module")
def small() -> Scenario:
    return load_scenario("small")


@pytest.fixture(scope="module")
def wuhan_week(default: Scenario) -> dict[str, PolicyResult]:
    """Every built-in policy over a week of the default (Wuhan-scale) scenario."""
    return {r.policy.name: r for r in simulate(default, BUILTIN_POLICIES, days=7, seed=1)}


def fig(results: dict[str, PolicyResult], policy: str, key: str) -> float:
    return results[policy].figures[key]


# --- determinism ------------------------------------------------------------------------------------


def test_same_seed_same_figures_and_traces(small: Scenario) -> None:
    first = simulate(small, BUILTIN_POLICIES, days=3, seed=7)
    second = simulate(small, BUILTIN_POLICIES, days=3, seed=7)
    assert to_json(first) == to_json(second)
    assert [q.answered_by for q in first[0].questions] == [q.answered_by for q in second[0].questions]


def test_another_seed_another_city(small: Scenario) -> None:
    a = simulate(small, [BASELINE], days=3, seed=7)[0]
    b = simulate(small, [BASELINE], days=3, seed=8)[0]
    assert [q.created for q in a.questions] != [q.created for q in b.questions]


def test_policies_see_the_same_questions(default: Scenario) -> None:
    results = simulate(default, BUILTIN_POLICIES[:3], days=2, seed=3)
    created = [[(q.created, q.community, q.category) for q in r.questions] for r in results]
    assert created[0] == created[1] == created[2]


# --- the simulator goes through routing.py ----------------------------------------------------------


def test_every_decision_matches_the_routing_rules(small: Scenario) -> None:
    result = simulate(small, [BASELINE], days=7, seed=2)[0]
    city = build_city(small, 2)
    for q in result.questions:
        now = city.start + timedelta(seconds=q.created)
        slots = city.communities[q.community - 1].slots
        duty = on_duty(slots, now, city.tz)
        if q.escalation == "off_duty":
            assert duty == [] and q.escalated_at == q.created and q.assigned_lawyer is None
        else:
            assert q.assigned_lawyer in duty
            assert q.escalate_at == pytest.approx(q.created + 900)
        if q.escalation == "window":
            assert q.escalated_at == pytest.approx(q.created + 900)
        if q.escalated_at is not None:
            assert q.alert_at is not None and q.alert_at == pytest.approx(q.escalated_at + 900)
            assert q.alerted == (q.answered_at is not None and q.answered_at > q.alert_at)
        assert q.answered_at is not None and q.level is not None
        if q.level == "A":
            assert q.answered_by == q.assigned_lawyer and q.answered_at <= q.created + 900


def test_changing_a_routing_rule_changes_the_simulation(
    small: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = simulate(small, [BASELINE], days=3, seed=1)[0].figures["escalation_rate"]
    monkeypatch.setattr(engine, "escalate_at", lambda created, window: escalate_at(created, 60))
    after = simulate(small, [BASELINE], days=3, seed=1)[0].figures["escalation_rate"]
    assert after > before


def test_lowest_id_wins_ties_as_in_the_service(small: Scenario) -> None:
    city = build_city(small, 1)
    shared = [
        c
        for c in city.communities
        if len(set(s.lawyer_id for s in c.slots)) > 1 and all(s.weekday is None for s in c.slots)
    ]
    arrivals = generate_arrivals(city, 7, 1)
    result = run_policy(city, arrivals, BASELINE)
    for c in shared:
        assigned = [q.assigned_lawyer for q in result.questions if q.community == c.id and q.assigned_lawyer]
        assert assigned.count(min(c.lawyers)) >= assigned.count(max(c.lawyers))


# --- policies move the figures the expected way ------------------------------------------------------


def test_a_ten_minute_window_escalates_more_but_sooner(wuhan_week: dict[str, PolicyResult]) -> None:
    assert fig(wuhan_week, "window_10", "escalation_rate") > fig(wuhan_week, "baseline", "escalation_rate")
    assert fig(wuhan_week, "window_10", "within_window_rate") < fig(
        wuhan_week, "baseline", "within_window_rate"
    )
    assert fig(wuhan_week, "window_10", "level_a_rate") < fig(wuhan_week, "baseline", "level_a_rate")
    # a missed question reaches the pool five minutes earlier: the slow tail shortens
    for key in ("p90_first_response_seconds", "p99_first_response_seconds"):
        assert fig(wuhan_week, "window_10", key) < fig(wuhan_week, "baseline", key)
    # questions answered early are untouched by the window
    assert fig(wuhan_week, "window_10", "p50_first_response_seconds") == pytest.approx(
        fig(wuhan_week, "baseline", "p50_first_response_seconds"), rel=0.02
    )


def test_reminders_lower_escalations(wuhan_week: dict[str, PolicyResult]) -> None:
    assert fig(wuhan_week, "no_reminder", "escalation_rate") > fig(wuhan_week, "baseline", "escalation_rate")
    assert fig(wuhan_week, "no_reminder", "within_window_rate") < fig(
        wuhan_week, "baseline", "within_window_rate"
    )
    assert fig(wuhan_week, "no_reminder", "avg_first_response_seconds") > fig(
        wuhan_week, "baseline", "avg_first_response_seconds"
    )


def test_bigger_pools_breach_less(wuhan_week: dict[str, PolicyResult]) -> None:
    assert fig(wuhan_week, "pool_x2", "pool_breach_rate") < fig(wuhan_week, "baseline", "pool_breach_rate")
    assert fig(wuhan_week, "pool_x2", "escalation_rate") == fig(wuhan_week, "baseline", "escalation_rate")
    assert fig(wuhan_week, "pool_x2", "avg_first_response_seconds") <= fig(
        wuhan_week, "baseline", "avg_first_response_seconds"
    )


def test_round_robin_spreads_pool_work_but_is_slower(wuhan_week: dict[str, PolicyResult]) -> None:
    assert fig(wuhan_week, "round_robin", "escalation_rate") == fig(wuhan_week, "baseline", "escalation_rate")
    assert fig(wuhan_week, "round_robin", "max_load_over_fair_share") < fig(
        wuhan_week, "baseline", "max_load_over_fair_share"
    )
    assert fig(wuhan_week, "round_robin", "pool_breach_rate") > fig(
        wuhan_week, "baseline", "pool_breach_rate"
    )


def test_specialty_routing_is_no_slower(wuhan_week: dict[str, PolicyResult]) -> None:
    assert fig(wuhan_week, "specialty", "avg_first_response_seconds") <= fig(
        wuhan_week, "baseline", "avg_first_response_seconds"
    )


# --- calibration ------------------------------------------------------------------------------------


def test_baseline_reproduces_the_published_figures(wuhan_week: dict[str, PolicyResult]) -> None:
    base = wuhan_week["baseline"].figures
    assert base["avg_first_response_seconds"] == pytest.approx(CALIBRATED_AVG_SECONDS, abs=30)
    assert base["response_rate"] == 1.0
    assert 150 * 7 < base["questions"] < 250 * 7


def test_rates_are_fractions(wuhan_week: dict[str, PolicyResult]) -> None:
    for result in wuhan_week.values():
        for key, value in result.figures.items():
            if key.endswith("_rate"):
                assert 0.0 <= value <= 1.0, key


# --- pure decisions the simulator adds ----------------------------------------------------------------


def test_next_in_rotation_wraps_in_id_order() -> None:
    assert next_in_rotation([], None) is None
    assert next_in_rotation([7, 3, 5], None) == 3
    assert next_in_rotation([7, 3, 5], 3) == 5
    assert next_in_rotation([7, 3, 5], 7) == 3
    assert next_in_rotation([7, 3, 5], 4) == 5  # the last one offered has left the pool


def test_pick_specialist_prefers_matching_lawyers_then_the_usual_rule() -> None:
    cands = [Candidate(1, 0), Candidate(2, 3), Candidate(3, 1)]
    spec = {2: frozenset({"labor"}), 3: frozenset({"labor", "debt"})}
    assert pick_specialist(cands, spec, "labor") == 3
    assert pick_specialist(cands, spec, "traffic") == 1
    assert pick_specialist([], spec, "labor") is None


def test_select_policies_keeps_baseline_first() -> None:
    names = [p.name for p in select_policies(BUILTIN_POLICIES, ["pool_x2", "baseline", "window_10"])]
    assert names == ["baseline", "pool_x2", "window_10"]
    with pytest.raises(ValueError, match="unknown policies: nope"):
        select_policies(BUILTIN_POLICIES, ["nope"])


def test_builtin_baseline_is_the_service_default() -> None:
    assert BASELINE.escalate_after_seconds == 900 and BASELINE.pool_sla_seconds == 900
    assert BASELINE.remind_before_seconds == 300


def test_night_roster_slots_are_read_like_the_service(default: Scenario) -> None:
    city = build_city(default, 1)
    slot = city.communities[0].slots[0]
    assert slot.start == time(8) and slot.end == time(22)
    assert not is_on_duty(DutySlot(1, None, time(8), time(22)), city.start, city.tz)  # Monday 00:00


# --- scenario files ---------------------------------------------------------------------------------

_TOML = """
name = "toml town"
start = 2024-03-04T00:00:00+08:00
days = 2
seed = 5

[[districts]]
name = "一区"
communities = 2
pool_size = 2

[demand]
questions_per_day = 20
weekday_weights = [1, 1, 1, 1, 1, 1, 1]
hourly_weekday = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]
hourly_weekend = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]
category_mix = { labor = 1, debt = 1 }

[rosters]
lawyers = 4
duty_start = 08:00:00
duty_end = 22:00:00
shared_share = 0.5
weekend_cover_share = 1.0
city_pool_size = 0

[behaviour]
availability_by_hour = [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5,
                        0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]
pool_answer_median_minutes = 4
pool_answer_sigma = 0.5
bureau_followup_median_minutes = 20
bureau_followup_sigma = 0.5

[[behaviour.profiles]]
name = "only"
share = 1
answer_median_minutes = 4
answer_sigma = 0.5
miss_chance = 0.1
reminder_reaction = 0.5
reaction_median_minutes = 2
claim_median_minutes = 4
claim_sigma = 0.5
pool_skip_chance = 0.2
"""


def test_a_toml_scenario_runs(tmp_path: Path) -> None:
    path = tmp_path / "town.toml"
    path.write_text(_TOML, encoding="utf-8")
    scenario = load_scenario(path)
    assert scenario.rosters.duty_start == time(8)
    result = simulate(scenario, [BASELINE])[0]
    assert result.figures["questions"] > 0 and result.figures["response_rate"] == 1.0


def test_a_scenario_needs_an_aware_start_and_known_categories(small: Scenario) -> None:
    data = small.model_dump(mode="json")
    data["start"] = "2024-03-04T00:00:00"
    with pytest.raises(ValueError, match="UTC offset"):
        parse_scenario(json.dumps(data))
    data = small.model_dump(mode="json")
    data["demand"]["category_mix"]["tax"] = 0.1
    with pytest.raises(ValueError, match="unknown categories: tax"):
        parse_scenario(json.dumps(data))


# --- the CLI ----------------------------------------------------------------------------------------


def test_json_shape(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--scenario", "small", "--days", "2", "--seed", "3", "--json"]) == 0
    out, err = capsys.readouterr()
    doc = json.loads(out)
    assert list(doc) == ["policies"]
    assert [p["name"] for p in doc["policies"]] == [p.name for p in BUILTIN_POLICIES]
    assert doc["policies"][0]["name"] == "baseline"
    for policy in doc["policies"]:
        assert {"name", *CONTRACT_KEYS} <= set(policy)
        for key in CONTRACT_KEYS:
            assert isinstance(policy[key], float)
        for key in ("within_window_rate", "escalation_rate", "pool_breach_rate"):
            assert 0.0 <= policy[key] <= 1.0
        assert "p99_first_response_seconds" in policy
    assert err == ""


def test_policies_option_keeps_baseline_first(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--scenario", "small", "--days", "1", "--json", "--policies", "pool_x2"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [p["name"] for p in doc["policies"]] == ["baseline", "pool_x2"]


def test_progress_goes_to_stderr_only(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--scenario", "small", "--days", "1", "--json", "--progress"]) == 0
    out, err = capsys.readouterr()
    json.loads(out)
    assert "100.0%" in err


def test_table_and_svg_chart(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    chart = tmp_path / "policies.svg"
    assert main(["--scenario", "small", "--days", "2", "--chart", str(chart)]) == 0
    out = capsys.readouterr().out
    assert "baseline" in out and "p90" in out and "window_10" in out
    root = ET.parse(chart).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    titles = [t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}title")]
    assert any(t.startswith("pool_x2:") for t in titles)


def test_bad_input_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["--scenario", str(tmp_path / "missing.json")]) == 2
    assert main(["--scenario", "small", "--policies", "nope"]) == 2
    assert "unknown policies" in capsys.readouterr().err


def test_render_helpers_escape_names(small: Scenario) -> None:
    results = simulate(small, [BASELINE], days=1, seed=1)
    assert "baseline" in render_table(results)
    ET.fromstring(render_svg(results, title="<&> 法指针"))
