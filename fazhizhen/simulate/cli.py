"""`fazhizhen simulate`: replay a synthetic city through the routing rules under several policies."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import TextIO

from pydantic import ValidationError

from fazhizhen.simulate.engine import simulate
from fazhizhen.simulate.policies import BUILTIN_POLICIES, select_policies
from fazhizhen.simulate.report import render_svg, render_table, to_json
from fazhizhen.simulate.scenario import load_scenario


class ProgressBar:
    """A one-line progress bar on a stream (stderr), redrawn in place."""

    def __init__(self, stream: TextIO, names: list[str], width: int = 30) -> None:
        self.stream, self.names, self.width = stream, names, width
        self._last = -1

    def __call__(self, index: int, fraction: float) -> None:
        """Show policy `index` at `fraction` done."""
        total = (index + fraction) / len(self.names)
        filled = int(total * self.width)
        step = int(total * 100)
        if step == self._last:
            return
        self._last = step
        bar = "█" * filled + "·" * (self.width - filled)
        name = self.names[index]
        self.stream.write(f"\r[{bar}] {total * 100:5.1f}%  {index + 1}/{len(self.names)} {name:<16}")
        self.stream.flush()

    def close(self) -> None:
        """Clear the line."""
        self.stream.write("\r" + " " * (self.width + 50) + "\r")
        self.stream.flush()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fazhizhen simulate",
        description="Replay a synthetic city through the service's routing rules with a virtual clock "
        "and compare policies (the first one is always the baseline).",
    )
    parser.add_argument(
        "--scenario",
        default="default",
        help="scenario file (.json or .toml) or a bundled name: default, small",
    )
    parser.add_argument("--days", type=int, help="simulated days (default: the scenario's)")
    parser.add_argument("--seed", type=int, help="random seed (default: the scenario's)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON on stdout")
    parser.add_argument("--chart", type=Path, metavar="PATH.svg", help="write an SVG chart of the policies")
    parser.add_argument("--policies", help="comma-separated policy names (baseline is always included first)")
    parser.add_argument("--list-policies", action="store_true", help="list the policies and exit")
    parser.add_argument("--progress", action="store_true", help="progress bar even if stderr is no TTY")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the simulator; 0 on success, 2 on a bad scenario or policy name."""
    args = _parser().parse_args(argv)
    if args.days is not None and args.days < 1:
        print("fazhizhen simulate: --days must be at least 1", file=sys.stderr)
        return 2
    try:
        scenario = load_scenario(args.scenario)
    except (OSError, ValueError, ValidationError) as exc:
        print(f"fazhizhen simulate: cannot load scenario {args.scenario!r}: {exc}", file=sys.stderr)
        return 2
    available = scenario.policies or list(BUILTIN_POLICIES)
    if args.list_policies:
        for p in available:
            print(f"{p.name:<14} {p.description}")
        return 0
    names = [n.strip() for n in args.policies.split(",") if n.strip()] if args.policies else None
    try:
        policies = select_policies(available, names)
    except ValueError as exc:
        print(f"fazhizhen simulate: {exc}", file=sys.stderr)
        return 2

    days = args.days or scenario.days
    seed = scenario.seed if args.seed is None else args.seed
    show = args.progress or sys.stderr.isatty()
    bar = ProgressBar(sys.stderr, [p.name for p in policies]) if show else None
    started = time.perf_counter()
    results = simulate(scenario, policies, days=days, seed=seed, progress=bar)
    elapsed = time.perf_counter() - started
    if bar is not None:
        bar.close()

    title = f"{scenario.name}: {days} days, seed {seed}, {int(results[0].figures['questions'])} questions"
    if args.chart is not None:
        args.chart.write_text(render_svg(results, title=f"fazhizhen simulate — {title}"), encoding="utf-8")
    if args.json:
        print(json.dumps(to_json(results), ensure_ascii=False))
    else:
        lawyers = scenario.rosters.lawyers
        communities = sum(d.communities for d in scenario.districts)
        print(
            render_table(
                results, header=f"{title}; {communities} communities, {lawyers} lawyers; {elapsed:.1f} s"
            )
        )
        if args.chart is not None:
            print(f"chart written to {args.chart}")
    return 0
