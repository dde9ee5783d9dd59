from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.deps import ServicesDep
from api.domain.audit.models import ReadPublic, WritePublic
from api.domain.audit.service import AuditQuery
from api.domain.strict import Instant
from api.routers.common import ERRORS, Limit

router = APIRouter(prefix="/api/v1/audit", tags=["audit"], responses=ERRORS)


def audit_query(
    entity_id: Annotated[str | None, Query(max_length=64, description="One record's id")] = None,
    actor: Annotated[
        str | None, Query(max_length=120, description="e.g. user:<id>, partner:<client id>")
    ] = None,
    since: Annotated[Instant | None, Query(description="From this instant (inclusive)")] = None,
    until: Annotated[Instant | None, Query(description="Before this instant")] = None,
    after: Annotated[
        int, Query(ge=0, le=2**63 - 1, description="Last id (or seq) of the previous page")
    ] = 0,
    limit: Limit = 100,
) -> AuditQuery:
    return AuditQuery(entity_id, actor, since, until, after, limit)


QueryDep = Annotated[AuditQuery, Depends(audit_query)]


@router.get("/writes")
async def audit_writes(svc: ServicesDep, q: QueryDep) -> list[WritePublic]:
    """Every write in your area: who, when, from which client, old and new values."""
    return await svc.audit.writes(q)


@router.get("/reads")
async def audit_reads(svc: ServicesDep, q: QueryDep) -> list[ReadPublic]:
    """Every partner read of personal data in your area, with its stated purpose."""
    return await svc.audit.reads(q)
