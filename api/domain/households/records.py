"""The household aggregate's record types: households and their members."""

from api.domain import access
from api.domain.access import Principal
from api.domain.households.member_models import Member, MemberCreate, MemberPublic, MemberUpdate
from api.domain.households.models import (
    Household,
    HouseholdCreate,
    HouseholdPublic,
    HouseholdUpdate,
)
from api.domain.households.rules import personal_id_warnings
from api.domain.kernel.entities import EntityType
from api.domain.kernel.registry import Registration, register


def household_public(row: Household) -> HouseholdPublic:
    return HouseholdPublic.model_validate(row, from_attributes=True)


def member_public(row: Member) -> MemberPublic:
    return MemberPublic.model_validate(
        row,
        from_attributes=True,
        update={"warnings": personal_id_warnings(row.personal_id, row.date_of_birth, row.sex)},
    )


def _household_view(row: Household, principal: Principal) -> HouseholdPublic:
    return access.mask(household_public(row), principal, EntityType.HOUSEHOLD)


def _member_view(row: Member, principal: Principal) -> MemberPublic:
    return access.mask(member_public(row), principal, EntityType.MEMBER)


HOUSEHOLD = register(
    Registration(
        entity=EntityType.HOUSEHOLD,
        model=Household,
        public=HouseholdPublic,
        view=_household_view,
        create=HouseholdCreate,
        update=HouseholdUpdate,
        personal=True,
        ops=lambda services: services.households,
    )
)
MEMBER = register(
    Registration(
        entity=EntityType.MEMBER,
        model=Member,
        public=MemberPublic,
        view=_member_view,
        create=MemberCreate,
        update=MemberUpdate,
        parent=EntityType.HOUSEHOLD,
        parent_key="household_id",
        deleted_with_parent=True,
        personal=True,
        ops=lambda services: services.members,
    )
)
