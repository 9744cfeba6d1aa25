"""Query strings of the resolution-level metrics."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from fazhizhen.models.requests import Id
from fazhizhen.services.categories import CATEGORIES


class LevelsQuery(BaseModel):
    """`from`, `to` (local dates, inclusive; default the last 30 days) and an optional place."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    start: date | None = Field(None, alias="from")
    end: date | None = Field(None, alias="to")
    district_id: Id | None = None
    street_id: Id | None = None
    community_id: Id | None = None

    @model_validator(mode="after")
    def _ordered(self) -> LevelsQuery:
        if self.start and self.end and self.start > self.end:
            raise ValueError("from must not be after to")
        return self


class LevelsBreakdownQuery(LevelsQuery):
    by: Literal["district", "street", "community"] = "district"
    category: str | None = None

    @field_validator("category")
    @classmethod
    def _known(cls, v: str | None) -> str | None:
        if v is not None and v not in CATEGORIES:
            raise ValueError(f"unknown category; one of {', '.join(CATEGORIES)}")
        return v
