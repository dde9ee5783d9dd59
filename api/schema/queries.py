import uuid
from datetime import date

import strawberry

from api.domain.households.models import HouseholdFilter
from api.domain.identity.service import me
from api.domain.units.models import UnitLevel
from api.schema.benefits import BenefitQuery
from api.schema.inputs import HouseholdFilterInput, to_model
from api.schema.plans import PlanQuery
from api.schema.review_ops import ReviewQuery
from api.schema.sync_ops import SyncQuery
from api.schema.types import (
    Change,
    ChangeFeedPage,
    Connection,
    Household,
    Info,
    Me,
    Member,
    Unit,
    as_type,
    household_connection,
    unit_connection,
)


@strawberry.type
class Query(ReviewQuery, BenefitQuery, PlanQuery, SyncQuery):
    @strawberry.field(description="Administrative units ordered by code")
    async def units(
        self,
        info: Info,
        level: UnitLevel | None = None,
        as_of: date | None = None,
        q: str | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> Connection[Unit]:
        page = await info.context.services.units.find(
            level=level, as_of=as_of, q=q, after=after, limit=first
        )
        return unit_connection(page)

    @strawberry.field(description="One unit, with its name and type on `asOf` (default: current)")
    async def unit(self, info: Info, code: str, as_of: date | None = None) -> Unit:
        return as_type(Unit, await info.context.services.units.detail(code, as_of))

    @strawberry.field(description="The unit and everything under it on `asOf`, top-down")
    async def unit_subtree(self, info: Info, code: str, as_of: date | None = None) -> list[Unit]:
        units = await info.context.services.units.subtree(code, as_of)
        return [as_type(Unit, u) for u in units]

    @strawberry.field(description="Live households, oldest first")
    async def households(
        self,
        info: Info,
        filter: HouseholdFilterInput | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> Connection[Household]:
        flt = (
            to_model(HouseholdFilter, filter, "filter") if filter is not None else HouseholdFilter()
        )
        page = await info.context.services.households.find(flt, after, first)
        return household_connection(page)

    @strawberry.field
    async def household(self, info: Info, id: uuid.UUID) -> Household:
        return as_type(Household, await info.context.services.households.get(id))

    @strawberry.field
    async def member(self, info: Info, id: uuid.UUID) -> Member:
        return as_type(Member, await info.context.services.members.get(id))

    @strawberry.field(description="Who the token names and what it may do")
    def me(self, info: Info) -> Me:
        return as_type(Me, me(info.context.services.principal))

    @strawberry.field(description="Committed writes in commit order, after `after`")
    async def changes(
        self, info: Info, after: str | None = None, first: int = 100
    ) -> ChangeFeedPage:
        page = await info.context.services.changes.page(after, first)
        return ChangeFeedPage(
            items=[as_type(Change, c) for c in page.items],
            next_cursor=page.next_cursor,
            has_more=page.has_more,
        )
