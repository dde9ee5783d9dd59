"""Needs: what a household or person asked for or was found to need (legal aid, housing,
credit, training, a job), which on-need policies count as their denominator."""

import uuid
from datetime import date
from enum import StrEnum

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from api.domain.base import Input, RecordMeta, enum_type
from api.domain.strict import Day, Version


class NeedKind(StrEnum):
    LEGAL_AID = "legal_aid"
    CREDIT = "credit"
    STUDENT_LOAN = "student_loan"
    HOUSING_NEW = "housing_new"
    HOUSING_REPAIR = "housing_repair"
    TRAINING = "training"
    JOB = "job"


class NeedGrounds(StrEnum):
    """Why a near-poor person qualifies for legal aid (Law on Legal Aid 2017, art. 7)."""

    ACCUSED = "accused"
    FINANCIAL_HARDSHIP = "financial_hardship"


class NeedState(StrEnum):
    OPEN = "open"
    MET = "met"
    WITHDRAWN = "withdrawn"


class NeedFields(SQLModel):
    kind: NeedKind = Field(sa_type=enum_type(NeedKind))
    member_id: uuid.UUID | None = Field(
        default=None, description="The person in need (none: the household)"
    )
    grounds: NeedGrounds | None = Field(default=None, sa_type=enum_type(NeedGrounds))
    recorded_on: Day
    note: str | None = Field(default=None, max_length=500)


class Need(NeedFields, RecordMeta, table=True):
    __tablename__ = "need"
    __table_args__ = (Index("ix_need_household", "household_id"),)

    id: uuid.UUID = Field(primary_key=True)
    household_id: uuid.UUID = Field(foreign_key="household.id")
    unit_path: str = Field(max_length=200, index=True)
    state: NeedState = Field(default=NeedState.OPEN, sa_type=enum_type(NeedState))
    recorded_by: str = Field(max_length=120)


class NeedCreate(Input, NeedFields):
    id: uuid.UUID | None = Field(default=None, description="Client-chosen id (offline)")
    recorded_on: Day | None = Field(default=None, description="Default: today")  # type: ignore[assignment]


class NeedUpdate(Input):
    state: NeedState | None = None
    note: str | None = Field(default=None, max_length=500)
    version: Version | None = Field(default=None)


class NeedPublic(NeedFields):
    id: uuid.UUID
    household_id: uuid.UUID
    unit_path: str
    state: NeedState
    recorded_by: str
    version: int
    redacted: list[str] = Field(
        default_factory=list, description="Fields withheld from you (personal data)"
    )


def counts_on(need: Need, day: date) -> bool:
    """A need counts on the day it is recorded and after, until withdrawn (a met need was
    still a need)."""
    return need.recorded_on <= day and need.state != NeedState.WITHDRAWN
