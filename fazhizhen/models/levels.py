"""Query strings of the resolution-level metrics."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from fazhizhen.models.metrics import IsoDate
from fazhizhen.models.requests import Id
from fazhizhen.services.categories import CATEGORIES


class LevelsQuery(BaseModel):
    """`from`, `to` (local dates YYYY-MM-DD, inclusive; default the last 30 days) and an optional place;
    `source=raw` answers from the raw tables instead of the rollups (exact, slow over long ranges)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    start: IsoDate | None = Field(None, alias="from")
    end: IsoDate | None = Field(None, alias="to")
    district_id: Id | None = None
    street_id: Id | None = None
    community_id: Id | None = None
    source: Literal["rollup", "raw"] = "rollup"


class LevelsBreakdownQuery(LevelsQuery):
    by: Literal["district", "street", "community"] = "district"
    category: str | None = None

    @field_validator("category")
    @classmethod
    def _known(cls, v: str | None) -> str | None:
        if v is not None and v not in CATEGORIES:
            raise ValueError(f"unknown category; one of {', '.join(CATEGORIES)}")
        return v
