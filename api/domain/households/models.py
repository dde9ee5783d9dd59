import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import field_validator
from sqlalchemy import JSON, Index
from sqlmodel import Field, SQLModel

from api.domain.base import Input, RecordMeta, enum_type, not_null
from api.domain.strict import Bool, Version


class Durability(StrEnum):
    DURABLE = "durable"
    NON_DURABLE = "non_durable"


class WaterSource(StrEnum):
    PIPED = "piped"
    DRILLED_WELL = "drilled_well"
    PROTECTED_DUG_WELL = "protected_dug_well"
    PROTECTED_SPRING = "protected_spring"
    RAINWATER = "rainwater"
    BOTTLED = "bottled"
    UNPROTECTED_WELL = "unprotected_well"
    UNPROTECTED_SPRING = "unprotected_spring"
    SURFACE_WATER = "surface_water"
    OTHER = "other"


class LatrineType(StrEnum):
    FLUSH_SEPTIC = "flush_septic"
    FLUSH_SEWER = "flush_sewer"
    DOUBLE_VAULT = "double_vault"
    VENTILATED_PIT = "ventilated_pit"
    BIOGAS = "biogas"
    UNHYGIENIC = "unhygienic"
    NONE = "none"


class InformationAsset(StrEnum):
    TV = "tv"
    RADIO = "radio"
    COMPUTER = "computer"
    PHONE = "phone"
    TABLET = "tablet"


class PovertyStatus(StrEnum):
    POOR = "poor"
    NEAR_POOR = "near_poor"
    AVERAGE = "average"
    NOT_POOR = "not_poor"


PHONE_PATTERN = r"^\+?[0-9]{8,15}$"


class DwellingFacts(SQLModel):
    """What the housing, water, sanitation and information indicators are computed from."""

    floor_area_m2: float | None = Field(default=None, ge=0, le=10_000)
    wall_material: Durability | None = Field(default=None, sa_type=enum_type(Durability))
    column_material: Durability | None = Field(default=None, sa_type=enum_type(Durability))
    roof_material: Durability | None = Field(default=None, sa_type=enum_type(Durability))
    water_source: WaterSource | None = Field(default=None, sa_type=enum_type(WaterSource))
    latrine_type: LatrineType | None = Field(default=None, sa_type=enum_type(LatrineType))
    uses_telecom: Bool | None = Field(
        default=None, description="Some member uses telephone or internet services"
    )


class HouseholdFields(DwellingFacts):
    village_code: str = Field(
        min_length=1, max_length=16, foreign_key="admin_unit.code", index=True
    )
    address: str = Field(min_length=1, max_length=300)
    phone: str | None = Field(default=None, max_length=16, schema_extra={"pattern": PHONE_PATTERN})


class Household(HouseholdFields, RecordMeta, table=True):
    __tablename__ = "household"
    __table_args__ = (Index("ix_household_keyset", "created_at", "id"),)

    id: uuid.UUID = Field(primary_key=True)
    unit_path: str = Field(max_length=200, index=True)
    information_assets: list[str] = Field(default_factory=list, sa_type=JSON)
    poverty_status: PovertyStatus | None = Field(
        default=None, sa_type=enum_type(PovertyStatus), index=True
    )
    head_member_id: uuid.UUID | None = None


def _unique_assets(value: list[InformationAsset] | None) -> list[InformationAsset] | None:
    return None if value is None else sorted(set(value))


class HouseholdCreate(Input, HouseholdFields):
    id: uuid.UUID | None = Field(
        default=None, description="Client-chosen id for records created offline"
    )
    information_assets: list[InformationAsset] = Field(default_factory=list, max_length=5)

    _assets = field_validator("information_assets")(_unique_assets)


class HouseholdUpdate(Input, DwellingFacts):
    village_code: str | None = Field(default=None, min_length=1, max_length=16)
    address: str | None = Field(default=None, min_length=1, max_length=300)
    phone: str | None = Field(default=None, max_length=16, schema_extra={"pattern": PHONE_PATTERN})
    information_assets: list[InformationAsset] | None = Field(default=None, max_length=5)
    version: Version | None = Field(
        default=None, description="The version this change is based on (or use If-Match)"
    )

    _assets = field_validator("information_assets")(_unique_assets)
    _required = field_validator("village_code", "address", "information_assets")(not_null)


class HouseholdPublic(HouseholdFields):
    id: uuid.UUID
    unit_path: str
    information_assets: list[InformationAsset]
    poverty_status: PovertyStatus | None = Field(
        description="Set by recognition of a review; never by clients"
    )
    head_member_id: uuid.UUID | None
    redacted: list[str] = Field(
        default_factory=list, description="Personal fields withheld from this caller"
    )
    version: int
    created_at: datetime
    updated_at: datetime


class HouseholdFilter(Input):
    unit: str | None = Field(
        default=None,
        max_length=16,
        description="Code of an administrative unit: households in its subtree",
    )
    q: str | None = Field(
        default=None,
        min_length=1,
        max_length=120,
        description="A member's name (with or without diacritics) or personal ID",
    )
    status: list[PovertyStatus] | None = Field(default=None, description="Poverty status")
