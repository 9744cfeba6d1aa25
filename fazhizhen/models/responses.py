"""Response shapes (CONTRACT.md), declared once: the OpenAPI document and the schema tests read them.

Handlers still build plain dicts; these models describe them. Extra fields are allowed, as the
contract welcomes additions, so another engineer adding a field never breaks a client's schema.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["resident", "lawyer", "worker", "bureau"]
Status = Literal["pending", "escalated", "claimed", "answered", "closed"]
Level = Literal["A", "B", "C", "D"]


class Out(BaseModel):
    """Base of every response body: fields beyond the declared ones are allowed."""

    model_config = ConfigDict(extra="allow")


# --- errors and service ---------------------------------------------------------------------------


class ErrorDetail(Out):
    field: str | None = Field(None, description="the offending field, dotted for nested ones")
    message: str


class ErrorBody(Out):
    code: str = Field(description="stable machine-readable code, e.g. `not_found`, `invalid_input`")
    message: str = Field(description="human-readable message (Chinese)")
    details: list[ErrorDetail]


class ErrorOut(Out):
    """The one error shape of every 4xx/5xx response."""

    error: ErrorBody


class HealthOut(Out):
    status: Literal["ok"]


class ReadyOut(Out):
    status: Literal["ok", "unavailable"]
    database: str = Field(description="`ok`, or the kind of failure")


# --- auth -----------------------------------------------------------------------------------------


class LoginOut(Out):
    token: str
    role: Role
    user_id: int
    expires_at: datetime


class ResidentLoginOut(Out):
    token: str
    role: Literal["resident"]
    resident_id: int
    expires_at: datetime | None = None


# --- administration -------------------------------------------------------------------------------


class DistrictOut(Out):
    id: int
    name: str
    created_at: datetime


class StreetOut(Out):
    id: int
    district_id: int
    name: str
    created_at: datetime


class CommunityOut(Out):
    id: int
    street_id: int
    name: str
    created_at: datetime
    district_id: int | None = Field(None, description="present in lists")


class LawyerOut(Out):
    id: int
    username: str
    name: str
    firm: str | None
    license_no: str | None
    phone: str | None
    specialties: list[str]
    active: bool
    created_at: datetime
    pool_ids: list[int] | None = Field(None, description="present in lists")
    open_questions: int | None = Field(None, description="present in lists")


class DutyOut(Out):
    id: int
    community_id: int
    lawyer_id: int
    weekday: int | None = Field(description="0-6, Monday = 0; null: every day")
    start: str | None = Field(description="HH:MM local time; null: the whole day")
    end: str | None
    always: bool
    created_at: datetime


class PoolOut(Out):
    id: int
    name: str
    district_id: int | None
    created_at: datetime
    member_ids: list[int]
    waiting: int | None = Field(None, description="escalated questions not yet claimed (in lists)")


# --- questions ------------------------------------------------------------------------------------


class CategoryOut(Out):
    code: str
    name: str


class MessageOut(Out):
    id: int
    author_role: Literal["resident", "lawyer", "worker"]
    author_id: int | None
    kind: str = Field(description="answer, clarification or followup")
    content: str | None = Field(description="null once the author's data was erased")
    created_at: datetime


class QuestionOut(Out):
    """A question with its thread (personal numbers masked unless the caller may see them)."""

    id: int
    community_id: int
    category: str
    content: str | None
    status: Status
    assigned_lawyer_id: int | None
    created_at: datetime
    escalate_at: datetime | None
    escalated_at: datetime | None
    first_answered_at: datetime | None
    response_seconds: float | None
    adopted_answer_id: int | None
    rating: int | None
    resolved_level: Level | None
    messages: list[MessageOut]


class QueueOut(Out):
    assigned: list[QuestionOut] = Field(description="assigned to me, unanswered, soonest deadline first")
    pool: list[QuestionOut] = Field(description="escalated in my pools, unclaimed, oldest first")


class EventOut(Out):
    id: int
    kind: str
    level: int | None
    actor_role: str
    actor_id: int | None
    data: dict[str, Any]
    created_at: datetime


# --- community workers ----------------------------------------------------------------------------


class WorkerOut(Out):
    id: int
    username: str
    name: str
    phone: str | None
    active: bool
    created_at: datetime
    community_ids: list[int]


class NoteOut(Out):
    id: int
    question_id: int
    author_role: Literal["worker", "lawyer"]
    author_id: int | None
    content: str | None
    created_at: datetime
    author_name: str | None = None


class ReferralOut(Out):
    id: int
    question_id: int
    to: Literal["mediation", "legal_aid", "hotline_12345", "litigation"]
    to_name: str
    note: str | None
    author_role: str
    author_id: int | None
    created_at: datetime
    outcome: Literal["resolved", "unresolved", "withdrawn"] | None
    outcome_note: str | None
    outcome_by: int | None
    outcome_at: datetime | None


class OfflineResidentOut(Out):
    name: str | None = Field(description="masked (张**) unless the caller entered it or is the assignee")
    phone: str | None


class StaffQuestionOut(QuestionOut):
    """A question as staff see it: who entered it for an offline resident, notes and referrals."""

    asked_by_worker_id: int | None
    offline_resident: OfflineResidentOut | None
    notes: list[NoteOut]
    referrals: list[ReferralOut]


# --- resolution levels ----------------------------------------------------------------------------


class LevelOut(Out):
    level: Level
    count: int
    share: float = Field(description="of the resolved questions, 0..1")


class LevelCounts(Out):
    A: int
    B: int
    C: int
    D: int


class LevelTotalOut(Out):
    questions: int
    resolved: int
    levels: LevelCounts
    ab_share: float | None = Field(description="A+B over resolved; null with none resolved")
    meets_goal: bool


class LevelRowOut(LevelTotalOut):
    district_id: int
    district_name: str
    street_id: int | None
    street_name: str | None
    community_id: int | None
    community_name: str | None
    unresolved: int


class LevelsBreakdownOut(Out):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    start: date = Field(alias="from")
    end: date = Field(alias="to")
    by: Literal["district", "street", "community"]
    goal_ab_share: float
    total: LevelTotalOut
    rows: list[LevelRowOut]


# --- the bureau's metrics ---------------------------------------------------------------------------


class SummaryOut(Out):
    """The KPI figures (rates 0..1, null without a denominator); more figures beside these."""

    questions: int
    answered: int
    response_rate: float | None
    avg_response_seconds: float | None
    p50_response_seconds: float | None
    p90_response_seconds: float | None
    within_sla_rate: float | None
    escalated: int
    escalation_rate: float | None
    adopted: int
    adoption_rate: float | None
    avg_rating: float | None


class CategoryCountOut(Out):
    category: str
    name: str
    count: int
    share: float


class DailyOut(Out):
    date: date
    questions: int
    answered: int
    escalated: int
    avg_response_seconds: float | None


class LawyerScoreOut(Out):
    lawyer_id: int
    name: str
    assigned: int
    answered: int
    response_rate: float | None
    completion_rate: float | None
    satisfaction_rate: float | None
    score: float | None = Field(description="10·response + 40·completion + 50·satisfaction; null unrated")


class PlacesOut(Out):
    level: Literal["district", "street", "community"]
    filters: dict[str, Any]
    items: list[dict[str, Any]] = Field(description="the summary figures of each place, with level, id, name")


class BucketOut(Out):
    from_seconds: float
    to_seconds: float | None
    count: int


class HistogramOut(Out):
    window_seconds: float
    buckets: list[BucketOut]
    filters: dict[str, Any]


class OpenEscalationOut(Out):
    id: int
    category: str
    category_name: str


class CallbackOut(Out):
    id: int
    question_id: int
    status: str
    created_at: datetime


# --- notifications ----------------------------------------------------------------------------------


class WebhookOut(Out):
    id: int
    url: str
    events: list[str]
    description: str | None
    active: bool
    created_at: datetime


class OutboxOut(Out):
    counts: list[dict[str, Any]] = Field(description="rows per channel and status: {channel, status, n}")
    items: list[dict[str, Any]]
