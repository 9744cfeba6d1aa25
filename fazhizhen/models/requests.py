"""Request bodies and query strings, validated with pydantic v2 (extra fields are refused)."""

from __future__ import annotations

import re
from datetime import time
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from fazhizhen.services.categories import CATEGORIES

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Id = Annotated[int, Field(ge=1, le=2**62)]
Content = Annotated[str, StringConstraints(strip_whitespace=True, min_length=5, max_length=5000)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class Body(BaseModel):
    """Base of every request body: unknown fields are an error, strings are not coerced from numbers,
    and no text holds a NUL character (PostgreSQL cannot store one: it would fail the write)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    @field_validator("*")
    @classmethod
    def _no_nul(cls, v: object) -> object:
        if isinstance(v, str) and "\x00" in v:
            raise ValueError("text must not contain a NUL character")
        return v


def _check_category(v: str | None) -> str | None:
    if v is not None and v not in CATEGORIES:
        raise ValueError(f"unknown category; one of {', '.join(CATEGORIES)}")
    return v


class LoginIn(Body):
    username: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class DevLoginIn(Body):
    openid: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]


class DistrictIn(Body):
    name: Name


class StreetIn(Body):
    district_id: Id
    name: Name


class CommunityIn(Body):
    street_id: Id
    name: Name


class LawyerIn(Body):
    name: Name
    username: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=64)]
    password: Annotated[str, StringConstraints(min_length=10, max_length=1024)]
    firm: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    license_no: Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)] | None = None
    phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)] | None = None
    specialties: list[str] = Field(default_factory=list, max_length=len(CATEGORIES))

    @field_validator("specialties")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        for code in v:
            _check_category(code)
        return list(dict.fromkeys(v))

    @model_validator(mode="after")
    def _password_not_username(self) -> LawyerIn:
        if self.password.strip().lower() == self.username.lower():
            raise ValueError("password must not be the username")
        return self


class DutyIn(Body):
    lawyer_id: Id
    weekday: Annotated[int, Field(ge=0, le=6)] | None = None
    start: str | None = None
    end: str | None = None

    @field_validator("start", "end")
    @classmethod
    def _hhmm(cls, v: str | None) -> str | None:
        if v is not None and not _HHMM.match(v):
            raise ValueError("expected HH:MM (00:00-23:59)")
        return v

    @model_validator(mode="after")
    def _both_or_none(self) -> DutyIn:
        if (self.start is None) != (self.end is None):
            raise ValueError("start and end go together")
        if self.start is not None and self.start == self.end:
            raise ValueError("start and end must differ")
        return self

    def window(self) -> tuple[time | None, time | None]:
        """The window as times (None, None for a whole day)."""
        if self.start is None or self.end is None:
            return None, None
        return time.fromisoformat(self.start), time.fromisoformat(self.end)


class PoolIn(Body):
    name: Name
    district_id: Id | None = None


class PoolMemberIn(Body):
    lawyer_id: Id


class QuestionIn(Body):
    community_id: Id
    content: Content
    category: str | None = None

    @field_validator("category")
    @classmethod
    def _known(cls, v: str | None) -> str | None:
        return _check_category(v)


class MessageIn(Body):
    content: ShortText


class AnswerIn(Body):
    content: ShortText
    kind: Literal["answer", "clarification"] = "answer"


class AdoptIn(Body):
    answer_id: Id


class RatingIn(Body):
    score: Annotated[int, Field(ge=1, le=5)]
    comment: Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)] | None = None


class Page(BaseModel):
    """Keyset paging for lists: `limit` rows before `before_id`."""

    model_config = ConfigDict(extra="ignore")
    limit: Annotated[int, Field(ge=1, le=200)] = 50
    before_id: Id | None = None
