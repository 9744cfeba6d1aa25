"""Find the answer-time scale that makes the baseline reproduce a published average first response.

Run `python -m fazhizhen.simulate.calibrate [--scenario FILE] [--target-minutes 6.6]` and put the printed
`answer_time_scale` into the scenario's `behaviour` (docs/SIMULATION.md explains the method).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from fazhizhen.simulate.engine import simulate
from fazhizhen.simulate.policies import BASELINE
from fazhizhen.simulate.scenario import Scenario, load_scenario


def baseline_average(scenario: Scenario, scale: float, seeds: Sequence[int], days: int) -> float:
    """The baseline's average first response in seconds, pooled over seeds, at an answer-time scale."""
    behaviour = scenario.behaviour.model_copy(update={"answer_time_scale": scale})
    scaled = scenario.model_copy(update={"behaviour": behaviour})
    total = count = 0.0
    for seed in seeds:
        figures = simulate(scaled, [BASELINE], days=days, seed=seed)[0].figures
        total += figures["avg_first_response_seconds"] * figures["answered"]
        count += figures["answered"]
    return total / count


def calibrate(
    scenario: Scenario,
    target_seconds: float,
    *,
    seeds: Sequence[int] = (1, 2, 3),
    days: int = 30,
    low: float = 0.2,
    high: float = 5.0,
    tolerance_seconds: float = 1.0,
) -> tuple[float, float]:
    """Bisect the answer-time scale until the baseline average is on target; returns (scale, average)."""
    avg = 0.0
    for _ in range(40):
        mid = (low + high) / 2
        avg = baseline_average(scenario, mid, seeds, days)
        if abs(avg - target_seconds) <= tolerance_seconds:
            return mid, avg
        if avg < target_seconds:
            low = mid
        else:
            high = mid
    return (low + high) / 2, avg


def main(argv: list[str] | None = None) -> int:
    """Print the calibrated answer_time_scale for a scenario."""
    parser = argparse.ArgumentParser(prog="python -m fazhizhen.simulate.calibrate", description=__doc__)
    parser.add_argument("--scenario", default="default")
    parser.add_argument("--target-minutes", type=float, default=6.6)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seeds", default="1,2,3", help="comma-separated seeds to pool")
    args = parser.parse_args(argv)
    scenario = load_scenario(args.scenario)
    seeds = [int(s) for s in args.seeds.split(",") if s]
    scale, avg = calibrate(scenario, args.target_minutes * 60, seeds=seeds, days=args.days)
    print(f"answer_time_scale = {scale:.3f}  (baseline average {avg / 60:.2f} min over seeds {seeds})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
