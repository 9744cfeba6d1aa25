"""Routing rules as pure functions of `now`: who is on duty, who gets a question, when it escalates.

The service and the simulator (`fazhizhen simulate`) both call these, so a rule changed here changes
both. Nothing here reads a clock or touches a database.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

_EPOCH = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class DutySlot:
    """One roster line: a lawyer on duty for a community on a weekday (Mon=0) in a local window."""

    lawyer_id: int
    weekday: int | None = None
    start: time | None = None
    end: time | None = None

    @property
    def always(self) -> bool:
        """True for a slot with neither weekday nor window: on duty at all times."""
        return self.weekday is None and self.start is None


@dataclass(frozen=True, slots=True)
class Candidate:
    """A lawyer on duty with the questions open on their desk and when they were last given one."""

    lawyer_id: int
    open_questions: int
    last_assigned_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class PoolRef:
    """A pool as routing sees it: its id and the district it serves (None: the rest of the city)."""

    pool_id: int
    district_id: int | None


def _in_window(t: time, start: time, end: time) -> bool:
    return start <= t < end


def is_on_duty(slot: DutySlot, now: datetime, tz: ZoneInfo) -> bool:
    """Whether `slot` covers the instant `now` (aware), read in the roster's time zone.

    A window whose end is not after its start (22:00-08:00) runs past midnight: the part after
    midnight belongs to the slot's weekday, so Monday 22:00-08:00 covers Tuesday 03:00.
    A slot with a weekday but no window covers that whole local day.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    local = now.astimezone(tz)
    t, wd = local.time(), local.weekday()
    if slot.start is None or slot.end is None:
        return slot.weekday is None or slot.weekday == wd
    if slot.start < slot.end:
        return (slot.weekday is None or slot.weekday == wd) and _in_window(t, slot.start, slot.end)
    # overnight window
    if t >= slot.start and (slot.weekday is None or slot.weekday == wd):
        return True
    return t < slot.end and (slot.weekday is None or slot.weekday == (wd - 1) % 7)


def on_duty(slots: Iterable[DutySlot], now: datetime, tz: ZoneInfo) -> list[int]:
    """The distinct lawyers on duty at `now`, in roster order."""
    seen: dict[int, None] = {}
    for slot in slots:
        if is_on_duty(slot, now, tz):
            seen.setdefault(slot.lawyer_id, None)
    return list(seen)


def pick_lawyer(candidates: Sequence[Candidate]) -> int | None:
    """The on-duty lawyer to receive a new question.

    Fewest open questions; among equals the one given a question least recently (never-assigned first),
    then the lowest id. Without the middle rule a shared roster sends nearly everything to the lowest id.
    """
    if not candidates:
        return None
    best = min(
        candidates,
        key=lambda c: (c.open_questions, c.last_assigned_at is not None, c.last_assigned_at or _EPOCH, c.lawyer_id),
    )
    return best.lawyer_id


def escalate_at(created_at: datetime, window_seconds: float) -> datetime:
    """The level-1 deadline: when an unanswered question leaves the community lawyer for the pool."""
    return created_at + timedelta(seconds=window_seconds)


def alert_at(escalated_at: datetime, pool_sla_seconds: float) -> datetime:
    """The level-2 deadline: when a pool question still unanswered raises an alert to the bureau."""
    return escalated_at + timedelta(seconds=pool_sla_seconds)


def pool_for(district_id: int | None, pools: Sequence[PoolRef]) -> PoolRef | None:
    """The pool that serves a district: its own (lowest id) if it has one, else the city-wide pool."""
    own = [p for p in pools if p.district_id is not None and p.district_id == district_id]
    if own:
        return min(own, key=lambda p: p.pool_id)
    city = [p for p in pools if p.district_id is None]
    return min(city, key=lambda p: p.pool_id) if city else None


def is_due(deadline: datetime | None, now: datetime) -> bool:
    """Whether a deadline has passed at `now` (a deadline equal to now is due)."""
    return deadline is not None and deadline <= now


def resolved_level(
    *,
    escalated: bool,
    alerted_before_answer: bool,
    pool_district_id: int | None,
) -> str:
    """Where it was resolved: A community lawyer in window, B district pool, C city pool, D after alert."""
    if alerted_before_answer:
        return "D"
    if not escalated:
        return "A"
    return "B" if pool_district_id is not None else "C"
