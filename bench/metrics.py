"""Scenario 4, metrics: placeholder until the rollups land (see run())."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import Bench, script_main
from bench.report import not_measured


async def run(bench: Bench) -> dict[str, Any]:
    reason = "the metrics rollups have not landed on main yet"
    return {
        "title": "4. Metrics over 10 million questions",
        "figures": [not_measured(f"GET /metrics/{n}", reason) for n in ("summary", "categories", "daily")],
    }


if __name__ == "__main__":
    script_main("metrics", run)
