"""Deliveries: the partner's fact, keyed by the partner's own id, matched to a person or a
household in the registry (or kept unmatched for the commune to reconcile)."""

import re
import uuid
from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import model_validator
from sqlalchemy import JSON, BigInteger, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from api.domain.base import Input, RecordMeta, enum_type
from api.domain.households.member_models import PERSONAL_ID_PATTERN
from api.domain.strict import Bool, Day

MAX_ITEMS = 5000
MAX_AMOUNT = 10_000_000_000  # VND: no single delivery of these programmes comes near it
MAX_SOURCE_VERSION = 2**62


class DeliveryKind(StrEnum):
    ISSUED = "issued"
    RENEWED = "renewed"
    DISBURSED = "disbursed"
    REPAID = "repaid"
    EXEMPTED = "exempted"
    PAID = "paid"
    CASE_OPENED = "case_opened"
    CASE_CLOSED = "case_closed"
    ENROLLED = "enrolled"
    COMPLETED = "completed"
    PLACED = "placed"
    CANCELLED = "cancelled"
    REVERSED = "reversed"


# A delivery of these kinds takes back what an earlier one gave: it serves nobody.
UNDONE = frozenset({DeliveryKind.CANCELLED, DeliveryKind.REVERSED})


class Match(StrEnum):
    PERSON = "person"
    HOUSEHOLD = "household"
    UNMATCHED = "unmatched"


class DeliveryFields(SQLModel):
    external_id: str = Field(min_length=1, max_length=100, description="The partner's own id")
    policy: str = Field(min_length=1, max_length=60, description="A benefit policy code")
    kind: DeliveryKind = Field(sa_type=enum_type(DeliveryKind))
    occurred_on: Day = Field(description="When it was issued, paid, disbursed, opened, …")
    valid_from: Day | None = None
    valid_to: Day | None = None
    amount_vnd: int | None = Field(default=None, ge=0, le=MAX_AMOUNT, sa_type=BigInteger)
    instrument: str | None = Field(
        default=None, max_length=100, description="Card, loan contract or case number"
    )
    state_share: float | None = Field(default=None, ge=0, le=1)
    personal_id: str | None = Field(
        default=None, max_length=12, schema_extra={"pattern": PERSONAL_ID_PATTERN}
    )
    household_id: uuid.UUID | None = Field(
        default=None, description="The registry's household id, as the partner holds it"
    )
    commune_code: str | None = Field(
        default=None, max_length=16, description="Where to file it if it matches nobody"
    )
    source_version: int = Field(
        ge=1, le=MAX_SOURCE_VERSION, sa_type=BigInteger, description="Higher wins; lower is stale"
    )


class Delivery(DeliveryFields, RecordMeta, table=True):
    __tablename__ = "delivery"
    __table_args__ = (
        UniqueConstraint("partner", "external_id", name="uq_delivery_partner_external_id"),
        Index("ix_delivery_policy_unit", "policy", "unit_path"),
        Index("ix_delivery_member", "matched_member_id"),
        Index("ix_delivery_household", "matched_household_id"),
    )

    id: uuid.UUID = Field(primary_key=True)
    partner: str = Field(max_length=120, description="The writing client (partner:<id>)")
    agency: str = Field(max_length=40)
    unit_path: str = Field(max_length=200, index=True)
    match: Match = Field(sa_type=enum_type(Match))
    matched_member_id: uuid.UUID | None = None
    matched_household_id: uuid.UUID | None = None
    funding: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


class DeliveryItem(Input, DeliveryFields):
    @model_validator(mode="after")
    def _subject_and_period(self) -> "DeliveryItem":
        if self.personal_id is not None and not re.fullmatch(PERSONAL_ID_PATTERN, self.personal_id):
            raise ValueError("personal_id is 9 or 12 digits (keep the leading zeros)")
        if self.personal_id is None and self.household_id is None:
            raise ValueError("name the subject: personal_id or household_id")
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            raise ValueError("valid_to is before valid_from")
        return self


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    STALE = "stale"
    INVALID = "invalid"
    UNMATCHED = "unmatched"


class DeliveryPublic(DeliveryFields):
    id: uuid.UUID
    partner: str
    agency: str
    unit_path: str
    match: Match
    matched_member_id: uuid.UUID | None
    matched_household_id: uuid.UUID | None
    version: int
    redacted: list[str] = Field(
        default_factory=list, description="Fields withheld from you (personal data)"
    )


def period_serves(row: Delivery, start: date, end: date, valid_on: bool) -> bool:
    """Whether the delivery counts as served: valid on `end` (a card), or made in the period."""
    if row.kind in UNDONE:
        return False
    if valid_on:
        begins = row.valid_from or row.occurred_on
        return begins <= end and (row.valid_to is None or end <= row.valid_to)
    return start <= row.occurred_on <= end


class BatchMode(StrEnum):
    PER_ITEM = "per_item"
    ALL_OR_NOTHING = "all_or_nothing"


class DeliveryBatch(Input):
    mode: BatchMode = BatchMode.PER_ITEM
    dry_run: Bool = Field(default=False, description="Validate and report; change nothing")
    items: list[DeliveryItem] = Field(max_length=MAX_ITEMS, description=f"At most {MAX_ITEMS}")


class ItemResult(SQLModel):
    index: int
    external_id: str
    outcome: Outcome
    id: uuid.UUID | None = None
    version: int | None = None
    match: Match | None = None
    problem: dict[str, Any] | None = None


class BatchResult(SQLModel):
    dry_run: bool
    applied: bool = Field(description="False when all-or-nothing refused the batch, or a dry run")
    counts: dict[Outcome, int]
    items: list[ItemResult]
