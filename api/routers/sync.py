import hashlib
import time
import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response

from api.deps import ServicesDep
from api.domain.errors import DomainError
from api.domain.services import Services
from api.domain.sync.models import (
    CURSOR_CHARS,
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
    SyncSession,
    SyncSessionPublic,
)
from api.domain.sync.push import Pusher
from api.domain.sync.service import SyncService
from api.errors import status_of
from api.routers.common import ERRORS, PROBLEM, WRITE_ERRORS, cursor_query

router = APIRouter(prefix="/api/v1/sync", tags=["sync"], responses=ERRORS)
DeviceId = Annotated[
    str | None, Header(max_length=120, description="The device (default: the token's device)")
]
AppVersion = Annotated[str | None, Header(max_length=60)]


def _json(model: PushResponse | PullPage | SnapshotPage) -> Response:
    return Response(model.model_dump_json(), media_type="application/json")


class _Logged:
    """Records a sync request in the sync log, refused ones too (with their status)."""

    def __init__(
        self,
        svc: Services,
        request: Request,
        kind: str,
        device: str | None,
        app_version: str | None,
        cursor_in: str | None = None,
    ) -> None:
        self.svc, self.request = svc, request
        self.started = time.perf_counter()
        self.entry = SyncSession(
            id=uuid.uuid4(),
            actor="",
            device_id=device or svc.principal.client,
            app_version=app_version,
            kind=kind,
            cursor_in=cursor_in[:CURSOR_CHARS] if cursor_in else None,
            bytes_in=int(request.headers.get("content-length", "0") or 0),
        )

    def answered(
        self, response: Response, counts: dict[str, int], cursor_out: str | None = None
    ) -> Response:
        self.entry.bytes_out, self.entry.counts = len(response.body), counts
        self.entry.cursor_out = cursor_out[:CURSOR_CHARS] if cursor_out else None
        return response

    async def __aenter__(self) -> "_Logged":
        return self

    async def __aexit__(self, kind: object, exc: BaseException | None, tb: object) -> None:
        if exc is not None:
            if not isinstance(exc, DomainError):
                return
            await self.svc.session.rollback()
            self.entry.status_code = status_of(exc)
            self.entry.counts = {"refused": 1}
        self.entry.duration_ms = round((time.perf_counter() - self.started) * 1000)
        await SyncService(self.svc).log_session(self.entry)


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
    fingerprint = hashlib.sha256(body.model_dump_json().encode()).hexdigest()
    if body.dry_run:
        return _json(await Pusher(svc, x_device_id).push(body, fingerprint))
    async with _Logged(svc, request, "push", x_device_id, x_app_version) as log:
        result = await Pusher(svc, x_device_id).push(body, fingerprint)
        return log.answered(_json(result), result.counts)


@router.get("/pull", response_model=PullPage)
async def pull(
    svc: ServicesDep,
    request: Request,
    cursor: Annotated[str | None, cursor_query("`cursor` of the previous pull or snapshot")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
    x_device_id: DeviceId = None,
    x_app_version: AppVersion = None,
) -> Response:
    """Changes to records in your area after `cursor`, in commit order: `upsert` (the whole
    record), `delete` (a tombstone) or `drop` (the record left your area). When your areas
    changed since the cursor was issued, `scope` says which to drop and which to snapshot."""
    async with _Logged(svc, request, "pull", x_device_id, x_app_version, cursor) as log:
        page = await SyncService(svc).pull(cursor, limit)
        return log.answered(_json(page), {"changes": len(page.changes)}, page.cursor)


@router.get("/snapshot", response_model=SnapshotPage)
async def snapshot(
    svc: ServicesDep,
    request: Request,
    unit: Annotated[str, Query(min_length=1, max_length=16)],
    after: Annotated[str | None, cursor_query("`next` of the previous snapshot page")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
    x_device_id: DeviceId = None,
    x_app_version: AppVersion = None,
) -> Response:
    """A first download of a unit: households with their members and assessments, page by
    page (`next` → `after`), and the open campaigns. Then pull from `cursor`."""
    async with _Logged(svc, request, "snapshot", x_device_id, x_app_version, after) as log:
        page = await SyncService(svc).snapshot(unit, after, limit)
        return log.answered(_json(page), {"households": len(page.households)}, page.cursor)


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
    return await SyncService(svc).digest(unit, entity, bucket)


@router.get("/sessions")
async def sessions(
    svc: ServicesDep,
    actor: Annotated[str | None, Query(max_length=120)] = None,
    device_id: Annotated[str | None, Query(max_length=120)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[SyncSessionPublic]:
    """The sync log of your area, newest first: who synced from which device and app
    version, cursors in and out, items and their outcomes, bytes and duration."""
    return await SyncService(svc).sessions(actor, device_id, limit)


@router.get("/items")
async def items(
    svc: ServicesDep,
    outcome: Outcome | None = None,
    state: ItemState | None = ItemState.OPEN,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[SyncItemPublic]:
    """Pushed items that did not apply, with their payload: conflicts and rejections, yours
    and (for officers and supervisors) those of your area."""
    return await SyncService(svc).items(outcome, state, limit)


@router.post("/items/{item_id}/resolve", responses=WRITE_ERRORS)
async def resolve(svc: ServicesDep, item_id: uuid.UUID, body: Resolve) -> SyncItemPublic:
    """Resolve a conflict or a rejection: `take_mine` applies what the device sent,
    `take_theirs` keeps the server's values, `new_values` applies `values`."""
    return await SyncService(svc).resolve(item_id, body)
