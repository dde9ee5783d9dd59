"""The sync conflict queue in GraphQL: list what did not apply, and resolve it."""

import uuid

import strawberry
from strawberry.experimental import pydantic as spyd
from strawberry.scalars import JSON

from api.domain.sync.models import ItemState, Outcome, Resolution, Resolve, SyncItemPublic
from api.schema.inputs import request_key, to_model
from api.schema.types import Info, as_type


@spyd.type(model=SyncItemPublic)
class SyncItem:
    id: strawberry.auto
    actor: strawberry.auto
    device_id: strawberry.auto
    batch_id: strawberry.auto
    position: strawberry.auto
    op_id: strawberry.auto
    op: strawberry.auto
    entity: strawberry.auto
    entity_id: strawberry.auto
    base_version: strawberry.auto
    outcome: strawberry.auto
    state: strawberry.auto
    unit_path: strawberry.auto
    payload: JSON
    result: JSON
    resolution: JSON | None
    resolved_by: strawberry.auto
    resolved_at: strawberry.auto
    created_at: strawberry.auto


@strawberry.input
class ResolveInput:
    resolution: Resolution
    values: JSON | None = None
    note: str | None = None


@strawberry.type
class SyncQuery:
    @strawberry.field(description="Pushed items that did not apply: conflicts and rejections")
    async def sync_items(
        self,
        info: Info,
        outcome: Outcome | None = None,
        state: ItemState | None = ItemState.OPEN,
        first: int = 100,
    ) -> list[SyncItem]:
        found = await info.context.services.sync.items(outcome, state, first)
        return [as_type(SyncItem, i) for i in found]


@strawberry.type
class SyncMutation:
    @strawberry.mutation(description="take_mine, take_theirs, or new_values with `values`")
    async def resolve_sync_item(
        self,
        info: Info,
        id: uuid.UUID,
        input: ResolveInput,
        idempotency_key: str | None = None,
    ) -> SyncItem:
        body = to_model(Resolve, input)
        key = request_key(idempotency_key, f"resolveSyncItem {id}", body)
        return as_type(SyncItem, await info.context.services.sync.resolve(id, body, key))
