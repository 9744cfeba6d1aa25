"""Request bodies and queries of the security endpoints (login by WeChat, accounts, audit)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from fazhizhen.models.requests import Body, Id


class WeChatLoginIn(Body):
    code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]


class PasswordChangeIn(Body):
    old_password: Annotated[str, StringConstraints(min_length=1, max_length=1024)]
    new_password: Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class AccountPatchIn(Body):
    active: bool | None = None
    password: Annotated[str, StringConstraints(min_length=1, max_length=1024)] | None = None

    @model_validator(mode="after")
    def _something(self) -> AccountPatchIn:
        if self.active is None and self.password is None:
            raise ValueError("give active and/or password")
        return self


class AuditQuery(BaseModel):
    """Filters of GET /admin/audit; dates are whole days in the service's time zone."""

    model_config = ConfigDict(extra="forbid")
    actor_role: Literal["resident", "lawyer", "worker", "bureau"] | None = None
    actor_id: Id | None = None
    action: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None
    target_type: Annotated[str, StringConstraints(min_length=1, max_length=50)] | None = None
    target_id: Id | None = None
    success: bool | None = None
    client_addr: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    from_: datetime | date | None = Field(None, alias="from")
    to: datetime | date | None = None
    before_id: Id | None = None
    limit: Annotated[int, Field(ge=1, le=500)] = 100
