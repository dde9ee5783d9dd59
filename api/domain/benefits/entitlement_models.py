import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from api.domain.base import enum_type, utc_field, utcnow
from api.domain.benefits.policies import SubjectKind


class Entitlement(SQLModel, table=True):
    """What the rules gave a subject under a policy in a year, as last computed: written by
    upsert on (policy, subject, year), rewritten only when it changes."""

    __tablename__ = "entitlement"
    __table_args__ = (
        UniqueConstraint("policy", "subject_id", "year", name="uq_entitlement_policy_subject_year"),
        Index("ix_entitlement_household", "household_id"),
    )

    id: uuid.UUID = Field(primary_key=True)
    policy: str = Field(max_length=60)
    year: int
    subject_kind: SubjectKind = Field(sa_type=enum_type(SubjectKind))
    subject_id: uuid.UUID
    household_id: uuid.UUID
    unit_path: str = Field(max_length=200, index=True)
    version: str = Field(max_length=60, description="The policy version that decided")
    eligible: bool
    needing: bool
    entitled: bool
    amount_vnd: int | None = Field(default=None, sa_type=BigInteger)
    reasons: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    basis: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    computed_seq: int = Field(sa_type=BigInteger, description="The change log's position then")
    computed_at: datetime = utc_field(default_factory=utcnow)


class EntitlementPosition(SQLModel, table=True):
    """How far in the change log the entitlements have been brought up to date."""

    __tablename__ = "entitlement_position"

    id: int = Field(default=1, primary_key=True)
    position: int = Field(default=0, sa_type=BigInteger)
    updated_at: datetime = utc_field(default_factory=utcnow)


class EntitlementPublic(SQLModel):
    policy: str
    year: int
    subject_kind: SubjectKind
    subject_id: uuid.UUID
    household_id: uuid.UUID
    version: str
    eligible: bool
    needing: bool
    entitled: bool
    amount_vnd: int | None
    reasons: list[dict[str, Any]]
    basis: dict[str, Any]
    computed_seq: int
    computed_at: datetime


class RecomputeResult(SQLModel):
    households: int
    written: int = Field(description="Entitlements created or changed")
    removed: int = Field(description="Entitlements no longer due")
    unchanged: int
    position: int = Field(description="The change log's position the computation saw")
