import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from api.deps import IfMatchDep, RequestKeyDep, ServicesDep
from api.domain.pagination import Page
from api.domain.review.campaigns import YEAR_MAX, YEAR_MIN
from api.domain.review.lifecycle import BatchTransition, TransitionRequest
from api.domain.review.models import (
    AssessmentCreate,
    AssessmentPublic,
    AssessmentUpdate,
    CampaignCreate,
    CampaignPublic,
    State,
    StatusAsOf,
    StatusPublic,
)
from api.domain.review.standards import Standard
from api.domain.strict import Day
from api.routers.common import ERRORS, WRITE_ERRORS, After, Limit, etag

router = APIRouter(prefix="/api/v1", tags=["review"], responses=ERRORS)


@router.get("/standards", tags=["standards"])
async def list_standards(svc: ServicesDep) -> list[Standard]:
    """The poverty standards the service knows, oldest first, with their lines, indicators
    and rule. An assessment uses the standard in force on its campaign's review date."""
    return svc.review.standards()


@router.get("/standards/{code}", tags=["standards"])
async def get_standard(svc: ServicesDep, code: str) -> Standard:
    """One standard: validity, income lines (and local lines by province), the rule's shape,
    and each indicator with its derivation rule and confidence."""
    return svc.review.standard(code)


@router.post("/campaigns", status_code=201, responses=WRITE_ERRORS)
async def create_campaign(
    svc: ServicesDep, body: CampaignCreate, key: RequestKeyDep, response: Response
) -> CampaignPublic:
    """Open a review in a commune: periodic (1 September – 14 December) or regular (on a
    household's request, closing within 15 days)."""
    campaign = await svc.review.create_campaign(body, key)
    response.headers["Location"] = f"/api/v1/campaigns/{campaign.id}"
    return campaign


@router.get("/campaigns")
async def list_campaigns(
    svc: ServicesDep,
    commune: Annotated[str | None, Query(max_length=16)] = None,
    year: Annotated[
        int | None,
        # Published here, checked by the service, so GraphQL's `year` is refused alike.
        Query(json_schema_extra={"minimum": YEAR_MIN, "maximum": YEAR_MAX}),
    ] = None,
) -> list[CampaignPublic]:
    """Campaigns in your area, by opening date; filter by commune and year."""
    return await svc.review.campaigns(commune, year)


@router.get("/campaigns/{campaign_id}")
async def get_campaign(svc: ServicesDep, campaign_id: uuid.UUID) -> CampaignPublic:
    """One campaign: commune, kind, window and the standard it applies."""
    return await svc.review.campaign(campaign_id)


@router.post("/campaigns/{campaign_id}/transitions", responses=WRITE_ERRORS)
async def transition_campaign_assessments(
    svc: ServicesDep, campaign_id: uuid.UUID, body: BatchTransition
) -> list[AssessmentPublic]:
    """One step for a list of the campaign's assessments, all or nothing: a village
    meeting's results, a recognition decision. A refusal names the failing item's `index`."""
    return await svc.review.transition_many(campaign_id, body.assessment_ids, body)


@router.post("/assessments", status_code=201, responses=WRITE_ERRORS)
async def create_assessment(
    svc: ServicesDep, body: AssessmentCreate, key: RequestKeyDep, response: Response
) -> AssessmentPublic:
    """Record a household's survey as a draft. Indicators the registry's facts give are
    derived (see `indicators[].derivation`); answer the others. The class is computed."""
    assessment = await svc.review.create_assessment(body, key)
    response.headers["Location"] = f"/api/v1/assessments/{assessment.id}"
    etag(response, assessment.version)
    return assessment


@router.get("/assessments")
async def list_assessments(
    svc: ServicesDep,
    after: After = None,
    limit: Limit = 50,
    campaign_id: uuid.UUID | None = None,
    household_id: uuid.UUID | None = None,
    state: Annotated[list[State] | None, Query()] = None,
) -> Page[AssessmentPublic]:
    """Assessments in your area, oldest first, a page at a time; filter by campaign,
    household and state."""
    return await svc.review.find_assessments(after, limit, campaign_id, household_id, state)


@router.get("/assessments/{assessment_id}")
async def get_assessment(
    svc: ServicesDep, assessment_id: uuid.UUID, response: Response
) -> AssessmentPublic:
    """One assessment: answers, each indicator with its derivation, the computed class and
    every step of the review so far. `ETag` carries the version."""
    assessment = await svc.review.assessment(assessment_id)
    etag(response, assessment.version)
    return assessment


@router.patch("/assessments/{assessment_id}", responses=WRITE_ERRORS)
async def update_assessment(
    svc: ServicesDep,
    assessment_id: uuid.UUID,
    body: AssessmentUpdate,
    if_match: IfMatchDep,
    response: Response,
) -> AssessmentPublic:
    """Change a draft (or one returned for re-survey); the class is computed again."""
    assessment = await svc.review.update_assessment(assessment_id, body, if_match)
    etag(response, assessment.version)
    return assessment


@router.post("/assessments/{assessment_id}/transitions", responses=WRITE_ERRORS)
async def transition_assessment(
    svc: ServicesDep,
    assessment_id: uuid.UUID,
    body: TransitionRequest,
    if_match: IfMatchDep,
    response: Response,
) -> AssessmentPublic:
    """Take the next step of the review. A step not allowed from the current state is
    refused with 409 `invalid_transition` and changes nothing."""
    assessment = await svc.review.transition(assessment_id, body, if_match)
    etag(response, assessment.version)
    return assessment


@router.get("/households/{household_id}/status", tags=["households"])
async def household_status(
    svc: ServicesDep,
    household_id: uuid.UUID,
    as_of: Annotated[Day | None, Query(description="Default: today")] = None,
) -> StatusAsOf:
    """The household's recognised status on a date, and whether it newly escaped poverty."""
    return await svc.review.status_as_of(household_id, as_of)


@router.get("/households/{household_id}/status-history", tags=["households"])
async def household_status_history(svc: ServicesDep, household_id: uuid.UUID) -> list[StatusPublic]:
    """Every recognised status period of the household, oldest first, with the movement
    each decision made and the report flags at the time."""
    return await svc.review.status_history(household_id)
