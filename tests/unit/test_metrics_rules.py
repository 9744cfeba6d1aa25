"""Pure rules of the metrics: the month/day cover of a range, histogram percentiles, scorecards."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fazhizhen.services.metrics import cover, histogram_percentile, scorecard

BOUNDS = [0.0, 10.0, 20.0, 40.0, 80.0, 160.0]


@given(st.dates(date(2020, 1, 1), date(2030, 1, 1)), st.integers(0, 800))
def test_cover_partitions_the_range(start: date, length: int) -> None:
    end = start + timedelta(days=length)
    months, days = cover(start, end)
    covered: list[date] = list(days)
    for m in months:
        assert m.day == 1
        d = m
        while d.month == m.month:
            covered.append(d)
            d += timedelta(days=1)
    assert sorted(covered) == [start + timedelta(days=i) for i in range(length + 1)]
    assert len(days) <= 62


def test_cover_examples() -> None:
    assert cover(date(2026, 1, 1), date(2026, 12, 31)) == ([date(2026, m, 1) for m in range(1, 13)], [])
    months, days = cover(date(2026, 1, 30), date(2026, 3, 2))
    assert months == [date(2026, 2, 1)]
    assert days == [date(2026, 1, 30), date(2026, 1, 31), date(2026, 3, 1), date(2026, 3, 2)]


def _percentile_cont(values: list[float], p: float) -> float:
    s = sorted(values)
    h = p * (len(s) - 1)
    lo = int(h)
    return s[lo] + (h - lo) * (s[min(lo + 1, len(s) - 1)] - s[lo])


@pytest.mark.parametrize("seed", range(20))
def test_histogram_percentile_within_a_bucket_of_percentile_cont(seed: int) -> None:
    rng = random.Random(seed)
    values = [min(rng.expovariate(1 / 30), 300) for _ in range(rng.randrange(1, 400))]
    counts = [0] * len(BOUNDS)
    for v in values:
        counts[max(i for i, b in enumerate(BOUNDS) if b <= v)] += 1
    for p in (0.5, 0.9, 0.99):
        exact = _percentile_cont(values, p)
        got = histogram_percentile(counts, BOUNDS, p, max(values))
        assert got is not None
        i = max(i for i, b in enumerate(BOUNDS) if b <= exact)
        width = (BOUNDS[i + 1] if i + 1 < len(BOUNDS) else max(values)) - BOUNDS[i]
        assert abs(got - exact) <= width + 0.1, (p, got, exact)


def test_histogram_percentile_edge_cases() -> None:
    assert histogram_percentile(None, BOUNDS, 0.5, None) is None
    assert histogram_percentile([0] * 6, BOUNDS, 0.5, None) is None
    assert histogram_percentile([0, 0, 0, 0, 0, 1], BOUNDS, 0.9, 500.0) == pytest.approx(330.0)


def test_scorecard_weights_and_null_score() -> None:
    row = {"lawyer_id": 1, "name": "张", "assigned": 4, "answered": 3, "in_window": 2, "satisfied": 1,
           "satisfaction_base": 2, "response_ms": 600_000}  # fmt: skip
    card = scorecard(row)
    assert (card["response_rate"], card["completion_rate"], card["satisfaction_rate"]) == (0.5, 0.75, 0.5)
    assert card["score"] == 10 * 0.5 + 40 * 0.75 + 50 * 0.5
    assert scorecard(row | {"satisfaction_base": 0, "satisfied": 0})["score"] is None
