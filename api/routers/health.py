from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.db import ping
from api.migrate import current_revision

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "Not ready"}})
async def readyz(request: Request) -> JSONResponse:
    """The database answers and its schema is at the migration head this code expects."""
    engine = request.app.state.engine
    expected = request.app.state.migration_head
    try:
        await ping(engine)
        current = await current_revision(engine)
    except Exception:
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
    ready = current == expected
    return JSONResponse(
        {
            "status": "ok" if ready else "unavailable",
            "database": "ok",
            "migration": current,
            "expected_migration": expected,
        },
        status_code=200 if ready else 503,
    )
