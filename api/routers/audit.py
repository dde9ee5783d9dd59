from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import ServicesDep
from api.domain.audit.models import ReadPublic, WritePublic
from api.routers.common import ERRORS, Limit

router = APIRouter(prefix="/api/v1/audit", tags=["audit"], responses=ERRORS)

EntityId = Annotated[str | None, Query(max_length=64, description="One record's id")]
Actor = Annotated[str | None, Query(max_length=120, description="e.g. user:<id>, partner:<id>")]
Since = Annotated[datetime | None, Query(description="From this instant (inclusive)")]
Until = Annotated[datetime | None, Query(description="Before this instant")]
AfterId = Annotated[int, Query(ge=0, description="Last id (or seq) of the previous page")]


@router.get("/writes")
async def audit_writes(
    svc: ServicesDep,
    entity_id: EntityId = None,
    actor: Actor = None,
    since: Since = None,
    until: Until = None,
    after: AfterId = 0,
    limit: Limit = 100,
) -> list[WritePublic]:
    """Every write in your area: who, when, from which client, old and new values."""
    return await svc.audit.writes(
        entity_id=entity_id, actor=actor, since=since, until=until, after=after, limit=limit
    )


@router.get("/reads")
async def audit_reads(
    svc: ServicesDep,
    entity_id: EntityId = None,
    actor: Actor = None,
    since: Since = None,
    until: Until = None,
    after: AfterId = 0,
    limit: Limit = 100,
) -> list[ReadPublic]:
    """Every partner read of personal data in your area, with its stated purpose."""
    return await svc.audit.reads(
        entity_id=entity_id, actor=actor, since=since, until=until, after=after, limit=limit
    )
