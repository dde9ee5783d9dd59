import uuid

import strawberry

from api.domain.households.member_models import HeadChange, MemberCreate, MemberLeave, MemberUpdate
from api.domain.households.models import HouseholdCreate, HouseholdUpdate
from api.schema.inputs import (
    HeadChangeInput,
    HouseholdInput,
    HouseholdPatch,
    MemberInput,
    MemberLeaveInput,
    MemberPatch,
    request_key,
    to_model,
)
from api.schema.plans import PlanMutation
from api.schema.review_ops import ReviewMutation
from api.schema.sync_ops import SyncMutation
from api.schema.types import Deleted, Household, Info, Member, as_type


@strawberry.type
class Mutation(ReviewMutation, PlanMutation, SyncMutation):
    @strawberry.mutation(description="Register a household; `idempotencyKey` makes retries safe")
    async def create_household(
        self, info: Info, input: HouseholdInput, idempotency_key: str | None = None
    ) -> Household:
        data = to_model(HouseholdCreate, input)
        key = request_key(idempotency_key, "createHousehold", data)
        return as_type(Household, await info.context.services.households.create(data, key))

    @strawberry.mutation(description="Change fields; `input.version` refuses stale changes")
    async def update_household(self, info: Info, id: uuid.UUID, input: HouseholdPatch) -> Household:
        data = to_model(HouseholdUpdate, input)
        return as_type(Household, await info.context.services.households.update(id, data))

    @strawberry.mutation
    async def delete_household(
        self, info: Info, id: uuid.UUID, expected_version: int | None = None
    ) -> Deleted:
        await info.context.services.households.delete(id, expected_version)
        return Deleted(id=id)

    @strawberry.mutation
    async def add_member(
        self,
        info: Info,
        household_id: uuid.UUID,
        input: MemberInput,
        idempotency_key: str | None = None,
    ) -> Member:
        data = to_model(MemberCreate, input)
        key = request_key(idempotency_key, f"addMember {household_id}", data)
        return as_type(Member, await info.context.services.members.create(household_id, data, key))

    @strawberry.mutation
    async def update_member(self, info: Info, id: uuid.UUID, input: MemberPatch) -> Member:
        data = to_model(MemberUpdate, input)
        return as_type(Member, await info.context.services.members.update(id, data))

    @strawberry.mutation(description="The member moved out or died")
    async def leave_household(
        self,
        info: Info,
        member_id: uuid.UUID,
        input: MemberLeaveInput,
        idempotency_key: str | None = None,
    ) -> Member:
        data = to_model(MemberLeave, input)
        key = request_key(idempotency_key, f"leaveHousehold {member_id}", data)
        return as_type(Member, await info.context.services.members.leave(member_id, data, key))

    @strawberry.mutation
    async def change_head(
        self,
        info: Info,
        household_id: uuid.UUID,
        input: HeadChangeInput,
        idempotency_key: str | None = None,
    ) -> Household:
        data = to_model(HeadChange, input)
        key = request_key(idempotency_key, f"changeHead {household_id}", data)
        return as_type(
            Household, await info.context.services.members.change_head(household_id, data, key)
        )

    @strawberry.mutation(description="Remove a member recorded in error")
    async def delete_member(
        self, info: Info, id: uuid.UUID, expected_version: int | None = None
    ) -> Deleted:
        await info.context.services.members.delete(id, expected_version)
        return Deleted(id=id)
