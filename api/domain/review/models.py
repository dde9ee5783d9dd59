"""Review campaigns, assessments (one household's survey in a campaign) and the household
status history that recognition writes."""

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import field_validator
from sqlalchemy import JSON, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from api.domain.base import Input, RecordMeta, enum_type, utc_field, utcnow
from api.domain.households.models import PovertyStatus
from api.domain.strict import Bool, Day, Version


class CampaignKind(StrEnum):
    PERIODIC = "periodic"
    REGULAR = "regular"


class CampaignState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Cause(StrEnum):
    NO_LAND = "no_land"
    NO_CAPITAL = "no_capital"
    NO_LABOUR = "no_labour"
    NO_TOOLS = "no_tools"
    NO_KNOWHOW = "no_knowhow"
    NO_SKILLS = "no_skills"
    ILLNESS = "illness"
    OTHER = "other"


class Need(StrEnum):
    HEALTH = "health"
    EDUCATION = "education"
    PRODUCTION = "production"
    CREDIT = "credit"
    HOUSING = "housing"
    JOBS = "jobs"
    OTHER = "other"


class State(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    AGREED = "agreed"
    POSTED = "posted"
    DISTRICT_REVIEWED = "district_reviewed"
    RECOGNISED = "recognised"
    CERTIFIED = "certified"
    REFUSED = "refused"


class Flag(StrEnum):
    NO_LABOUR_CAPACITY = "no_labour_capacity"
    ETHNIC_MINORITY = "ethnic_minority"
    FEMALE_HEAD = "female_head"
    MERITORIOUS = "meritorious"
    SOCIAL_PROTECTION = "social_protection"


class Movement(StrEnum):
    NEW_POOR = "new_poor"
    RE_POOR = "re_poor"
    NEAR_POOR_TO_POOR = "near_poor_to_poor"
    POOR_TO_NEAR_POOR = "poor_to_near_poor"
    NEW_NEAR_POOR = "new_near_poor"
    ESCAPED_POOR = "escaped_poor"
    ESCAPED_NEAR_POOR = "escaped_near_poor"
    UNCHANGED = "unchanged"
    OTHER = "other"


class CampaignFields(SQLModel):
    commune_code: str = Field(
        min_length=1, max_length=16, foreign_key="admin_unit.code", index=True
    )
    kind: CampaignKind = Field(sa_type=enum_type(CampaignKind))
    name: str = Field(min_length=1, max_length=200)
    opens_on: Day
    closes_on: Day = Field(description="Periodic: by 14 December; regular: the 15-day deadline")


class Campaign(CampaignFields, RecordMeta, table=True):
    __tablename__ = "review_campaign"

    id: uuid.UUID = Field(primary_key=True)
    unit_path: str = Field(max_length=200, index=True)
    standard_code: str = Field(max_length=32)
    state: CampaignState = Field(default=CampaignState.OPEN, sa_type=enum_type(CampaignState))
    created_by: str = Field(max_length=120)


class CampaignCreate(Input, CampaignFields):
    id: uuid.UUID | None = None
    standard_code: str | None = Field(
        default=None,
        max_length=32,
        description="Defaults to the standard in force on the closing date",
    )
    closes_on: Day | None = Field(  # type: ignore[assignment]
        default=None,
        description="Periodic: defaults to 14 December; regular: opening date + 15 days",
    )


class CampaignPublic(CampaignFields):
    id: uuid.UUID
    unit_path: str
    standard_code: str
    state: CampaignState
    created_by: str
    version: int
    created_at: datetime
    updated_at: datetime


class IndicatorAnswer(Input):
    deprived: Bool
    reason: str | None = Field(
        default=None, min_length=1, max_length=500, description="Required to override a derivation"
    )


class Answers(Input):
    """The reviewer's forms: quick screen (A), income or income-proxy score (B1), the
    deprivation indicators (B2), causes of poverty and support needs."""

    screened_out: Bool = Field(
        default=False, description="Form A: clearly not poor, no scoring needed"
    )
    monthly_income_per_capita: int | None = Field(default=None, ge=0, le=1_000_000_000)
    income_proxy_score: int | None = Field(default=None, ge=0, le=10_000)
    agricultural: Bool | None = Field(
        default=None, description="Works in agriculture, forestry, fishery or salt"
    )
    indicators: dict[str, IndicatorAnswer] = Field(
        default_factory=dict, description="Answers by indicator code; derived ones may be omitted"
    )
    causes: list[Cause] = Field(default_factory=list, max_length=8)
    needs: list[Need] = Field(default_factory=list, max_length=7)
    meritorious: Bool = Field(
        default=False, description="Household of a person with meritorious service"
    )
    social_protection: Bool = Field(default=False, description="Social-protection household")
    notes: str | None = Field(default=None, max_length=2000)

    @field_validator("causes", "needs")
    @classmethod
    def _unique(cls, value: list[Any]) -> list[Any]:
        return sorted(set(value))

    @field_validator("indicators")
    @classmethod
    def _codes(cls, value: dict[str, IndicatorAnswer]) -> dict[str, IndicatorAnswer]:
        if len(value) > 20 or any(not 1 <= len(k) <= 40 for k in value):
            raise ValueError("at most 20 indicator codes of 1 to 40 characters")
        return value


class IndicatorResult(SQLModel):
    code: str
    dimension: str
    derived: bool | None
    derivation: str | None = Field(
        description="How the facts gave `derived`; null when it would tell a field hidden from you"
    )
    answered: bool | None
    reason: str | None
    deprived: bool | None
    source: str = Field(description="derived, answered, override or missing")


class Meeting(Input):
    held_on: Day
    attendees: int = Field(ge=1, le=10_000)
    agreeing: int = Field(ge=0, le=10_000)
    chaired_by: str = Field(min_length=1, max_length=120)
    minutes_ref: str | None = Field(default=None, max_length=120)


class Complaint(Input):
    received_on: Day
    by: str = Field(min_length=1, max_length=120)
    content: str = Field(min_length=1, max_length=2000)
    outcome: str | None = Field(default=None, max_length=2000)


class Decision(Input):
    number: str = Field(min_length=1, max_length=60)
    decided_on: Day
    signer: str = Field(min_length=1, max_length=120)


class Certificate(Input):
    number: str = Field(min_length=1, max_length=60)
    issued_on: Day


class DistrictOpinion(Input):
    given_on: Day
    by: str = Field(min_length=1, max_length=120)
    agrees: Bool
    note: str | None = Field(default=None, max_length=2000)


class Assessment(RecordMeta, table=True):
    __tablename__ = "assessment"
    __table_args__ = (
        UniqueConstraint("campaign_id", "household_id", name="uq_assessment_campaign_household"),
        Index("ix_assessment_keyset", "created_at", "id"),
    )

    id: uuid.UUID = Field(primary_key=True)
    campaign_id: uuid.UUID = Field(foreign_key="review_campaign.id", index=True)
    household_id: uuid.UUID = Field(foreign_key="household.id", index=True)
    unit_path: str = Field(max_length=200, index=True)
    standard_code: str = Field(max_length=32)
    review_date: date
    area: str = Field(max_length=8)
    state: State = Field(default=State.DRAFT, sa_type=enum_type(State), index=True)
    surveyed_by: str = Field(max_length=120)
    surveyed_on: date
    answers: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    indicators: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    status: PovertyStatus | None = Field(default=None, sa_type=enum_type(PovertyStatus))
    deprivation_count: int = 0
    missing: list[str] = Field(default_factory=list, sa_type=JSON)
    explanation: str = Field(default="", max_length=500)
    meeting: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    posted_on: date | None = None
    complaints: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    district_opinion: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    decision: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    certificate: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    transitions: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)


class AssessmentCreate(Input):
    id: uuid.UUID | None = Field(default=None, description="Client-chosen id for offline drafts")
    campaign_id: uuid.UUID
    household_id: uuid.UUID
    surveyed_on: Day
    answers: Answers = Field(default_factory=Answers)


class AssessmentUpdate(Input):
    surveyed_on: Day | None = None
    answers: Answers | None = None
    version: Version | None = Field(default=None)


class Transition(SQLModel):
    at: datetime
    by: str
    action: str
    from_state: str
    to_state: str
    reason: str | None = None


class AssessmentPublic(SQLModel):
    id: uuid.UUID
    campaign_id: uuid.UUID
    household_id: uuid.UUID
    unit_path: str
    standard_code: str
    review_date: date
    area: str
    state: State
    surveyed_by: str
    surveyed_on: date
    answers: Answers
    indicators: list[IndicatorResult]
    status: PovertyStatus | None = Field(description="The class computed by the standard")
    deprivation_count: int
    missing: list[str] = Field(description="What must still be answered to classify")
    explanation: str
    meeting: Meeting | None
    posted_on: date | None
    complaints: list[Complaint]
    district_opinion: DistrictOpinion | None
    decision: Decision | None
    certificate: Certificate | None
    transitions: list[Transition]
    version: int
    created_at: datetime
    updated_at: datetime
    redacted: list[str] = Field(
        default_factory=list,
        description="Derivations withheld because they would tell personal fields hidden from you",
    )


class StatusRecord(SQLModel, table=True):
    """One period of a household's recognised status; periods are half-open
    [effective_from, effective_to) and never overlap."""

    __tablename__ = "household_status"
    __table_args__ = (
        Index("ix_household_status_span", "household_id", "effective_from"),
        Index("ix_household_status_report", "status", "effective_from", "effective_to"),
    )

    id: uuid.UUID = Field(primary_key=True)
    household_id: uuid.UUID = Field(foreign_key="household.id")
    unit_path: str = Field(max_length=200, index=True)
    status: PovertyStatus = Field(sa_type=enum_type(PovertyStatus))
    previous_status: PovertyStatus | None = Field(default=None, sa_type=enum_type(PovertyStatus))
    movement: Movement = Field(sa_type=enum_type(Movement))
    effective_from: date
    effective_to: date | None = None
    assessment_id: uuid.UUID | None = Field(default=None, foreign_key="assessment.id")
    standard_code: str = Field(max_length=32)
    decision_number: str | None = Field(default=None, max_length=60)
    flags: list[str] = Field(default_factory=list, sa_type=JSON)
    causes: list[str] = Field(default_factory=list, sa_type=JSON)
    deprived: list[str] = Field(default_factory=list, sa_type=JSON)
    recorded_at: datetime = utc_field(default_factory=utcnow)


class StatusPublic(SQLModel):
    household_id: uuid.UUID
    status: PovertyStatus
    previous_status: PovertyStatus | None
    movement: Movement
    effective_from: date
    effective_to: date | None
    assessment_id: uuid.UUID | None
    standard_code: str
    decision_number: str | None
    flags: list[Flag]
    causes: list[Cause]
    deprived: list[str]
    redacted: list[str] = Field(
        default_factory=list,
        description="Flags withheld (`flags.<flag>`) because they would tell personal fields "
        "hidden from you; listed whether or not the household has them",
    )


class StatusAsOf(SQLModel):
    household_id: uuid.UUID
    as_of: date
    status: PovertyStatus | None = Field(description="None: never recognised in any review")
    since: date | None
    escaped_on: date | None = Field(description="Last day it left the poor or near-poor list")
    newly_escaped: bool = Field(description="Escaped within the configured window before as_of")
    record: StatusPublic | None
