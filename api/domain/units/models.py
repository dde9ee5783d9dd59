from datetime import date
from enum import StrEnum

from sqlalchemy import Column, ForeignKey, String
from sqlmodel import Field, SQLModel

from api.domain.base import enum_type


class UnitLevel(StrEnum):
    PROVINCE = "province"
    DISTRICT = "district"
    COMMUNE = "commune"
    VILLAGE = "village"


class UnitType(StrEnum):
    TINH = "tinh"
    THANH_PHO_TW = "thanh_pho_tw"
    HUYEN = "huyen"
    THI_XA = "thi_xa"
    THANH_PHO = "thanh_pho"
    QUAN = "quan"
    XA = "xa"
    PHUONG = "phuong"
    THI_TRAN = "thi_tran"
    DAC_KHU = "dac_khu"
    THON = "thon"
    TO_DAN_PHO = "to_dan_pho"


URBAN_TYPES = frozenset({UnitType.PHUONG, UnitType.THI_TRAN, UnitType.TO_DAN_PHO, UnitType.QUAN})
LEVEL_OF_TYPE = {
    UnitType.TINH: UnitLevel.PROVINCE,
    UnitType.THANH_PHO_TW: UnitLevel.PROVINCE,
    UnitType.HUYEN: UnitLevel.DISTRICT,
    UnitType.THI_XA: UnitLevel.DISTRICT,
    UnitType.THANH_PHO: UnitLevel.DISTRICT,
    UnitType.QUAN: UnitLevel.DISTRICT,
    UnitType.XA: UnitLevel.COMMUNE,
    UnitType.PHUONG: UnitLevel.COMMUNE,
    UnitType.THI_TRAN: UnitLevel.COMMUNE,
    UnitType.DAC_KHU: UnitLevel.COMMUNE,
    UnitType.THON: UnitLevel.VILLAGE,
    UnitType.TO_DAN_PHO: UnitLevel.VILLAGE,
}


def is_urban(level: UnitLevel, unit_type: UnitType) -> bool | None:
    """Urban or rural, for communes and villages only."""
    if level in (UnitLevel.COMMUNE, UnitLevel.VILLAGE):
        return unit_type in URBAN_TYPES
    return None


class SuccessionKind(StrEnum):
    MERGE = "merge"
    SPLIT = "split"
    RENAME = "rename"
    UPGRADE = "upgrade"


class UnitBase(SQLModel):
    code: str = Field(min_length=1, max_length=16, description="Official code; villages: demo code")
    name: str = Field(min_length=1, max_length=120)
    level: UnitLevel = Field(sa_type=enum_type(UnitLevel))
    unit_type: UnitType = Field(sa_type=enum_type(UnitType))
    valid_from: date
    valid_to: date | None = Field(default=None, description="Last day the unit existed")
    confirmed: bool = Field(default=True, description="Code and name confirmed from a source")
    demo: bool = Field(default=False, description="Invented for the demo data set")
    note: str | None = Field(default=None, max_length=1000)


class AdminUnit(UnitBase, table=True):
    __tablename__ = "admin_unit"

    code: str = Field(primary_key=True, max_length=16)
    name_lower: str = Field(max_length=120)
    name_folded: str = Field(max_length=120, index=True)
    parent_code: str | None = Field(
        default=None, sa_column=Column(String(16), ForeignKey("admin_unit.code"), index=True)
    )
    path: str = Field(max_length=200, index=True, description="Codes from the province down")
    urban: bool | None = None
    version: int = Field(default=1)


class AdminUnitParent(SQLModel, table=True):
    """The parent of a unit over time (villages changed commune on 1 July 2025)."""

    __tablename__ = "admin_unit_parent"

    child_code: str = Field(foreign_key="admin_unit.code", primary_key=True, max_length=16)
    valid_from: date = Field(primary_key=True)
    parent_code: str = Field(foreign_key="admin_unit.code", max_length=16, index=True)
    valid_to: date | None = None


class UnitNameBase(SQLModel):
    """What a unit was called and what kind of unit it was during one period."""

    name: str = Field(min_length=1, max_length=120)
    unit_type: UnitType = Field(sa_type=enum_type(UnitType))
    valid_from: date
    valid_to: date | None = Field(default=None, description="Last day of the period")
    confirmed: bool = Field(
        default=True,
        description="Name and type confirmed from a source for this period (its first day may "
        "be the unit's own placeholder start: see the unit's note)",
    )
    source: str | None = Field(default=None, max_length=500)


class AdminUnitName(UnitNameBase, table=True):
    """A unit's name and type over time: a xã until 2024 may be a phường now, and the review
    applies the line of the type on its review date."""

    __tablename__ = "admin_unit_name"

    code: str = Field(foreign_key="admin_unit.code", primary_key=True, max_length=16)
    valid_from: date = Field(primary_key=True)
    urban: bool | None = None
    name_lower: str = Field(max_length=120)
    name_folded: str = Field(max_length=120, index=True)


class UnitNamePeriod(UnitNameBase):
    urban: bool | None = Field(description="Urban (phường, thị trấn) or rural; null above communes")


class AdminUnitSuccession(SQLModel, table=True):
    __tablename__ = "admin_unit_succession"

    predecessor_code: str = Field(foreign_key="admin_unit.code", primary_key=True, max_length=16)
    successor_code: str = Field(foreign_key="admin_unit.code", primary_key=True, max_length=16)
    effective: date
    kind: SuccessionKind = Field(sa_type=enum_type(SuccessionKind))


class UnitPublic(UnitBase):
    """`name`, `unit_type` and `urban` are those of the day asked for (default: current)."""

    parent_code: str | None
    path: str
    urban: bool | None = Field(description="Urban (phường, thị trấn) or rural; null above communes")


class UnitLink(SQLModel):
    code: str
    name: str
    effective: date
    kind: SuccessionKind


class UnitParentPeriod(SQLModel):
    parent_code: str
    valid_from: date
    valid_to: date | None


class UnitLineage(SQLModel):
    parents: list[UnitParentPeriod] = Field(description="The unit's parent over time")
    names: list[UnitNamePeriod] = Field(
        default_factory=list, description="The unit's name and type over time"
    )
    predecessors: list[UnitLink] = Field(description="Units merged or renamed into this one")
    successors: list[UnitLink] = Field(description="Units this one was merged or renamed into")


class UnitDetail(UnitPublic, UnitLineage):
    pass
