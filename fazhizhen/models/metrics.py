"""Query strings and bodies of the bureau's metrics, export and callback calls."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from fazhizhen.models.requests import Body, Id


class MetricsQuery(BaseModel):
    """`from`/`to` (inclusive local dates), a place and a category; unknown parameters are refused."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    date_from: date | None = Field(None, alias="from")
    date_to: date | None = Field(None, alias="to")
    district_id: Id | None = None
    street_id: Id | None = None
    community_id: Id | None = None
    category: Annotated[str, StringConstraints(max_length=32)] | None = None
    source: Literal["rollup", "raw"] = "rollup"


class CallbackQuery(MetricsQuery):
    status: Literal["open", "assigned", "done"] | None = None


class CallbackAssignIn(Body):
    assignee_id: Id | None = None


class CallbackOutcomeIn(Body):
    result: Literal["resolved", "explained", "referred", "unreachable", "other"]
    outcome: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None
