"""Review queries and mutations; the Query and Mutation roots inherit them."""

import uuid
from datetime import date
from typing import Annotated, TypeVar

import strawberry
from pydantic import BaseModel

from api.domain.review.lifecycle import BatchTransition, TransitionRequest
from api.domain.review.models import (
    AssessmentCreate,
    AssessmentUpdate,
    CampaignCreate,
    State,
)
from api.domain.review.report_models import Assumption, RateBasis
from api.schema.inputs import request_key, to_model
from api.schema.review import (
    Assessment,
    AssessmentInput,
    AssessmentPatch,
    Campaign,
    CampaignInput,
    ReviewReport,
    Standard,
    StatusAsOf,
    TransitionInput,
    WhatIf,
    plain,
    standard_type,
)
from api.schema.types import Connection, Edge, Info, PageInfo, as_type

M = TypeVar("M", bound=BaseModel)


def _validated(model: type[M], value: object, argument: str = "input") -> M:
    return to_model(model, _Plain(plain(value)), argument)


class _Plain:
    """Plain data in the shape `to_model` reads (attributes of an input object)."""

    def __init__(self, data: dict[str, object]) -> None:
        self.__dict__.update(data)


@strawberry.type
class ReviewQuery:
    @strawberry.field(description="Poverty standards, oldest first")
    def standards(self, info: Info) -> list[Standard]:
        return [standard_type(s) for s in info.context.services.review.standards()]

    @strawberry.field
    def standard(self, info: Info, code: str) -> Standard:
        return standard_type(info.context.services.review.standard(code))

    @strawberry.field(description="Review campaigns in your area")
    async def campaigns(
        self, info: Info, commune: str | None = None, year: int | None = None
    ) -> list[Campaign]:
        found = await info.context.services.review.campaigns(commune, year)
        return [as_type(Campaign, c) for c in found]

    @strawberry.field
    async def campaign(self, info: Info, id: uuid.UUID) -> Campaign:
        return as_type(Campaign, await info.context.services.review.campaign(id))

    @strawberry.field(description="Assessments in your area, oldest first")
    async def assessments(
        self,
        info: Info,
        campaign_id: uuid.UUID | None = None,
        household_id: uuid.UUID | None = None,
        state: list[State] | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> Connection[Assessment]:
        page = await info.context.services.review.find_assessments(
            after, first, campaign_id, household_id, state
        )
        return Connection(
            edges=[
                Edge(cursor=c, node=as_type(Assessment, a))
                for a, c in zip(page.items, page.cursors(), strict=True)
            ],
            page_info=PageInfo(has_next_page=page.has_more, end_cursor=page.next_cursor),
        )

    @strawberry.field
    async def assessment(self, info: Info, id: uuid.UUID) -> Assessment:
        return as_type(Assessment, await info.context.services.review.assessment(id))

    @strawberry.field(description="A household's recognised status on a date (default today)")
    async def household_status(
        self, info: Info, household_id: uuid.UUID, as_of: date | None = None
    ) -> StatusAsOf:
        found = await info.context.services.review.status_as_of(household_id, as_of)
        return as_type(StatusAsOf, found)

    @strawberry.field(description="The review report for a unit and period")
    async def review_report(
        self,
        info: Info,
        unit: str,
        from_: Annotated[date, strawberry.argument(name="from")],
        to: date,
        rate: RateBasis = RateBasis.HOUSEHOLDS,
    ) -> ReviewReport:
        report = await info.context.services.reports.review(unit, from_, to, rate)
        return as_type(ReviewReport, report)

    @strawberry.field(description="Who would change class under another standard")
    async def what_if(
        self,
        info: Info,
        unit: str,
        standard: str,
        as_of: date | None = None,
        unknown: Assumption = Assumption.NOT_DEPRIVED,
    ) -> WhatIf:
        found = await info.context.services.reports.what_if(unit, standard, as_of, unknown)
        return as_type(WhatIf, found)


@strawberry.type
class ReviewMutation:
    @strawberry.mutation(description="Open a review campaign in a commune")
    async def create_campaign(
        self, info: Info, input: CampaignInput, idempotency_key: str | None = None
    ) -> Campaign:
        data = _validated(CampaignCreate, input)
        key = request_key(idempotency_key, "createCampaign", data)
        return as_type(Campaign, await info.context.services.review.create_campaign(data, key))

    @strawberry.mutation(description="Record a survey as a draft; the class is computed")
    async def create_assessment(
        self, info: Info, input: AssessmentInput, idempotency_key: str | None = None
    ) -> Assessment:
        data = _validated(AssessmentCreate, input)
        key = request_key(idempotency_key, "createAssessment", data)
        created = await info.context.services.review.create_assessment(data, key)
        return as_type(Assessment, created)

    @strawberry.mutation(description="Change a draft or returned assessment")
    async def update_assessment(
        self, info: Info, id: uuid.UUID, input: AssessmentPatch
    ) -> Assessment:
        data = _validated(AssessmentUpdate, input)
        return as_type(Assessment, await info.context.services.review.update_assessment(id, data))

    @strawberry.mutation(description="Take the next step; `invalid_transition` if not allowed")
    async def transition_assessment(
        self, info: Info, id: uuid.UUID, input: TransitionInput
    ) -> Assessment:
        data = _validated(TransitionRequest, input)
        return as_type(Assessment, await info.context.services.review.transition(id, data))

    @strawberry.mutation(description="One step for many assessments of a campaign, all or none")
    async def transition_assessments(
        self,
        info: Info,
        campaign_id: uuid.UUID,
        assessment_ids: list[uuid.UUID],
        input: TransitionInput,
    ) -> list[Assessment]:
        data = _validated(
            BatchTransition, _Plain({**plain(input), "assessment_ids": assessment_ids})
        )
        done = await info.context.services.review.transition_many(
            campaign_id, data.assessment_ids, data
        )
        return [as_type(Assessment, a) for a in done]
