"""Recording needs: by officers and reviewers, for a household or one of its members."""

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlmodel import col

from api.domain import access
from api.domain.access import Permission
from api.domain.base import diff, new_id
from api.domain.benefits.need_models import (
    Need,
    NeedCreate,
    NeedKind,
    NeedPublic,
    NeedState,
    NeedUpdate,
)
from api.domain.benefits.records import NEED
from api.domain.errors import Conflict, FieldProblem, ValidationFailed
from api.domain.households.members import MemberService
from api.domain.households.models import Household
from api.domain.kernel.records import RecordService, check_version, parent_id
from api.domain.kernel.registry import Stored
from api.domain.review.models import Answers
from api.domain.review.models import Need as ReviewNeed
from api.domain.uow import RequestKey


def _facts(row: Need) -> dict[str, object]:
    return {
        "kind": row.kind.value,
        "member_id": None if row.member_id is None else str(row.member_id),
        "grounds": None if row.grounds is None else row.grounds.value,
        "state": row.state.value,
        "recorded_on": row.recorded_on.isoformat(),
        "note": row.note,
    }


# An assessment's support needs that name a need the policies know. Credit is the household's;
# jobs, health and education are some member's (the form does not say whose), and housing
# does not say new or repair.
FROM_ASSESSMENT = {ReviewNeed.CREDIT: NeedKind.CREDIT}
FROM_ASSESSMENT_NOTE = "Ghi nhận từ phiếu rà soát khi công nhận"


class NeedService(RecordService[Need, NeedPublic]):
    registration = NEED

    def __init__(self, members: MemberService) -> None:
        super().__init__(members.uow)
        self.members = members
        self.households = members.households

    async def create(
        self, household_id: uuid.UUID, data: NeedCreate, key: RequestKey | None = None
    ) -> NeedPublic:
        access.require(self.principal, Permission.HOUSEHOLDS_WRITE)
        return await self.uow.run_keyed(
            key, NeedPublic, 201, lambda: self._create(household_id, data)
        )

    async def _create(self, household_id: uuid.UUID, data: NeedCreate) -> NeedPublic:
        household = await self.households.load(household_id, for_update=True)
        if data.member_id is not None:
            active = {m.id for m in await self.members.active(household.id)}
            if data.member_id not in active:
                raise ValidationFailed(
                    [FieldProblem("member_id", "not a member of this household", "not_found")]
                )
        return await self._record(household, data)

    async def _record(self, household: Household, data: NeedCreate) -> NeedPublic:
        need_id = data.id or new_id()
        if await self.session.get(Need, need_id) is not None:
            raise Conflict(f"a need with id {need_id} already exists")
        row = Need.model_validate(
            data.model_dump(exclude={"id", "recorded_on"}),
            update={
                "id": need_id,
                "household_id": household.id,
                "unit_path": household.unit_path,
                "recorded_on": data.recorded_on or date.today(),
                "recorded_by": self.principal.subject,
            },
        )
        self.session.add(row)
        await self.uow.flush()
        self.uow.created(self.entity, row, diff({}, _facts(row)))
        return self.public(row)

    async def from_assessment(self, household: Household, answers: Answers, on: date) -> None:
        """The household's needs its recognised assessment found, recorded unless one of
        the kind is already open (an earlier review's, or an officer's)."""
        kinds = [FROM_ASSESSMENT[n] for n in answers.needs if n in FROM_ASSESSMENT]
        if not kinds:
            return
        open_kinds = {
            n.kind
            for n in await self.rows(household.id)
            if n.member_id is None and n.state == NeedState.OPEN
        }
        for kind in kinds:
            if kind not in open_kinds:
                data = NeedCreate(kind=kind, recorded_on=on, note=FROM_ASSESSMENT_NOTE)
                await self._record(household, data)

    async def of_household(self, household_id: uuid.UUID) -> list[NeedPublic]:
        self.reading()
        await self.households.load(household_id)
        return await self.shown(await self.rows(household_id))

    async def rows(self, household_id: uuid.UUID) -> Sequence[Need]:
        """The household's live needs, oldest first (the caller has loaded the household)."""
        stmt = (
            self.registration.readable(self.principal)
            .where(col(Need.household_id) == household_id)
            .order_by(col(Need.recorded_on), col(Need.id))
        )
        rows: Sequence[Need] = (await self.session.scalars(stmt)).all()
        return rows

    async def update(
        self, need_id: uuid.UUID, data: NeedUpdate, if_match: int | None = None
    ) -> NeedPublic:
        access.require(self.principal, Permission.HOUSEHOLDS_WRITE)
        row = await self.load(need_id, for_update=True)
        check_version(data.version if data.version is not None else if_match, row.version, "need")
        before = _facts(row)
        changes = data.model_dump(exclude_unset=True, exclude={"version"})
        for name, value in changes.items():
            if name == "state" and value is None:
                raise ValidationFailed(
                    [FieldProblem("state", "may be changed, not cleared", "null")]
                )
            setattr(row, name, value)
        change = diff(before, _facts(row))
        if change:
            self.uow.touch(self.entity, row, diff=change)
        await self.uow.commit()
        return self.public(row)

    # Devices push through these (offline needs) ------------------------------------------

    async def create_record(self, record_id: uuid.UUID, data: dict[str, Any]) -> Stored:
        access.require(self.principal, Permission.HOUSEHOLDS_WRITE)
        household = parent_id(data, "household_id")
        need = await self._create(household, NeedCreate.model_validate({**data, "id": record_id}))
        return Stored(need.version, need.unit_path)

    async def update_record(
        self, record_id: uuid.UUID, data: dict[str, Any], version: int
    ) -> Stored:
        need = await self.update(record_id, NeedUpdate.model_validate(data), version)
        return Stored(need.version, need.unit_path)

    async def delete_record(self, record_id: uuid.UUID, version: int) -> None:
        raise ValidationFailed(
            [FieldProblem("op", "a need is withdrawn (state: withdrawn), not deleted", "invalid")]
        )
