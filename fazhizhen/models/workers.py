"""Request bodies of the community-worker calls: workers, offline questions, notes, referrals."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from fazhizhen.models.requests import Body, Id, Name, QuestionIn, ShortText

REFERRAL_TARGETS = ("mediation", "legal_aid", "hotline_12345", "litigation")
ReferralTo = Literal["mediation", "legal_aid", "hotline_12345", "litigation"]
Outcome = Literal["resolved", "unresolved", "withdrawn"]
Note = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
# mobile (13800138000, +86 138 0013 8000) or landline (010-12345678, 0755 1234 5678 转 123)
_PHONE = re.compile(r"^\+?[0-9][0-9 ()\-]{4,30}$")
CommunityIds = Annotated[list[Id], Field(min_length=1, max_length=200)]


class WorkerIn(Body):
    name: Name
    username: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=64)]
    password: Annotated[str, StringConstraints(min_length=10, max_length=1024)]
    community_ids: CommunityIds
    phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)] | None = None

    @model_validator(mode="after")
    def _password_not_username(self) -> WorkerIn:
        if self.password.strip().lower() == self.username.lower():
            raise ValueError("password must not be the username")
        return self


class WorkerCommunitiesIn(Body):
    community_ids: CommunityIds


class WorkerQuestionIn(QuestionIn):
    """A question a worker enters for a resident who cannot use the mini-program."""

    resident_name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)] | None = None
    resident_phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)] | None = None

    @field_validator("resident_phone")
    @classmethod
    def _phone(cls, v: str | None) -> str | None:
        if v is not None and not _PHONE.match(v):
            raise ValueError("expected a phone number, e.g. 13800138000 or 010-12345678")
        return v


class NoteIn(Body):
    content: ShortText


class ReferralIn(Body):
    to: ReferralTo
    note: Note | None = None


class ReferralOutcomeIn(Body):
    outcome: Outcome
    note: Note | None = None


class WorkerQuestionsQuery(BaseModel):
    """Filters and keyset paging of GET /worker/questions."""

    model_config = ConfigDict(extra="ignore")
    community_id: Id | None = None
    status: Literal["pending", "escalated", "claimed", "answered", "closed"] | None = None
    limit: Annotated[int, Field(ge=1, le=200)] = 50
    before_id: Id | None = None


class WorkerReferralsQuery(BaseModel):
    """GET /worker/referrals: `open=true` for those without an outcome yet; keyset paging."""

    model_config = ConfigDict(extra="ignore")
    open: bool = False
    limit: Annotated[int, Field(ge=1, le=200)] = 50
    before_id: Id | None = None
