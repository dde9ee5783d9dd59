"""Standards and review campaigns."""

import uuid
from datetime import date, timedelta

from sqlalchemy import select
from sqlmodel import col

from api.domain import access
from api.domain.access import Permission
from api.domain.base import new_id
from api.domain.errors import Conflict, FieldProblem, NotFound, ValidationFailed
from api.domain.kernel.entities import EntityType
from api.domain.review.base import ReviewBase, campaign_public
from api.domain.review.models import Campaign, CampaignCreate, CampaignKind, CampaignPublic
from api.domain.review.standards import Standard
from api.domain.uow import RequestKey

# The years a campaign list may be asked for (the programme's reviews began in the 2000s).
YEAR_MIN, YEAR_MAX = 2000, 2100


class CampaignOps(ReviewBase):
    # Standards -----------------------------------------------------------------------------

    def standards(self) -> list[Standard]:
        access.require(self.principal, Permission.UNITS_READ)
        return self.catalog.standards

    def standard(self, code: str) -> Standard:
        access.require(self.principal, Permission.UNITS_READ)
        return self.catalog.find(code)

    # Campaigns -----------------------------------------------------------------------------

    async def create_campaign(
        self, data: CampaignCreate, key: RequestKey | None = None
    ) -> CampaignPublic:
        access.require(self.principal, Permission.REVIEW_MANAGE)
        return await self.uow.run_keyed(
            key, CampaignPublic, 201, lambda: self._create_campaign(data)
        )

    async def _create_campaign(self, data: CampaignCreate) -> CampaignPublic:
        procedure = self.catalog.procedure
        closes = data.closes_on
        if closes is None:
            closes = (
                date(data.opens_on.year, 12, 14)
                if data.kind == CampaignKind.PERIODIC
                else data.opens_on + timedelta(days=procedure.regular_review_days)
            )
        problems = []
        if closes < data.opens_on:
            problems.append(FieldProblem("closes_on", "before the opening date", "invalid_range"))
        elif data.kind == CampaignKind.PERIODIC and not procedure.periodic_window.contains(
            data.opens_on, closes
        ):
            w = procedure.periodic_window
            problems.append(
                FieldProblem(
                    "opens_on",
                    f"a periodic review runs within {w.from_} to {w.to} of one year",
                    "outside_window",
                )
            )
        elif data.kind == CampaignKind.REGULAR and (closes - data.opens_on).days > (
            procedure.regular_review_days
        ):
            problems.append(
                FieldProblem(
                    "closes_on",
                    f"a regular review closes within {procedure.regular_review_days} days",
                    "outside_window",
                )
            )
        if problems:
            raise ValidationFailed(problems)
        standard = (
            self.catalog.get(data.standard_code, "standard_code")
            if data.standard_code
            else self.catalog.in_force(closes, "closes_on")
        )
        unit = await self.units.get(data.commune_code)
        path = await self._current_path(unit.code)
        if unit.level != "commune" or not access.in_scope(self.principal, path):
            raise ValidationFailed(
                [FieldProblem("commune_code", "not a commune in your area", "out_of_scope")]
            )
        campaign_id = data.id or new_id()
        if await self.session.get(Campaign, campaign_id) is not None:
            raise Conflict(f"a campaign with id {campaign_id} already exists")
        row = Campaign(
            **data.model_dump(exclude={"id", "closes_on", "standard_code"}),
            id=campaign_id,
            closes_on=closes,
            unit_path=path,
            standard_code=standard.code,
            created_by=self.principal.subject,
        )
        self.session.add(row)
        await self.uow.flush()
        self.uow.created(EntityType.CAMPAIGN, row)
        return campaign_public(row)

    async def _current_path(self, code: str) -> str:
        """A commune that no longer exists is filed under the unit it merged into."""
        unit = await self.units.get(code)
        while unit.valid_to is not None:
            following = await self.units.successors(unit.code)
            if not following:
                break
            unit = await self.units.get(following[0].code)
        return unit.path

    async def campaign(self, campaign_id: uuid.UUID) -> CampaignPublic:
        return campaign_public(await self._campaign(campaign_id))

    async def _campaign(self, campaign_id: uuid.UUID, field: str | None = None) -> Campaign:
        access.require(self.principal, Permission.REVIEW_READ)
        stmt = access.scoped(
            select(Campaign).where(col(Campaign.id) == campaign_id),
            self.principal,
            col(Campaign.unit_path),
        )
        row = (await self.session.scalars(stmt)).one_or_none()
        if row is None:
            if field:
                raise ValidationFailed([FieldProblem(field, "no such campaign", "not_found")])
            raise NotFound(f"no campaign {campaign_id}")
        return row

    async def campaigns(
        self, commune: str | None = None, year: int | None = None
    ) -> list[CampaignPublic]:
        access.require(self.principal, Permission.REVIEW_READ)
        if year is not None and not YEAR_MIN <= year <= YEAR_MAX:
            raise ValidationFailed(
                [
                    FieldProblem(
                        "year",
                        f"must be between {YEAR_MIN} and {YEAR_MAX}",
                        "out_of_range",
                        location="query",
                    )
                ]
            )
        stmt = access.scoped(select(Campaign), self.principal, col(Campaign.unit_path))
        if commune:
            stmt = stmt.where(col(Campaign.commune_code) == commune)
        if year is not None:
            stmt = stmt.where(
                col(Campaign.opens_on) >= date(year, 1, 1),
                col(Campaign.opens_on) <= date(year, 12, 31),
            )
        rows = (await self.session.scalars(stmt.order_by(col(Campaign.opens_on)).limit(500))).all()
        return [campaign_public(r) for r in rows]
