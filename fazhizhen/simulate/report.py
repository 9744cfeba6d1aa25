"""The bureau's figures per policy: a terminal table, the JSON shape of the contract, an SVG chart."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from xml.sax.saxutils import escape

from fazhizhen.simulate.engine import PolicyResult

# the contract's keys, in its order; everything else measured follows as extra keys
CONTRACT_KEYS = (
    "avg_first_response_seconds",
    "p50_first_response_seconds",
    "p90_first_response_seconds",
    "within_window_rate",
    "escalation_rate",
    "pool_breach_rate",
    "max_load_over_fair_share",
)
_COUNTS = ("questions", "answered")


def to_json(results: Sequence[PolicyResult]) -> dict[str, Any]:
    """`{"policies": [...]}` as the contract prints it, baseline first, extra keys after the contract's."""
    policies: list[dict[str, Any]] = []
    for r in results:
        row: dict[str, Any] = {"name": r.policy.name}
        row.update({k: round(r.figures[k], 6) for k in CONTRACT_KEYS})
        for k, v in r.figures.items():
            if k not in row:
                row[k] = int(v) if k in _COUNTS else round(v, 6)
        row["description"] = r.policy.description
        row["settings"] = r.policy.model_dump(exclude={"name", "description"})
        policies.append(row)
    return {"policies": policies}


_COLUMNS: tuple[tuple[str, str, str], ...] = (
    # header, figure, format: "m" minutes, "%" rate, "x" ratio
    ("avg", "avg_first_response_seconds", "m"),
    ("p50", "p50_first_response_seconds", "m"),
    ("p90", "p90_first_response_seconds", "m"),
    ("p99", "p99_first_response_seconds", "m"),
    ("≤window", "within_window_rate", "%"),
    ("≤15min", "within_15_minutes_rate", "%"),
    ("escalated", "escalation_rate", "%"),
    ("pool breach", "pool_breach_rate", "%"),
    ("alerts", "alert_rate", "%"),
    ("answered", "response_rate", "%"),
    ("max/fair", "max_load_over_fair_share", "x"),
)


def _fmt(value: float, kind: str) -> str:
    if kind == "m":
        return f"{value / 60:.2f}"
    if kind == "%":
        return f"{value * 100:.1f}%"
    return f"{value:.1f}×"


def render_table(results: Sequence[PolicyResult], *, header: str = "") -> str:
    """A plain-text table, one row per policy; times in minutes."""
    names = [r.policy.name for r in results]
    rows = [[_fmt(r.figures[key], kind) for _, key, kind in _COLUMNS] for r in results]
    heads = [h for h, _, _ in _COLUMNS]
    name_w = max(len("policy"), *(len(n) for n in names))
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(heads)]
    lines = []
    if header:
        lines.append(header)
    lines.append(
        "  ".join(["policy".ljust(name_w), *(h.rjust(w) for h, w in zip(heads, widths, strict=True))])
    )
    lines.append("  ".join(["-" * name_w, *("-" * w for w in widths)]))
    for name, row in zip(names, rows, strict=True):
        lines.append("  ".join([name.ljust(name_w), *(c.rjust(w) for c, w in zip(row, widths, strict=True))]))
    lines.append(
        "first response in minutes (avg, p50, p90, p99); ≤window: answered within the policy's own "
        "community window; pool breach: share of escalated questions the pool left past its window; "
        "max/fair: the busiest lawyer's answers over the mean per lawyer"
    )
    return "\n".join(lines)


_PALETTE = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
)
_PANELS: tuple[tuple[str, str, str], ...] = (
    ("average first response (min)", "avg_first_response_seconds", "m"),
    ("p50 first response (min)", "p50_first_response_seconds", "m"),
    ("p90 first response (min)", "p90_first_response_seconds", "m"),
    ("p99 first response (min)", "p99_first_response_seconds", "m"),
    ("answered within window (%)", "within_window_rate", "%"),
    ("escalated to a pool (%)", "escalation_rate", "%"),
    ("pool window missed (% of escalated)", "pool_breach_rate", "%"),
    ("busiest lawyer / fair share (×)", "max_load_over_fair_share", "x"),
)


def _value(value: float, kind: str) -> float:
    return value / 60 if kind == "m" else value * 100 if kind == "%" else value


def render_svg(results: Sequence[PolicyResult], *, title: str) -> str:
    """A self-contained SVG: one small bar chart per figure, policies side by side in the same colours."""
    cols, panel_w, panel_h = 4, 250, 220
    width = cols * panel_w + 20
    legend: list[tuple[float, float, int]] = []
    x, y = 10.0, 38.0
    for i, r in enumerate(results):
        item_w = 40 + 7 * len(r.policy.name)
        if x + item_w > width - 10 and x > 10:
            x, y = 10.0, y + 18
        legend.append((x, y, i))
        x += item_w
    top = int(y) + 32
    rows = (len(_PANELS) + cols - 1) // cols
    height = top + rows * panel_h + 20
    n = max(len(results), 1)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text x="10" y="22" font-size="15" font-weight="bold">{escape(title)}</text>',
    ]
    for lx, ly, i in legend:
        colour = _PALETTE[i % len(_PALETTE)]
        out.append(f'<rect x="{lx:.0f}" y="{ly:.0f}" width="12" height="12" fill="{colour}"/>')
        label = escape(f"{i + 1} {results[i].policy.name}")
        out.append(f'<text x="{lx + 16:.0f}" y="{ly + 10:.0f}">{label}</text>')
    for p, (caption, key, kind) in enumerate(_PANELS):
        px = 10 + (p % cols) * panel_w
        py = top + (p // cols) * panel_h
        plot_x, plot_y, plot_w, plot_h = px + 10, py + 30, panel_w - 30, panel_h - 70
        values = [_value(r.figures[key], kind) for r in results]
        vmax = max([*values, 1e-9]) * 1.15
        out.append(f'<g><text x="{px + 10}" y="{py + 16}" font-weight="bold">{escape(caption)}</text>')
        out.append(
            f'<line x1="{plot_x}" y1="{plot_y + plot_h}" x2="{plot_x + plot_w}" y2="{plot_y + plot_h}" '
            'stroke="#888"/>'
        )
        slot = plot_w / n
        bar_w = slot * 0.7
        if values:
            base_y = plot_y + plot_h - plot_h * values[0] / vmax
            out.append(
                f'<line x1="{plot_x}" y1="{base_y:.1f}" x2="{plot_x + plot_w}" y2="{base_y:.1f}" '
                'stroke="#333" stroke-dasharray="3,3" stroke-width="0.8"/>'
            )
        for i, v in enumerate(values):
            h = plot_h * v / vmax
            bx = plot_x + i * slot + (slot - bar_w) / 2
            by = plot_y + plot_h - h
            colour = _PALETTE[i % len(_PALETTE)]
            text = f"{v:.1f}" if kind != "x" else f"{v:.1f}×"
            out.append(
                f'<rect x="{bx:.1f}" y="{by:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="{colour}">'
                f"<title>{escape(results[i].policy.name)}: {text}</title></rect>"
            )
            out.append(
                f'<text x="{bx + bar_w / 2:.1f}" y="{by - 3:.1f}" text-anchor="middle" '
                f'font-size="9">{text}</text>'
            )
            out.append(
                f'<text x="{bx + bar_w / 2:.1f}" y="{plot_y + plot_h + 13:.1f}" text-anchor="middle" '
                f'font-size="9">{i + 1}</text>'
            )
        out.append("</g>")
    out.append(
        f'<text x="10" y="{height - 6}" font-size="9" fill="#555">dashed line: baseline; '
        "fazhizhen simulate</text>"
    )
    out.append("</svg>")
    return "\n".join(out) + "\n"
