import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, field_validator
from pydantic_core import PydanticCustomError
from sqlalchemy import Index, text
from sqlmodel import Field, SQLModel

from api.domain.base import Input, RecordMeta, enum_type, not_null, utc_field, utcnow
from api.domain.strict import Bool, Day, Version
from api.domain.text import KEY_CHARS, keys_fit


class Sex(StrEnum):
    MALE = "male"
    FEMALE = "female"


class Relation(StrEnum):
    HEAD = "head"
    SPOUSE = "spouse"
    CHILD = "child"
    PARENT = "parent"
    GRANDCHILD = "grandchild"
    GRANDPARENT = "grandparent"
    SIBLING = "sibling"
    CHILD_IN_LAW = "child_in_law"
    OTHER_RELATIVE = "other_relative"
    NON_RELATIVE = "non_relative"


class EducationLevel(StrEnum):
    NONE = "none"
    PRIMARY = "primary"
    LOWER_SECONDARY = "lower_secondary"
    UPPER_SECONDARY = "upper_secondary"
    VOCATIONAL = "vocational"
    COLLEGE_OR_HIGHER = "college_or_higher"


class Employment(StrEnum):
    WAGE_WITH_CONTRACT = "wage_with_contract"
    WAGE_WITHOUT_CONTRACT = "wage_without_contract"
    SELF_EMPLOYED = "self_employed"
    UNEMPLOYED = "unemployed"
    NOT_IN_LABOUR_FORCE = "not_in_labour_force"


class Disability(StrEnum):
    NONE = "none"
    MILD = "mild"
    SEVERE = "severe"
    VERY_SEVERE = "very_severe"


class MembershipStatus(StrEnum):
    ACTIVE = "active"
    LEFT = "left"
    DECEASED = "deceased"


class LeaveReason(StrEnum):
    MOVED_OUT = "moved_out"
    DIED = "died"
    SPLIT = "split"
    OTHER = "other"


class MembershipEventKind(StrEnum):
    JOINED = "joined"
    LEFT = "left"
    DIED = "died"
    BECAME_HEAD = "became_head"
    CEASED_HEAD = "ceased_head"


PERSONAL_ID_PATTERN = r"^([0-9]{9}|[0-9]{12})$"


class PersonFacts(SQLModel):
    """What the employment, health and education indicators are computed from."""

    ethnicity: str | None = Field(default=None, min_length=1, max_length=50)
    attending_school: Bool | None = None
    education_level: EducationLevel | None = Field(default=None, sa_type=enum_type(EducationLevel))
    employment: Employment | None = Field(default=None, sa_type=enum_type(Employment))
    health_insurance: Bool | None = None
    disability: Disability | None = Field(default=None, sa_type=enum_type(Disability))
    labour_capacity: Bool | None = Field(default=None, description="Able to work")


def _searchable(name: str) -> str:
    if not keys_fit(name):
        raise PydanticCustomError(
            "search_key_too_long",
            f"lower-cased or without diacritics this name is over {KEY_CHARS} characters",
        )
    return name


# A member's name, whose search keys (api.domain.text) fit their columns.
PersonName = Annotated[str, AfterValidator(_searchable)]


def _plausible_birth(value: date | None) -> date | None:
    if value is not None and not date(1880, 1, 1) <= value <= date.today():
        raise ValueError("must lie between 1880-01-01 and today")
    return value


class MemberFields(PersonFacts):
    full_name: PersonName = Field(min_length=1, max_length=120)
    sex: Sex = Field(sa_type=enum_type(Sex))
    date_of_birth: Day
    personal_id: str | None = Field(
        default=None,
        schema_extra={"pattern": PERSONAL_ID_PATTERN},
        max_length=12,
        description="12-digit personal identification number, or a legacy 9-digit ID",
    )
    relation_to_head: Relation = Field(sa_type=enum_type(Relation))

    _birth = field_validator("date_of_birth")(_plausible_birth)


class Member(MemberFields, RecordMeta, table=True):
    __tablename__ = "member"
    __table_args__ = (
        Index("ix_member_personal_id", "personal_id"),
        Index("ix_member_keyset", "created_at", "id"),
        Index(
            "uq_member_active_personal_id",
            "personal_id",
            unique=True,
            sqlite_where=text(
                "personal_id IS NOT NULL AND deleted_at IS NULL AND membership_status = 'active'"
            ),
            postgresql_where=text(
                "personal_id IS NOT NULL AND deleted_at IS NULL AND membership_status = 'active'"
            ),
        ),
    )

    id: uuid.UUID = Field(primary_key=True)
    household_id: uuid.UUID = Field(foreign_key="household.id", index=True)
    unit_path: str = Field(max_length=200, index=True)
    name_lower: str = Field(max_length=KEY_CHARS, index=True)
    name_folded: str = Field(max_length=KEY_CHARS, index=True)
    membership_status: MembershipStatus = Field(
        default=MembershipStatus.ACTIVE, sa_type=enum_type(MembershipStatus)
    )
    joined_on: date | None = None
    left_on: date | None = None


class MembershipEvent(SQLModel, table=True):
    __tablename__ = "membership_event"

    id: uuid.UUID = Field(primary_key=True)
    household_id: uuid.UUID = Field(foreign_key="household.id", index=True)
    member_id: uuid.UUID = Field(foreign_key="member.id", index=True)
    kind: MembershipEventKind = Field(sa_type=enum_type(MembershipEventKind))
    occurred_on: date
    note: str | None = Field(default=None, max_length=500)
    actor: str = Field(max_length=120)
    recorded_at: datetime = utc_field(default_factory=utcnow)


class MemberCreate(Input, MemberFields):
    id: uuid.UUID | None = Field(
        default=None, description="Client-chosen id for records created offline"
    )
    joined_on: Day | None = Field(default=None, description="Defaults to today")


class MemberUpdate(Input, PersonFacts):
    full_name: PersonName | None = Field(default=None, min_length=1, max_length=120)
    sex: Sex | None = None
    date_of_birth: Day | None = None
    personal_id: str | None = Field(
        default=None, schema_extra={"pattern": PERSONAL_ID_PATTERN}, max_length=12
    )
    relation_to_head: Relation | None = Field(
        default=None, description="Use the household's head-change operation to pick a new head"
    )
    version: Version | None = Field(default=None)

    _birth = field_validator("date_of_birth")(_plausible_birth)
    _required = field_validator("full_name", "sex", "date_of_birth", "relation_to_head")(not_null)


class MemberLeave(Input):
    reason: LeaveReason
    occurred_on: Day
    note: str | None = Field(default=None, max_length=500)
    version: Version | None = Field(default=None)


class HeadChange(Input):
    member_id: uuid.UUID
    occurred_on: Day
    previous_head_relation: Relation = Field(
        default=Relation.OTHER_RELATIVE, description="The former head's relation to the new head"
    )
    version: Version | None = Field(default=None, description="Household version")


class MemberPublic(MemberFields):
    id: uuid.UUID
    household_id: uuid.UUID
    unit_path: str
    membership_status: MembershipStatus
    joined_on: date | None
    left_on: date | None
    version: int
    created_at: datetime
    updated_at: datetime
    warnings: list[str] = Field(
        default_factory=list, description="Data-quality findings that do not block the record"
    )
    redacted: list[str] = Field(
        default_factory=list, description="Personal fields withheld from this caller"
    )


class MembershipEventPublic(SQLModel):
    id: uuid.UUID
    member_id: uuid.UUID
    kind: MembershipEventKind
    occurred_on: date
    note: str | None
    actor: str
    recorded_at: datetime
