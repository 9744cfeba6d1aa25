"""Scenario 5, push: placeholder until the lawyer streams land (see run())."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import Bench, script_main
from bench.report import not_measured


async def run(bench: Bench) -> dict[str, Any]:
    reason = "the lawyer SSE streams have not landed on main yet"
    return {
        "title": "5. Push to lawyer streams",
        "figures": [not_measured(f"{n} streams, p99", reason) for n in (10, 100, 1000, 3000)],
    }


if __name__ == "__main__":
    script_main("push", run)
