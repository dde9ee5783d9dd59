import uuid
from datetime import date

from pydantic import BaseModel, Field

from api.domain.benefits.policies import SubjectKind


class CoverageRow(BaseModel):
    """Distinct subjects. Counts under the threshold are withheld (null) for outside readers."""

    unit_code: str = Field(description="The commune the households belong to today")
    eligible: int | None
    needing: int | None = Field(description="Eligible with the need or application recorded")
    entitled: int | None
    delivered: int | None = Field(description="Entitled and served")
    gap: int | None = Field(description="Entitled, not served")
    leakage: int | None = Field(description="Served, not entitled")
    rate: float | None = Field(description="delivered / entitled, summed before dividing")


class GapEntry(BaseModel):
    subject_kind: SubjectKind
    subject_id: uuid.UUID
    household_id: uuid.UUID
    unit_path: str


class LeakEntry(BaseModel):
    delivery_id: uuid.UUID
    external_id: str
    partner: str
    subject_id: uuid.UUID
    household_id: uuid.UUID
    unit_path: str
    reasons: list[str] = Field(description="Why the subject is not entitled, in Vietnamese")


class CoverageReport(BaseModel):
    policy: str
    version: str
    name_vi: str
    subject_kind: SubjectKind
    period_from: date
    as_of: date
    measure: str = Field(description="valid_on: valid on `as_of`; in_period: made in the period")
    totals: CoverageRow
    rows: list[CoverageRow]
    unmatched_deliveries: int | None = Field(description="Sent by partners, matching nobody")
    suppressed_below: int | None = Field(description="Counts under it are withheld from you")
    gaps: list[GapEntry] | None = Field(description="Only for readers of personal data")
    leakage: list[LeakEntry] | None = Field(description="Only for readers of personal data")
