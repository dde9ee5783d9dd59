import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from api.domain import access
from api.domain.access import Permission
from api.domain.base import diff, new_id, snapshot
from api.domain.changes.models import Operation
from api.domain.errors import (
    Conflict,
    DuplicatePersonalId,
    FieldProblem,
    ValidationFailed,
)
from api.domain.households.checks import PersonalIdChecks
from api.domain.households.member_models import (
    HeadChange,
    LeaveReason,
    Member,
    MemberCreate,
    MemberLeave,
    MemberPublic,
    MembershipEvent,
    MembershipEventKind,
    MembershipEventPublic,
    MembershipStatus,
    MemberUpdate,
    Relation,
)
from api.domain.households.models import Household, HouseholdPublic
from api.domain.households.records import MEMBER
from api.domain.households.service import HouseholdService
from api.domain.kernel.records import RecordService, check_version, parent_id
from api.domain.kernel.registry import Stored
from api.domain.text import folded_key, lower_key
from api.domain.uow import RequestKey, UnitOfWork


class MemberService(RecordService[Member, MemberPublic]):
    registration = MEMBER

    def __init__(
        self, uow: UnitOfWork, households: HouseholdService, checks: PersonalIdChecks
    ) -> None:
        super().__init__(uow)
        self.households = households
        self.checks = checks

    async def get(self, member_id: uuid.UUID) -> MemberPublic:
        self.reading()
        (shown,) = await self.shown([await self.load(member_id)])
        return shown

    async def of_household(
        self, household_id: uuid.UUID, *, include_former: bool = False
    ) -> list[MemberPublic]:
        access.require(self.principal, Permission.HOUSEHOLDS_READ)
        await self.households.load(household_id)
        return (await self.for_households([household_id], include_former=include_former))[
            household_id
        ]

    async def for_households(
        self, household_ids: Iterable[uuid.UUID], *, include_former: bool = False
    ) -> dict[uuid.UUID, list[MemberPublic]]:
        """Members of many households in one query (the GraphQL loaders call this)."""
        self.reading()
        ids = list(dict.fromkeys(household_ids))
        result: dict[uuid.UUID, list[MemberPublic]] = defaultdict(list)
        if not ids:
            return result
        stmt = self.registration.readable(self.principal).where(col(Member.household_id).in_(ids))
        if not include_former:
            stmt = stmt.where(col(Member.membership_status) == MembershipStatus.ACTIVE)
        stmt = access.scoped(stmt, self.principal, col(Member.unit_path)).order_by(
            col(Member.household_id),
            col(Member.created_at),
            col(Member.id),
        )
        rows = (await self.session.scalars(stmt)).all()
        for row, shown in zip(rows, await self.shown(rows), strict=True):
            result[row.household_id].append(shown)
        return result

    async def create(
        self, household_id: uuid.UUID, data: MemberCreate, key: RequestKey | None = None
    ) -> MemberPublic:
        access.require(self.principal, Permission.HOUSEHOLDS_WRITE)
        return await self.checks.kept(
            lambda: self.uow.run_keyed(
                key, MemberPublic, 201, lambda: self._create(household_id, data)
            )
        )

    async def _create(self, household_id: uuid.UUID, data: MemberCreate) -> MemberPublic:
        household = await self.households.load(household_id, for_update=True)
        member_id = data.id or new_id()
        if await self.session.get(Member, member_id) is not None:
            raise Conflict(
                f"a member with id {member_id} already exists",
                extra={"existing_id": str(member_id)},
            )
        await self._check_personal_id(data.personal_id, None)
        if data.relation_to_head == Relation.HEAD and household.head_member_id is not None:
            raise Conflict(
                "the household already has a head; change the head instead",
                extra={"head_member_id": str(household.head_member_id)},
            )
        joined = data.joined_on or date.today()
        row = Member.model_validate(
            data.model_dump(exclude={"id", "joined_on"}),
            update={
                "id": member_id,
                "household_id": household.id,
                "unit_path": household.unit_path,
                "joined_on": joined,
                "name_lower": lower_key(data.full_name),
                "name_folded": folded_key(data.full_name),
            },
        )
        self.session.add(row)
        await self.uow.flush()
        self.uow.created(self.entity, row, diff({}, _facts(row)))
        self._event(household.id, row.id, MembershipEventKind.JOINED, joined)
        if row.relation_to_head == Relation.HEAD:
            self._event(household.id, row.id, MembershipEventKind.BECAME_HEAD, joined)
            self.households.set_head(household, row.id)
        await self.checks.settle()
        await self.uow.flush()
        return self.public(row)

    async def update(
        self, member_id: uuid.UUID, data: MemberUpdate, if_match: int | None = None
    ) -> MemberPublic:
        access.require(self.principal, Permission.HOUSEHOLDS_WRITE)
        return await self.checks.kept(lambda: self._update(member_id, data, if_match))

    async def _update(
        self, member_id: uuid.UUID, data: MemberUpdate, if_match: int | None
    ) -> MemberPublic:
        row = await self.load(member_id, for_update=True)
        check_version(
            data.version if data.version is not None else if_match, row.version, "the member"
        )
        changes = data.model_dump(exclude_unset=True, exclude={"version"})
        if "relation_to_head" in changes and (
            (changes["relation_to_head"] == Relation.HEAD)
            != (row.relation_to_head == Relation.HEAD)
        ):
            raise ValidationFailed(
                [
                    FieldProblem(
                        "relation_to_head",
                        "use the household's head change to appoint or replace a head",
                        "head_change_required",
                    )
                ]
            )
        if changes.get("personal_id") and changes["personal_id"] != row.personal_id:
            await self._check_personal_id(changes["personal_id"], row.id)
        before = _facts(row)
        for name, value in changes.items():
            setattr(row, name, value)
        row.name_lower, row.name_folded = lower_key(row.full_name), folded_key(row.full_name)
        changed = diff(before, _facts(row))
        if not changed:
            return self.public(row)
        self.uow.touch(self.entity, row, diff=changed)
        await self.checks.settle()
        await self.uow.commit()
        return self.public(row)

    async def leave(
        self, member_id: uuid.UUID, data: MemberLeave, key: RequestKey | None = None
    ) -> MemberPublic:
        """A member leaves the household or dies; the record stays in its history."""
        access.require(self.principal, Permission.HOUSEHOLDS_WRITE)
        return await self.uow.run_keyed(
            key, MemberPublic, 200, lambda: self._leave(member_id, data)
        )

    async def _leave(self, member_id: uuid.UUID, data: MemberLeave) -> MemberPublic:
        row = await self.load(member_id, for_update=True)
        check_version(data.version, row.version, "the member")
        if row.membership_status != MembershipStatus.ACTIVE:
            raise Conflict(f"the member already has status {row.membership_status.value}")
        if data.occurred_on < (row.joined_on or date.min):
            raise ValidationFailed([FieldProblem("occurred_on", "is before the member joined")])
        household = await self.households.load(row.household_id, for_update=True)
        died = data.reason == LeaveReason.DIED
        before = _facts(row)
        row.membership_status = MembershipStatus.DECEASED if died else MembershipStatus.LEFT
        row.left_on = data.occurred_on
        self.uow.touch(self.entity, row, Operation.MEMBERSHIP, diff(before, _facts(row)))
        kind = MembershipEventKind.DIED if died else MembershipEventKind.LEFT
        self._event(household.id, row.id, kind, data.occurred_on, data.note or data.reason.value)
        if household.head_member_id == row.id:
            self._event(household.id, row.id, MembershipEventKind.CEASED_HEAD, data.occurred_on)
            self.households.set_head(household, None)
        await self.uow.flush()
        return self.public(row)

    async def change_head(
        self, household_id: uuid.UUID, data: HeadChange, key: RequestKey | None = None
    ) -> HouseholdPublic:
        access.require(self.principal, Permission.HOUSEHOLDS_WRITE)
        return await self.uow.run_keyed(
            key, HouseholdPublic, 200, lambda: self._change_head(household_id, data)
        )

    async def _change_head(self, household_id: uuid.UUID, data: HeadChange) -> HouseholdPublic:
        household = await self.households.load(household_id, for_update=True)
        check_version(data.version, household.version, "the household")
        new_head = await self.load(data.member_id, for_update=True)
        if new_head.household_id != household.id or (
            new_head.membership_status != MembershipStatus.ACTIVE
        ):
            raise ValidationFailed(
                [
                    FieldProblem(
                        "member_id", "is not an active member of this household", "not_a_member"
                    )
                ]
            )
        if household.head_member_id == new_head.id:
            return self.households.public(household)
        if household.head_member_id is not None:
            old_head = await self.load(household.head_member_id, for_update=True)
            self._set_relation(old_head, data.previous_head_relation)
            self._event(
                household.id, old_head.id, MembershipEventKind.CEASED_HEAD, data.occurred_on
            )
        self._set_relation(new_head, Relation.HEAD)
        self._event(household.id, new_head.id, MembershipEventKind.BECAME_HEAD, data.occurred_on)
        self.households.set_head(household, new_head.id)
        await self.uow.flush()
        return self.households.public(household)

    async def delete(self, member_id: uuid.UUID, if_match: int | None = None) -> None:
        """Remove a member recorded in error (a departure is `leave`, not a delete)."""
        access.require(self.principal, Permission.HOUSEHOLDS_WRITE)
        row = await self.load(member_id, for_update=True)
        check_version(if_match, row.version, "the member")
        household = await self.households.load(row.household_id, for_update=True)
        if household.head_member_id == row.id:
            self.households.set_head(household, None)
        self.uow.remove(self.entity, row)
        await self.uow.commit()

    async def history(self, household_id: uuid.UUID) -> list[MembershipEventPublic]:
        self.reading()
        await self.households.load(household_id)
        return (await self.histories([household_id]))[household_id]

    async def histories(
        self, household_ids: Iterable[uuid.UUID]
    ) -> dict[uuid.UUID, list[MembershipEventPublic]]:
        """Membership events of many households in one query, oldest first (scoped)."""
        self.reading()
        result: dict[uuid.UUID, list[MembershipEventPublic]] = defaultdict(list)
        stmt = (
            select(MembershipEvent)
            .join(Household, col(Household.id) == col(MembershipEvent.household_id))
            .where(col(MembershipEvent.household_id).in_(list(household_ids)))
            .order_by(col(MembershipEvent.occurred_on), col(MembershipEvent.recorded_at))
        )
        stmt = access.scoped(stmt, self.principal, col(Household.unit_path))
        for row in (await self.session.scalars(stmt)).all():
            result[row.household_id].append(
                MembershipEventPublic.model_validate(row, from_attributes=True)
            )
        return result

    async def active(self, household_id: uuid.UUID) -> Sequence[Member]:
        """The household's members today, as rows (for the review's derivations)."""
        return (
            await self.session.scalars(
                select(Member).where(
                    col(Member.household_id) == household_id,
                    col(Member.deleted_at).is_(None),
                    col(Member.membership_status) == MembershipStatus.ACTIVE,
                )
            )
        ).all()

    # Device sync calls the same use cases.

    async def create_record(self, record_id: uuid.UUID, data: dict[str, Any]) -> Stored:
        household = parent_id(data, "household_id")
        m = await self.create(household, MemberCreate.model_validate({**data, "id": record_id}))
        return Stored(m.version, m.unit_path)

    async def update_record(
        self, record_id: uuid.UUID, data: dict[str, Any], version: int
    ) -> Stored:
        m = await self.update(record_id, MemberUpdate.model_validate(data), version)
        return Stored(m.version, m.unit_path)

    async def delete_record(self, record_id: uuid.UUID, version: int) -> None:
        await self.delete(record_id, version)

    def _set_relation(self, row: Member, relation: Relation) -> None:
        before = row.relation_to_head
        row.relation_to_head = relation
        self.uow.touch(
            self.entity,
            row,
            Operation.MEMBERSHIP,
            {"relation_to_head": [before.value, relation.value]},
        )

    def _event(
        self,
        household_id: uuid.UUID,
        member_id: uuid.UUID,
        kind: MembershipEventKind,
        occurred_on: date,
        note: str | None = None,
    ) -> None:
        self.session.add(
            MembershipEvent(
                id=new_id(),
                household_id=household_id,
                member_id=member_id,
                kind=kind,
                occurred_on=occurred_on,
                note=note,
                actor=self.principal.subject,
            )
        )

    async def _check_personal_id(self, personal_id: str | None, own_id: uuid.UUID | None) -> None:
        """Refuse an ID another active person holds. Within the caller's area the holder is
        named so it can be resolved; outside it the answer says only that the ID is taken."""
        if personal_id is None:
            return
        await self.checks.spend()
        stmt = select(col(Member.id), col(Member.household_id), col(Member.unit_path)).where(
            col(Member.personal_id) == personal_id,
            col(Member.deleted_at).is_(None),
            col(Member.membership_status) == MembershipStatus.ACTIVE,
        )
        if own_id is not None:
            stmt = stmt.where(col(Member.id) != own_id)
        found = (await self.session.execute(stmt)).first()
        if found is None:
            return
        member_id, household_id, path = found
        if not access.in_scope(self.principal, path):
            self.checks.found_outside(member_id, path)
            raise DuplicatePersonalId(
                "this personal ID is already recorded for another active person; check it, "
                "or ask the commune officer to resolve the duplicate"
            )
        raise DuplicatePersonalId(
            f"personal ID {personal_id} belongs to active member {member_id}",
            extra={
                "existing_member_id": str(member_id),
                "existing_household_id": str(household_id),
            },
        )


def _facts(row: Member) -> dict[str, object]:
    return snapshot(
        row,
        frozenset(
            {"version", "created_at", "updated_at", "deleted_at", "name_lower", "name_folded"}
        ),
    )
