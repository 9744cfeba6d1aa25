"""Every benchmark scenario at tiny scale, so none rots. Timing is never asserted here (benchmarks are
not tests); only the correctness figures each scenario reports (nothing lost, nothing claimed twice)."""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bench import report
from bench.harness import Bench
from bench.run_all import SCENARIOS


@pytest.fixture
async def bench(server_dsn: str, template_dsn: str, tmp_path: Path) -> AsyncIterator[Bench]:
    b = Bench(server_dsn, work_dir=tmp_path, quick=True)
    try:
        yield b
    finally:
        await b.cleanup()


@pytest.mark.parametrize("name", SCENARIOS)
async def test_scenario_runs_at_small_scale(bench: Bench, name: str) -> None:
    result: dict[str, Any] = await importlib.import_module(f"bench.{name}").run(bench)
    assert result["title"] and result["figures"]
    measured = [f for f in result["figures"] if f["value"] is not None]
    assert measured or all(f["note"].startswith("not measured") for f in result["figures"])
    failed = [f["name"] for f in result["figures"] if f["must"] and not f["met"]]
    assert not failed, failed
    assert "| figure |" in report.render({name: result}, report.machine())


def test_report_keeps_hand_written_sections(tmp_path: Path) -> None:
    doc = tmp_path / "BENCHMARKS.md"
    doc.write_text(
        f"# Benchmarks\n\nintro\n\n{report.BEGIN}\nold figures\n{report.END}\n\n## Notify options\n\nkept\n"
    )
    figure = report.fig("x", 2.0, "ms", anchor="y", anchor_value=4.0)
    report.write({"s": {"title": "S", "figures": [figure]}}, report.machine(), doc)
    text = doc.read_text()
    assert "intro" in text and "## Notify options\n\nkept" in text
    assert "old figures" not in text and "| x | 2 ms | y: 4 | 0.5× |" in text
    report.write({"s": {"title": "S", "figures": [figure]}}, report.machine(), doc)
    assert doc.read_text().count(report.BEGIN) == 1
    doc.write_text("# Benchmarks\n\n## Notify options\n\nkept\n")  # someone wrote first, no markers
    report.write({"s": {"title": "S", "figures": [figure]}}, report.machine(), doc)
    text = doc.read_text()
    assert text.index(report.END) < text.index("## Notify options") and text.endswith("kept\n")
