import uuid

from fastapi import APIRouter, Response

from api.deps import IfMatchDep, RequestKeyDep, ServicesDep
from api.domain.households.member_models import MemberLeave, MemberPublic, MemberUpdate
from api.routers.common import ERRORS, WRITE_ERRORS, etag

router = APIRouter(prefix="/api/v1/members", tags=["members"], responses=ERRORS)


@router.get("/{member_id}")
async def get_member(svc: ServicesDep, member_id: uuid.UUID, response: Response) -> MemberPublic:
    """One member. `warnings` lists data-quality findings, e.g. a personal ID whose birth
    year disagrees with the date of birth."""
    member = await svc.members.get(member_id)
    etag(response, member.version)
    return member


@router.patch("/{member_id}", responses=WRITE_ERRORS)
async def update_member(
    svc: ServicesDep,
    member_id: uuid.UUID,
    body: MemberUpdate,
    if_match: IfMatchDep,
    response: Response,
) -> MemberPublic:
    """Change some of a member's facts (conditional on `If-Match` or `version`)."""
    member = await svc.members.update(member_id, body, if_match)
    etag(response, member.version)
    return member


@router.post("/{member_id}/leave", responses=WRITE_ERRORS)
async def leave_household(
    svc: ServicesDep,
    member_id: uuid.UUID,
    body: MemberLeave,
    key: RequestKeyDep,
    response: Response,
) -> MemberPublic:
    """Record that the member moved out or died. The member stays in the household's
    history; a head who leaves leaves the household without a head until one is named."""
    member = await svc.members.leave(member_id, body, key)
    etag(response, member.version)
    return member


@router.delete("/{member_id}", status_code=204, responses=WRITE_ERRORS)
async def delete_member(svc: ServicesDep, member_id: uuid.UUID, if_match: IfMatchDep) -> Response:
    """Remove a member recorded in error. Departures and deaths are `leave`, not delete."""
    await svc.members.delete(member_id, if_match)
    return Response(status_code=204)
