import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import ServicesDep
from api.domain.benefits.models import Eligibility
from api.domain.benefits.policies import Policy
from api.domain.strict import Day
from api.routers.common import ERRORS

router = APIRouter(prefix="/api/v1", tags=["benefits"], responses=ERRORS)


@router.get("/benefit-policies")
async def list_benefit_policies(
    svc: ServicesDep,
    on: Annotated[Day | None, Query(description="Only the versions in force that day")] = None,
) -> list[Policy]:
    """Support policies as versioned data: who qualifies (clauses), the parameters (amounts,
    shares, rates, dated tariffs), what counts as served, the delivering agency, and each
    version's legal basis with its confidence (S read in the source, C consistent sources,
    U unverified)."""
    return svc.benefits.policies(on)


@router.get("/benefit-policies/{code}")
async def get_benefit_policy(svc: ServicesDep, code: str) -> Policy:
    """One policy with all its versions."""
    return svc.benefits.policy(code)


@router.get("/households/{household_id}/eligibility", tags=["households"])
async def household_eligibility(
    svc: ServicesDep,
    household_id: uuid.UUID,
    as_of: Annotated[Day | None, Query(description="Default: today")] = None,
    policy: Annotated[list[str] | None, Query(description="Only these policies")] = None,
) -> Eligibility:
    """For the household and each member, each policy in force on the day: eligible (the
    population), needing (the need or application an on-need policy asks for is recorded),
    entitled, the amount, and the reasons, in Vietnamese. Read like the household's status:
    in your area, and by partners with a stated purpose (logged)."""
    return await svc.benefits.eligibility(household_id, as_of, policy)
