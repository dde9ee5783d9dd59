import uuid
from typing import Any

from sqlalchemy import ColumnElement, exists
from sqlmodel import col

from api.domain import access
from api.domain.access import Permission
from api.domain.base import diff, new_id, snapshot
from api.domain.changes.models import Operation
from api.domain.errors import Conflict, FieldProblem, ValidationFailed
from api.domain.households.member_models import Member
from api.domain.households.models import (
    Household,
    HouseholdCreate,
    HouseholdFilter,
    HouseholdPublic,
    HouseholdUpdate,
    PovertyStatus,
)
from api.domain.households.records import HOUSEHOLD
from api.domain.households.search import member_matches
from api.domain.kernel import paging
from api.domain.kernel.aggregate import delete_children, relocate
from api.domain.kernel.areas import under
from api.domain.kernel.records import RecordService, check_version
from api.domain.kernel.registry import Stored
from api.domain.pagination import Page
from api.domain.units.service import UnitService
from api.domain.uow import RequestKey, UnitOfWork

BY_CREATION = paging.by_creation("hh", Household)


class HouseholdService(RecordService[Household, HouseholdPublic]):
    registration = HOUSEHOLD

    def __init__(self, uow: UnitOfWork, units: UnitService) -> None:
        super().__init__(uow)
        self.units = units

    async def get(self, household_id: uuid.UUID) -> HouseholdPublic:
        self.reading()
        (shown,) = await self.shown([await self.load(household_id)])
        return shown

    async def find(
        self, flt: HouseholdFilter, after: str | None, limit: int
    ) -> Page[HouseholdPublic]:
        self.reading()
        stmt = self.registration.readable(self.principal)
        if flt.unit:
            stmt = stmt.where(await self._in_unit(flt.unit))
        if flt.status:
            stmt = stmt.where(col(Household.poverty_status).in_(flt.status))
        if flt.q:
            stmt = stmt.where(
                exists().where(
                    col(Member.household_id) == col(Household.id),
                    col(Member.deleted_at).is_(None),
                    member_matches(
                        flt.q,
                        "personal_id" not in access.hidden_fields(self.principal, "member"),
                    ),
                )
            )
        rows, cursors, more = await paging.page(self.uow, stmt, BY_CREATION, after, limit)
        return Page[HouseholdPublic].of(await self.shown(rows), cursors, more)

    async def _in_unit(self, code: str) -> ColumnElement[bool]:
        unit = await self.units.get(code)
        if unit.valid_to is None:
            condition = under(col(Household.unit_path), unit.path)
            assert condition is not None
            return condition
        # A unit that no longer exists: the villages that were under it on its last day.
        villages = await self.units.descendant_codes(code, unit.valid_to)
        return col(Household.village_code).in_(villages)

    async def create(self, data: HouseholdCreate, key: RequestKey | None = None) -> HouseholdPublic:
        access.require(self.principal, Permission.HOUSEHOLDS_WRITE)
        return await self.uow.run_keyed(key, HouseholdPublic, 201, lambda: self._create(data))

    async def _create(self, data: HouseholdCreate) -> HouseholdPublic:
        village = await self.units.current_village(data.village_code)
        if not access.in_scope(self.principal, village.path):
            raise ValidationFailed(
                [FieldProblem("village_code", "outside your area", "out_of_scope")]
            )
        household_id = data.id or new_id()
        if await self.session.get(Household, household_id) is not None:
            raise Conflict(
                f"a household with id {household_id} already exists",
                extra={"existing_id": str(household_id)},
            )
        row = Household.model_validate(
            data.model_dump(exclude={"id"}),
            update={"id": household_id, "unit_path": village.path},
        )
        self.session.add(row)
        await self.uow.flush()
        self.uow.created(self.entity, row, diff({}, snapshot(row)))
        return self.public(row)

    async def update(
        self, household_id: uuid.UUID, data: HouseholdUpdate, if_match: int | None = None
    ) -> HouseholdPublic:
        access.require(self.principal, Permission.HOUSEHOLDS_WRITE)
        row = await self.load(household_id, for_update=True)
        check_version(
            data.version if data.version is not None else if_match, row.version, "the household"
        )
        before = snapshot(row)
        changes = data.model_dump(exclude_unset=True, exclude={"version"})
        path = row.unit_path
        if "village_code" in changes and changes["village_code"] != row.village_code:
            village = await self.units.current_village(changes["village_code"])
            if not access.in_scope(self.principal, village.path):
                raise ValidationFailed(
                    [FieldProblem("village_code", "outside your area", "out_of_scope")]
                )
            path = village.path
        for name, value in changes.items():
            setattr(row, name, value)
        changed = diff(before, snapshot(row))
        if not changed and path == row.unit_path:
            return self.public(row)
        if path != row.unit_path:
            # Members, assessments and status periods follow their household.
            await relocate(self.uow, self.registration, row, path, changed)
        else:
            self.uow.touch(self.entity, row, diff=changed)
        await self.uow.commit()
        return self.public(row)

    async def delete(self, household_id: uuid.UUID, if_match: int | None = None) -> None:
        access.require(self.principal, Permission.HOUSEHOLDS_WRITE)
        row = await self.load(household_id, for_update=True)
        check_version(if_match, row.version, "the household")
        await delete_children(self.uow, self.registration, row.id)
        self.uow.remove(self.entity, row)
        await self.uow.commit()

    # For the aggregate's other use cases and the review: they only flush.

    def set_head(self, row: Household, member_id: uuid.UUID | None) -> None:
        before = row.head_member_id
        row.head_member_id = member_id
        self.uow.touch(
            self.entity,
            row,
            Operation.MEMBERSHIP,
            {"head_member_id": [_s(before), _s(member_id)]},
        )

    def set_status(self, row: Household, status: PovertyStatus) -> None:
        """A recognition decided the household's status."""
        old = row.poverty_status
        if old == status:
            return
        row.poverty_status = status
        before = None if old is None else old.value
        self.uow.touch(self.entity, row, diff={"poverty_status": [before, status.value]})

    # Device sync calls the same use cases.

    async def create_record(self, record_id: uuid.UUID, data: dict[str, Any]) -> Stored:
        h = await self.create(HouseholdCreate.model_validate({**data, "id": record_id}))
        return Stored(h.version, h.unit_path)

    async def update_record(
        self, record_id: uuid.UUID, data: dict[str, Any], version: int
    ) -> Stored:
        h = await self.update(record_id, HouseholdUpdate.model_validate(data), version)
        return Stored(h.version, h.unit_path)

    async def delete_record(self, record_id: uuid.UUID, version: int) -> None:
        await self.delete(record_id, version)


def _s(value: uuid.UUID | None) -> str | None:
    return None if value is None else str(value)
