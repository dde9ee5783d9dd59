import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response

from api.deps import RequestKeyDep, ServicesDep
from api.domain.sync.models import (
    Digest,
    Entity,
    ItemState,
    Outcome,
    PullPage,
    PushRequest,
    PushResponse,
    Resolve,
    SnapshotPage,
    SyncItemPublic,
    SyncSessionPublic,
)
from api.domain.sync.service import Answer, Client
from api.routers.common import ERRORS, PROBLEM, WRITE_ERRORS, cursor_query, page_limit

router = APIRouter(prefix="/api/v1/sync", tags=["sync"], responses=ERRORS)
DeviceId = Annotated[
    str | None, Header(max_length=120, description="The device (default: the token's device)")
]
AppVersion = Annotated[str | None, Header(max_length=60)]


def _client(request: Request, device: str | None, app_version: str | None) -> Client:
    length = request.headers.get("content-length", "0")
    return Client(device, app_version, int(length) if length.isdigit() else 0)


def _json(answer: Answer[Any]) -> Response:
    return Response(answer.body, media_type="application/json")


@router.post(
    "/push",
    response_model=PushResponse,
    responses={
        **WRITE_ERRORS,
        413: {"description": "Too many items or bytes; the problem says how to split", **PROBLEM},
    },
)
async def push(
    svc: ServicesDep,
    body: PushRequest,
    request: Request,
    x_device_id: DeviceId = None,
    x_app_version: AppVersion = None,
) -> Response:
    """Send a batch of operations made offline (at most 5,000 items and 16 MiB, after gzip
    inflation; `Content-Encoding: gzip` accepted). Each item gets its own answer: `applied`,
    `merged` (based on an old version, but nothing it changes was changed since), `conflict`
    (kept on the server with both values until resolved), `rejected` (with the problem and the
    item's index) or `duplicate` (this operation was applied before: its first answer).
    Re-sending a batch with the same `batch_id` returns the same answer and applies nothing
    twice. `mode=all_or_nothing` writes nothing unless every item applies; `dry_run` only
    validates."""
    return _json(await svc.sync.push(body, _client(request, x_device_id, x_app_version)))


@router.get("/pull", response_model=PullPage)
async def pull(
    svc: ServicesDep,
    request: Request,
    cursor: Annotated[str | None, cursor_query("`cursor` of the previous pull or snapshot")] = None,
    limit: Annotated[int, page_limit(1000)] = 500,
    x_device_id: DeviceId = None,
    x_app_version: AppVersion = None,
) -> Response:
    """Changes to records in your area after `cursor`, in commit order: `upsert` (the whole
    record), `delete` (a tombstone) or `drop` (the record left your area). When your areas
    changed since the cursor was issued, `scope` says which to drop and which to snapshot."""
    client = _client(request, x_device_id, x_app_version)
    return _json(await svc.sync.pull(cursor, limit, client))


@router.get("/snapshot", response_model=SnapshotPage)
async def snapshot(
    svc: ServicesDep,
    request: Request,
    unit: Annotated[str, Query(min_length=1, max_length=16)],
    after: Annotated[str | None, cursor_query("`next` of the previous snapshot page")] = None,
    limit: Annotated[int, page_limit(500)] = 200,
    x_device_id: DeviceId = None,
    x_app_version: AppVersion = None,
) -> Response:
    """A first download of a unit: households with their members and assessments, page by
    page (`next` → `after`), and the open campaigns. Then pull from `cursor`."""
    client = _client(request, x_device_id, x_app_version)
    return _json(await svc.sync.snapshot(unit, after, limit, client))


@router.get("/digest")
async def digest(
    svc: ServicesDep,
    unit: Annotated[str, Query(min_length=1, max_length=16)],
    entity: Entity = Entity.HOUSEHOLD,
    bucket: Annotated[str | None, Query(min_length=1, max_length=1)] = None,
) -> Digest:
    """Check what a device holds without downloading it: per bucket (first hex digit of the
    id), the count and the SHA-256 of the sorted lines `id:version\\n`. Ask for one `bucket`
    to get its ids and versions, then fetch only the records that differ."""
    return await svc.sync.digest(unit, entity, bucket)


@router.get("/sessions")
async def sessions(
    svc: ServicesDep,
    actor: Annotated[str | None, Query(max_length=120)] = None,
    device_id: Annotated[str | None, Query(max_length=120)] = None,
    limit: Annotated[int, page_limit(500)] = 100,
) -> list[SyncSessionPublic]:
    """The sync log of your area, newest first: who synced from which device and app
    version, cursors in and out, items and their outcomes, bytes and duration."""
    return await svc.sync.sessions(actor, device_id, limit)


@router.get("/items")
async def items(
    svc: ServicesDep,
    outcome: Outcome | None = None,
    state: ItemState | None = ItemState.OPEN,
    limit: Annotated[int, page_limit(500)] = 100,
) -> list[SyncItemPublic]:
    """Pushed items that did not apply, with their payload: conflicts and rejections, yours
    and (for officers and supervisors) those of your area."""
    return await svc.sync.items(outcome, state, limit)


@router.post("/items/{item_id}/resolve", responses=WRITE_ERRORS)
async def resolve(
    svc: ServicesDep, item_id: uuid.UUID, body: Resolve, key: RequestKeyDep
) -> SyncItemPublic:
    """Resolve a conflict or a rejection: `take_mine` applies what the device sent,
    `take_theirs` keeps the server's values, `new_values` applies `values`."""
    return await svc.sync.resolve(item_id, body, key)
