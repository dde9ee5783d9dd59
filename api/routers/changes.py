from fastapi import APIRouter

from api.deps import ServicesDep
from api.domain.changes.models import ChangePage
from api.routers.common import ERRORS, After, Limit

router = APIRouter(prefix="/api/v1/changes", tags=["change feed"], responses=ERRORS)


@router.get("")
async def list_changes(svc: ServicesDep, after: After = None, limit: Limit = 100) -> ChangePage:
    """Every committed write in commit order. Keep `next_cursor` and pass it back as `after`:
    a reader that does so never misses a change and never sees one twice."""
    return await svc.changes.page(after, limit)
