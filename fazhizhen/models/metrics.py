"""Query strings and bodies of the bureau's metrics, export and callback calls."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from fazhizhen.models.requests import Body, Id

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date(value: object) -> object:
    """Only YYYY-MM-DD (or a date): lax parsing would read `to=0` as 1970-01-01, a Unix timestamp."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        return value
    raise ValueError("expected a date as YYYY-MM-DD")


# A local calendar date (Asia/Shanghai) written YYYY-MM-DD; anything else is 422 naming the field.
IsoDate = Annotated[date, BeforeValidator(_iso_date), Field(json_schema_extra={"format": "date"})]


class MetricsQuery(BaseModel):
    """`from`/`to` (inclusive local dates), a place and a category; unknown parameters are refused."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    date_from: IsoDate | None = Field(None, alias="from")
    date_to: IsoDate | None = Field(None, alias="to")
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
