"""What the review's use cases share: the request's services, and small helpers."""

import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import date
from typing import Any

from api.domain import access
from api.domain.access import Principal
from api.domain.errors import FieldProblem, NotFound, ValidationFailed
from api.domain.households.member_models import Member
from api.domain.households.members import MemberService
from api.domain.households.models import Household
from api.domain.households.service import HouseholdService
from api.domain.review.derive import reads
from api.domain.review.models import (
    Answers,
    Assessment,
    AssessmentPublic,
    Campaign,
    CampaignPublic,
)
from api.domain.review.places import Place
from api.domain.review.standards import Catalog, catalog


def campaign_public(row: Campaign) -> CampaignPublic:
    return CampaignPublic.model_validate(row, from_attributes=True)


def assessment_public(row: Assessment) -> AssessmentPublic:
    return AssessmentPublic.model_validate(row, from_attributes=True)


def assessment_view(row: Assessment, principal: Principal, standards: Catalog) -> AssessmentPublic:
    """The assessment as the reader may see it: derivations that would tell a personal field
    hidden from the reader are withheld, and named in `redacted`."""
    public = assessment_public(row)
    standard = standards.get(row.standard_code)
    hidden = access.withheld(
        principal,
        {
            r.code: reads(indicator)
            for r in public.indicators
            if (indicator := standard.indicator(r.code)) is not None
        },
    )
    if not hidden:
        return public
    return public.model_copy(
        update={
            "indicators": [
                r.model_copy(update={"derivation": None}) if r.code in hidden else r
                for r in public.indicators
            ],
            "redacted": sorted(f"indicators.{code}.derivation" for code in hidden),
        }
    )


class ReviewBase:
    def __init__(
        self,
        households: HouseholdService,
        members: MemberService,
        standards: Catalog | None = None,
        newly_escaped_years: int = 3,
    ) -> None:
        self.households = households
        self.members = members
        self.uow = households.uow
        self.session = households.session
        self.principal = households.principal
        self.units = households.units
        self.catalog = standards or catalog()
        self.newly_escaped_years = newly_escaped_years
        # Told of each recognition, in its transaction (the benefit slice records the
        # support needs the assessment found).
        self.on_recognised: list[Callable[[Household, Answers, date], Awaitable[None]]] = []
        # Units do not change within a request: a batch of surveys looks each village up once.
        self._places: dict[tuple[str, date], Place] = {}

    async def _household(self, household_id: uuid.UUID) -> Household:
        try:
            return await self.households.load(household_id)
        except NotFound:
            raise ValidationFailed(
                [FieldProblem("household_id", "no such household in your area", "not_found")]
            ) from None

    async def _members(self, household_id: uuid.UUID) -> Sequence[Member]:
        return await self.members.active(household_id)

    def _shown(self, row: Assessment) -> AssessmentPublic:
        return assessment_view(row, self.principal, self.catalog)


def enum_value(value: Any) -> Any:
    return getattr(value, "value", value)
