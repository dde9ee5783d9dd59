import uuid
from collections.abc import Iterable, Sequence

from sqlalchemy import ColumnElement, exists, select, update
from sqlmodel import col

from api.domain import access
from api.domain.access import Permission
from api.domain.base import diff, new_id, snapshot, utcnow
from api.domain.changes.models import Operation
from api.domain.errors import Conflict, FieldProblem, ValidationFailed, VersionConflict
from api.domain.households.models import (
    Household,
    HouseholdCreate,
    HouseholdFilter,
    HouseholdPublic,
    HouseholdUpdate,
)
from api.domain.keyset import after_position, position
from api.domain.members.models import Member
from api.domain.members.search import member_matches
from api.domain.pagination import Page
from api.domain.records import RecordService
from api.domain.review.models import Assessment, StatusRecord
from api.domain.units.service import UnitService
from api.domain.uow import RequestKey, UnitOfWork

ENTITY = "household"
CURSOR_KIND = "hh"


def to_public(row: Household) -> HouseholdPublic:
    return HouseholdPublic.model_validate(row, from_attributes=True)


def check_version(expected: int | None, current: int, what: str) -> None:
    if expected is not None and expected != current:
        raise VersionConflict(
            f"{what} is at version {current}, the change was based on version {expected}",
            current_version=current,
        )


class HouseholdService(RecordService[Household, HouseholdPublic]):
    entity = ENTITY
    model = Household

    def __init__(self, uow: UnitOfWork, units: UnitService) -> None:
        super().__init__(uow)
        self.units = units

    def to_public(self, row: Household) -> HouseholdPublic:
        return to_public(row)

    async def get(self, household_id: uuid.UUID) -> HouseholdPublic:
        self.reading()
        (shown,) = await self.shown([await self.load(household_id)])
        return shown

    async def by_ids(self, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, HouseholdPublic]:
        self.reading()
        wanted = set(ids)
        if not wanted:
            return {}
        stmt = access.scoped(
            select(Household).where(
                col(Household.id).in_(wanted),
                col(Household.deleted_at).is_(None),
            ),
            self.principal,
            col(Household.unit_path),
        )
        rows = (await self.session.scalars(stmt)).all()
        return {h.id: h for h in await self.shown(rows)}

    async def find(
        self, flt: HouseholdFilter, after: str | None, limit: int
    ) -> Page[HouseholdPublic]:
        self.reading()
        stmt = select(Household).where(col(Household.deleted_at).is_(None))
        stmt = access.scoped(stmt, self.principal, col(Household.unit_path))
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
        stmt = after_position(
            stmt, CURSOR_KIND, after, col(Household.created_at), col(Household.id)
        )
        rows = list((await self.session.scalars(stmt.limit(limit + 1))).all())
        has_more = len(rows) > limit
        rows = rows[:limit]
        return Page[HouseholdPublic].of(
            await self.shown(rows),
            [position(CURSOR_KIND, r.created_at, r.id) for r in rows],
            has_more,
        )

    async def _in_unit(self, code: str) -> ColumnElement[bool]:
        unit = await self.units.get(code)
        if unit.valid_to is None:
            return col(Household.unit_path).like(unit.path + "/%") | (
                col(Household.unit_path) == unit.path
            )
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
        self.uow.record(
            ENTITY, row.id, Operation.CREATE, row.version, row.unit_path, diff({}, snapshot(row))
        )
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
        if "village_code" in changes and changes["village_code"] != row.village_code:
            village = await self.units.current_village(changes["village_code"])
            if not access.in_scope(self.principal, village.path):
                raise ValidationFailed(
                    [FieldProblem("village_code", "outside your area", "out_of_scope")]
                )
            row.unit_path = village.path
        for name, value in changes.items():
            setattr(row, name, value)
        after = snapshot(row)
        changed = diff(before, after)
        if not changed:
            return self.public(row)
        self.bump(row)
        if "unit_path" in changed:
            # Readers of the old area (devices syncing it) learn that the record left it.
            self.uow.record(ENTITY, row.id, Operation.EXIT, row.version, before["unit_path"])
            await self._move_members(row)
        await self.uow.flush()
        self.uow.record(ENTITY, row.id, Operation.UPDATE, row.version, row.unit_path, changed)
        await self.uow.commit()
        return self.public(row)

    def bump(self, row: Household) -> None:
        row.version += 1
        row.updated_at = utcnow()

    async def _members_of(self, row: Household) -> Sequence[Member]:
        return (
            await self.session.scalars(
                select(Member).where(
                    col(Member.household_id) == row.id,
                    col(Member.deleted_at).is_(None),
                )
            )
        ).all()

    async def _move_members(self, row: Household) -> None:
        """Members, assessments and status periods follow their household to its new area."""
        assessments = await self.session.scalars(
            select(Assessment).where(
                col(Assessment.household_id) == row.id, col(Assessment.deleted_at).is_(None)
            )
        )
        for a in assessments.all():
            old_path, a.unit_path = a.unit_path, row.unit_path
            a.version += 1
            a.updated_at = utcnow()
            self.uow.record("assessment", a.id, Operation.EXIT, a.version, old_path)
            self.uow.record(
                "assessment",
                a.id,
                Operation.UPDATE,
                a.version,
                a.unit_path,
                {"unit_path": [old_path, a.unit_path]},
            )
        await self.session.execute(
            update(StatusRecord)
            .where(col(StatusRecord.household_id) == row.id)
            .values(unit_path=row.unit_path)
        )
        for m in await self._members_of(row):
            old_path = m.unit_path
            m.unit_path = row.unit_path
            m.version += 1
            m.updated_at = utcnow()
            self.uow.record("member", m.id, Operation.EXIT, m.version, old_path)
            self.uow.record(
                "member",
                m.id,
                Operation.UPDATE,
                m.version,
                m.unit_path,
                {"unit_path": [old_path, m.unit_path]},
            )

    async def delete(self, household_id: uuid.UUID, if_match: int | None = None) -> None:
        access.require(self.principal, Permission.HOUSEHOLDS_WRITE)
        row = await self.load(household_id, for_update=True)
        check_version(if_match, row.version, "the household")
        now = utcnow()
        for m in await self._members_of(row):
            m.deleted_at, m.updated_at, m.version = now, now, m.version + 1
            self.uow.record("member", m.id, Operation.DELETE, m.version, m.unit_path)
        row.deleted_at = now
        self.bump(row)
        await self.uow.flush()
        self.uow.record(ENTITY, row.id, Operation.DELETE, row.version, row.unit_path)
        await self.uow.commit()

    async def set_head(self, row: Household, member_id: uuid.UUID | None) -> None:
        """Point the household at its head (a helper of membership use cases: flushes only)."""
        before = row.head_member_id
        row.head_member_id = member_id
        self.bump(row)
        self.uow.record(
            ENTITY,
            row.id,
            Operation.MEMBERSHIP,
            row.version,
            row.unit_path,
            {"head_member_id": [_s(before), _s(member_id)]},
        )


def _s(value: uuid.UUID | None) -> str | None:
    return None if value is None else str(value)
