"""A synthetic city as a file: districts, demand, rosters, pools and how lawyers behave."""

from __future__ import annotations

import json
import tomllib
from datetime import datetime, time
from importlib import resources
from pathlib import Path
from typing import Any, Self
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from fazhizhen.services.categories import CATEGORIES
from fazhizhen.simulate.policies import Policy

BUNDLED = ("default", "small")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_len(values: list[float], n: int, what: str) -> list[float]:
    if len(values) != n:
        raise ValueError(f"{what} needs {n} values, got {len(values)}")
    if any(v < 0 for v in values) or sum(values) <= 0:
        raise ValueError(f"{what} must be non-negative and not all zero")
    return values


class District(_Model):
    """A district: its communities and the size of its own pool (0: the city-wide pool serves it)."""

    name: str
    communities: int = Field(ge=1)
    pool_size: int = Field(default=0, ge=0)


class Demand(_Model):
    """When questions arrive, where from and about what."""

    questions_per_day: float = Field(gt=0)
    weekday_weights: list[float]
    hourly_weekday: list[float]
    hourly_weekend: list[float]
    category_mix: dict[str, float]
    # spread (sigma of a lognormal) of demand between communities: some are far busier than others
    community_weight_sigma: float = Field(default=0.5, ge=0)

    @field_validator("weekday_weights")
    @classmethod
    def _weekdays(cls, v: list[float]) -> list[float]:
        return _check_len(v, 7, "weekday_weights")

    @field_validator("hourly_weekday", "hourly_weekend")
    @classmethod
    def _hours(cls, v: list[float]) -> list[float]:
        return _check_len(v, 24, "hourly weights")

    @field_validator("category_mix")
    @classmethod
    def _mix(cls, v: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(v) - set(CATEGORIES))
        if unknown:
            raise ValueError(f"unknown categories: {', '.join(unknown)}")
        _check_len(list(v.values()), len(v), "category_mix")
        return v


class Rosters(_Model):
    """Who is on the community rosters and when, and how big the city-wide pool is."""

    lawyers: int = Field(ge=1)
    duty_start: time
    duty_end: time
    # share of communities whose lawyers are all on duty together; the others rotate one lawyer a day
    shared_share: float = Field(ge=0, le=1)
    # share of communities whose roster also covers Saturday and Sunday
    weekend_cover_share: float = Field(ge=0, le=1)
    city_pool_size: int = Field(ge=0)
    specialties_min: int = Field(default=1, ge=0)
    specialties_max: int = Field(default=3, ge=0)


class Profile(_Model):
    """A kind of lawyer: how fast they answer, how often they miss, how they react to reminders and pools."""

    name: str
    share: float = Field(gt=0)
    answer_median_minutes: float = Field(gt=0)
    answer_sigma: float = Field(ge=0)
    miss_chance: float = Field(ge=0, le=1)
    reminder_reaction: float = Field(ge=0, le=1)
    reaction_median_minutes: float = Field(gt=0)
    claim_median_minutes: float = Field(gt=0)
    claim_sigma: float = Field(ge=0)
    # chance a pool member who is around still leaves a broadcast or an offer to others
    pool_skip_chance: float = Field(ge=0, le=1)
    availability_scale: float = Field(default=1.0, ge=0)


class Behaviour(_Model):
    """The behaviour model shared by all lawyers, and the profiles they are drawn from."""

    # chance a lawyer is looking at the app, by local hour (pool members are on no roster)
    availability_by_hour: list[float]
    profiles: list[Profile] = Field(min_length=1)
    # the calibrated knob: multiplies every profile's answer median (see docs/SIMULATION.md)
    answer_time_scale: float = Field(default=1.0, gt=0)
    lawyer_speed_sigma: float = Field(default=0.25, ge=0)
    reaction_sigma: float = Field(default=0.5, ge=0)
    specialty_speedup: float = Field(default=0.75, gt=0)
    specialty_miss_factor: float = Field(default=0.7, ge=0)
    pool_answer_median_minutes: float = Field(gt=0)
    pool_answer_sigma: float = Field(ge=0)
    bureau_followup_median_minutes: float = Field(gt=0)
    bureau_followup_sigma: float = Field(ge=0)

    @field_validator("availability_by_hour")
    @classmethod
    def _hours(cls, v: list[float]) -> list[float]:
        _check_len(v, 24, "availability_by_hour")
        if any(x > 1 for x in v):
            raise ValueError("availability_by_hour values are probabilities (0..1)")
        return v


class Scenario(_Model):
    """Everything the simulator needs besides the policies and the seed."""

    name: str
    description: str = ""
    timezone: str = "Asia/Shanghai"
    start: datetime
    days: int = Field(default=30, ge=1)
    seed: int = 1
    districts: list[District] = Field(min_length=1)
    demand: Demand
    rosters: Rosters
    behaviour: Behaviour
    policies: list[Policy] | None = None

    @field_validator("start")
    @classmethod
    def _aware(cls, v: datetime) -> datetime:
        if v.tzinfo is None:
            raise ValueError("start must carry a UTC offset")
        return v

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        ZoneInfo(v)
        return v

    @model_validator(mode="after")
    def _enough_lawyers(self) -> Self:
        communities = sum(d.communities for d in self.districts)
        if self.rosters.lawyers < communities:
            raise ValueError(f"{self.rosters.lawyers} lawyers cannot staff {communities} communities")
        return self

    @property
    def tz(self) -> ZoneInfo:
        """The roster time zone."""
        return ZoneInfo(self.timezone)


def parse_scenario(text: str, *, toml: bool = False) -> Scenario:
    """A scenario from JSON (or TOML) text."""
    data: dict[str, Any] = tomllib.loads(text) if toml else json.loads(text)
    return Scenario.model_validate(data)


def load_scenario(ref: str | Path) -> Scenario:
    """A scenario from a file path (.json or .toml) or a bundled name (`default`, `small`)."""
    path = Path(ref)
    if not path.exists() and str(ref) in BUNDLED:
        text = resources.files("fazhizhen.simulate").joinpath("scenarios", f"{ref}.json").read_text("utf-8")
        return parse_scenario(text)
    return parse_scenario(path.read_text("utf-8"), toml=path.suffix.lower() == ".toml")
