import uuid
from datetime import date

from pydantic import BaseModel, Field

from api.domain.benefits.policies import Agency, Confidence, SubjectKind


class Reason(BaseModel):
    code: str = Field(description="status, escaped_within, age, need, no_need, not_eligible, …")
    message: str = Field(description="In Vietnamese, for the officer")


class Verdict(BaseModel):
    """One policy for one subject on one day: eligible (the population), needing (the need or
    application on-need policies ask for is recorded), entitled (both), and why."""

    policy: str
    version: str
    name_vi: str
    agency: Agency
    subject_kind: SubjectKind
    subject_id: uuid.UUID
    household_id: uuid.UUID
    eligible: bool
    needing: bool
    entitled: bool
    clause: str | None = Field(description="The way the subject qualified")
    amount_vnd: int | None = Field(description="Per the policy's unit (a month, a loan cap, …)")
    parameters: dict[str, float] = Field(description="In force on the day, top-ups included")
    reasons: list[Reason]
    legal_basis: str
    confidence: Confidence


class Eligibility(BaseModel):
    household_id: uuid.UUID
    as_of: date
    verdicts: list[Verdict] = Field(description="Policies in force on the day, subject by subject")
    redacted: list[str] = Field(
        default_factory=list,
        description="Policies left out: their verdicts rest on fields hidden from you",
    )
