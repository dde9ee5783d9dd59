import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from api.deps import IfMatchDep, RequestKeyDep, ServicesDep
from api.domain.households.member_models import (
    HeadChange,
    MemberCreate,
    MemberPublic,
    MembershipEventPublic,
)
from api.domain.households.models import (
    HouseholdCreate,
    HouseholdFilter,
    HouseholdPublic,
    HouseholdUpdate,
    PovertyStatus,
)
from api.domain.pagination import Page
from api.domain.strict import TextBool
from api.routers.common import ERRORS, WRITE_ERRORS, After, Limit, etag

router = APIRouter(prefix="/api/v1/households", tags=["households"], responses=ERRORS)


@router.get("", response_model=Page[HouseholdPublic])
async def list_households(
    svc: ServicesDep,
    after: After = None,
    limit: Limit = 50,
    unit: Annotated[
        str | None, Query(max_length=16, description="Code of a unit: households in its subtree")
    ] = None,
    q: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=120,
            description="Member name (diacritics optional) or personal ID",
        ),
    ] = None,
    status: Annotated[list[PovertyStatus] | None, Query()] = None,
) -> Page[HouseholdPublic]:
    """Live households in a stable order (oldest first), a page at a time."""
    flt = HouseholdFilter(unit=unit, q=q, status=status)
    return await svc.households.find(flt, after, limit)


@router.post("", status_code=201, responses=WRITE_ERRORS)
async def create_household(
    svc: ServicesDep, body: HouseholdCreate, key: RequestKeyDep, response: Response
) -> HouseholdPublic:
    """Register a household in a village. The id may be chosen by the client (offline
    creation); send an `Idempotency-Key` so that a retry never creates a second household."""
    household = await svc.households.create(body, key)
    response.headers["Location"] = f"/api/v1/households/{household.id}"
    etag(response, household.version)
    return household


@router.get("/{household_id}")
async def get_household(
    svc: ServicesDep, household_id: uuid.UUID, response: Response
) -> HouseholdPublic:
    """One household. The `ETag` header carries its version for conditional updates."""
    household = await svc.households.get(household_id)
    etag(response, household.version)
    return household


@router.patch("/{household_id}", responses=WRITE_ERRORS)
async def update_household(
    svc: ServicesDep,
    household_id: uuid.UUID,
    body: HouseholdUpdate,
    if_match: IfMatchDep,
    response: Response,
) -> HouseholdPublic:
    """Change some fields. Send `If-Match` (or `version`) to refuse the change with 412 when
    someone else changed the household since you read it."""
    household = await svc.households.update(household_id, body, if_match)
    etag(response, household.version)
    return household


@router.delete("/{household_id}", status_code=204, responses=WRITE_ERRORS)
async def delete_household(
    svc: ServicesDep, household_id: uuid.UUID, if_match: IfMatchDep
) -> Response:
    """Soft-delete the household and its members; the change feed keeps a tombstone."""
    await svc.households.delete(household_id, if_match)
    return Response(status_code=204)


@router.get("/{household_id}/members")
async def list_household_members(
    svc: ServicesDep,
    household_id: uuid.UUID,
    include_former: Annotated[TextBool, Query(description="Also members who left or died")] = False,
) -> list[MemberPublic]:
    """The household's members, in the order they were recorded."""
    return await svc.members.of_household(household_id, include_former=include_former)


@router.post("/{household_id}/members", status_code=201, responses=WRITE_ERRORS)
async def add_member(
    svc: ServicesDep,
    household_id: uuid.UUID,
    body: MemberCreate,
    key: RequestKeyDep,
    response: Response,
) -> MemberPublic:
    """Add a person to the household (a birth, a marriage, a move in). A personal ID held by
    another active person is refused with `duplicate_personal_id`, naming that record."""
    member = await svc.members.create(household_id, body, key)
    response.headers["Location"] = f"/api/v1/members/{member.id}"
    etag(response, member.version)
    return member


@router.post("/{household_id}/head", responses=WRITE_ERRORS)
async def change_head(
    svc: ServicesDep,
    household_id: uuid.UUID,
    body: HeadChange,
    key: RequestKeyDep,
    response: Response,
) -> HouseholdPublic:
    """Make an active member the head of the household; the former head stays a member."""
    household = await svc.members.change_head(household_id, body, key)
    etag(response, household.version)
    return household


@router.get("/{household_id}/membership-events")
async def membership_history(
    svc: ServicesDep, household_id: uuid.UUID
) -> list[MembershipEventPublic]:
    """Joins, departures, deaths and head changes, oldest first."""
    return await svc.members.history(household_id)
