"""The shapes of the review reports (REST, GraphQL and the CSV/XLSX downloads share them)."""

import uuid
from datetime import date
from enum import StrEnum

from sqlmodel import Field, SQLModel

from api.domain.households.models import PovertyStatus


class RateBasis(StrEnum):
    HOUSEHOLDS = "households"
    PERSONS = "persons"


RATE_DEFINITIONS = {
    RateBasis.HOUSEHOLDS: (
        "Tỷ lệ hộ nghèo (poor-household rate)",
        "poor (or near-poor) households ÷ all households of the unit at the end of the period",
    ),
    RateBasis.PERSONS: (
        "Tỷ lệ người nghèo (poor-person rate)",
        "persons in poor (or near-poor) households ÷ all persons of the unit at the end of the "
        "period",
    ),
}


class RateDefinition(SQLModel):
    code: RateBasis
    name: str
    formula: str


class UnitRow(SQLModel):
    """Counts are null where suppressed (see `ReviewReport.suppressed`)."""

    code: str
    name: str
    households: int | None
    persons: int | None
    poor_households: int | None
    poor_persons: int | None
    poor_rate: float | None = Field(description="Percent, by the report's rate definition")
    near_poor_households: int | None
    near_poor_persons: int | None
    near_poor_rate: float | None


class MovementRow(SQLModel):
    """One list's movements over the period: end = start − decreases + increases."""

    list: PovertyStatus
    start: int | None
    new: int | None = Field(description="Newly listed (new poor / new near-poor)")
    re_entered: int | None = Field(description="Re-poor: listed before, out, now back")
    from_other_list: int | None = Field(description="Near-poor → poor, or poor → near-poor")
    escaped: int | None
    to_other_list: int | None
    other_decrease: int | None = Field(description="Left the registry (moved, died, merged)")
    end: int | None
    expected_end: int | None = Field(description="start − decreases + increases")
    balanced: bool | None


class DeprivationRow(SQLModel):
    indicator: str
    name_vi: str
    dimension: str
    poor_households: int | None
    poor_share: float | None = Field(description="Percent of poor households deprived")
    near_poor_households: int | None
    near_poor_share: float | None


class CountRow(SQLModel):
    key: str
    label_vi: str
    poor_households: int | None
    near_poor_households: int | None


class ReviewReport(SQLModel):
    unit_code: str
    unit_name: str
    period_from: date
    period_to: date
    standard_code: str = Field(description="The standard in force at the end of the period")
    rate_definition: RateDefinition
    totals: UnitRow
    rows: list[UnitRow] = Field(description="The units directly below, as they were at the end")
    movements: list[MovementRow]
    deprivations: list[DeprivationRow]
    flags: list[CountRow]
    causes: list[CountRow]
    notes: list[str]
    small_cells_below: int | None = Field(
        default=None,
        description="Village figures from 1 to this minus 1 are suppressed, with complementary "
        "cells, for readers other than the commune's own staff; null: figures in full",
    )
    suppressed: list[str] = Field(
        default_factory=list,
        description="The figures shown as null, as paths (rows.<code>.poor_households, "
        "totals.persons, movements.poor.new, flags.<key>.poor_households, ...)",
    )


class Assumption(StrEnum):
    NOT_DEPRIVED = "not_deprived"
    DEPRIVED = "deprived"
    UNDETERMINED = "undetermined"


class ClassChange(SQLModel):
    from_status: PovertyStatus | None
    to_status: PovertyStatus | None
    households: int


class ClassCount(SQLModel):
    status: PovertyStatus | None = Field(description="None: the class cannot be decided")
    households: int


class ChangedHousehold(SQLModel):
    household_id: uuid.UUID
    assessment_id: uuid.UUID
    from_status: PovertyStatus | None
    to_status: PovertyStatus | None
    deprived: list[str]
    assumed: list[str] = Field(description="Indicators the old survey lacked, taken by assumption")


class WhatIf(SQLModel):
    unit_code: str
    standard_code: str
    as_of: date
    unknown_indicators: Assumption
    assessed_households: int
    before: list[ClassCount] = Field(description="Classes of the latest assessments")
    after: list[ClassCount] = Field(description="Classes under the other standard")
    changes: list[ClassChange]
    changed_total: int
    changed: list[ChangedHousehold] = Field(description="The first 500 households that change")
    notes: list[str]
