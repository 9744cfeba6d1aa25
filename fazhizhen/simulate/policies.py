"""The policies the simulator compares, and the pure decisions routing.py does not (yet) have."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping, Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from fazhizhen.services.routing import Candidate, pick_lawyer


class Policy(BaseModel):
    """One way of running the service: the settings and rules the simulator varies."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9_]+$")
    description: str = ""
    escalate_after_seconds: float = Field(default=900, gt=0)
    pool_sla_seconds: float = Field(default=900, gt=0)
    # None: no reminder; otherwise the reminder goes this long before escalate_at, as in the service
    remind_before_seconds: float | None = Field(default=300, ge=0)
    pool_offer: Literal["broadcast", "round_robin"] = "broadcast"
    offer_timeout_seconds: float = Field(default=180, gt=0)
    routing: Literal["load", "specialty"] = "load"
    pool_scale: float = Field(default=1.0, gt=0)


BASELINE = Policy(
    name="baseline",
    description="the service's defaults: 15-min window, reminder at 10 min, broadcast, 15-min pool window",
)

BUILTIN_POLICIES: tuple[Policy, ...] = (
    BASELINE,
    BASELINE.model_copy(
        update={
            "name": "window_10",
            "description": "community window 10 minutes (reminder at minute 5)",
            "escalate_after_seconds": 600.0,
        }
    ),
    BASELINE.model_copy(
        update={
            "name": "no_reminder",
            "description": "no reminder before escalation",
            "remind_before_seconds": None,
        }
    ),
    BASELINE.model_copy(
        update={
            "name": "round_robin",
            "description": "the pool offers a question to one member at a time, 3 min each",
            "pool_offer": "round_robin",
        }
    ),
    BASELINE.model_copy(
        update={
            "name": "specialty",
            "description": "prefer on-duty lawyers whose specialties match the category",
            "routing": "specialty",
        }
    ),
    BASELINE.model_copy(
        update={"name": "pool_x2", "description": "every pool twice as large", "pool_scale": 2.0}
    ),
)


def select_policies(available: Sequence[Policy], names: Sequence[str] | None) -> list[Policy]:
    """The policies to run, baseline first; `names` picks some (baseline is always kept first)."""
    by_name = {p.name: p for p in available}
    if "baseline" not in by_name:
        raise ValueError("the policies must include one named 'baseline'")
    if not names:
        chosen = [p.name for p in available]
    else:
        unknown = [n for n in names if n not in by_name]
        if unknown:
            raise ValueError(f"unknown policies: {', '.join(unknown)} (known: {', '.join(by_name)})")
        chosen = list(dict.fromkeys(names))
    rest = [n for n in chosen if n != "baseline"]
    return [by_name["baseline"], *(by_name[n] for n in rest)]


def pick_specialist(
    candidates: Sequence[Candidate], specialties: Mapping[int, frozenset[str]], category: str
) -> int | None:
    """Like pick_lawyer, but among the on-duty lawyers whose specialties cover the category, if any."""
    matching = [c for c in candidates if category in specialties.get(c.lawyer_id, frozenset())]
    return pick_lawyer(matching or candidates)


def next_in_rotation(members: Sequence[int], last_offered: int | None) -> int | None:
    """The pool member to offer a question to next: the lowest id after the last one offered, wrapping."""
    if not members:
        return None
    ordered = sorted(members)
    if last_offered is None:
        return ordered[0]
    return ordered[bisect_right(ordered, last_offered) % len(ordered)]
