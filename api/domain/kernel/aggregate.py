"""A record's children (registered with it as their parent) follow it: to a new area, and,
where they are registered so, into deletion. The owner of each child type registered the
rule; no slice writes another's tables."""

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update
from sqlmodel import col

from api.domain.changes.models import Operation
from api.domain.kernel.registry import Registration
from api.domain.uow import Placed, UnitOfWork


async def _children(uow: UnitOfWork, child: Registration, parent_id: uuid.UUID) -> Sequence[Any]:
    assert child.parent_key is not None
    stmt = select(child.model).where(col(getattr(child.model, child.parent_key)) == parent_id)
    rows: Sequence[Any] = (
        await uow.session.scalars(stmt.where(col(child.model.deleted_at).is_(None)))
    ).all()
    return rows


async def relocate(
    uow: UnitOfWork,
    registration: Registration,
    row: Placed,
    path: str,
    diff: dict[str, Any] | None = None,
) -> None:
    """The record and its children move to another area. Readers of the old area (devices
    syncing it) get an exit entry there; readers of the new one get the children, then the
    record itself."""
    old = row.unit_path
    uow.touch(registration.entity, row, Operation.EXIT)
    row.unit_path = path
    await _move_children(uow, registration, row.id, path)
    uow.record(
        registration.entity,
        row.id,
        Operation.UPDATE,
        row.version,
        path,
        {**(diff or {}), "unit_path": [old, path]},
    )


async def _move_children(
    uow: UnitOfWork, parent: Registration, parent_id: uuid.UUID, path: str
) -> None:
    for child in parent.children():
        if not child.follows_parent:
            continue
        if not child.versioned:
            # Plain history rows: no versions to tell readers, only the area they are filed in.
            assert child.parent_key is not None
            await uow.session.execute(
                update(child.model)
                .where(col(getattr(child.model, child.parent_key)) == parent_id)
                .values(unit_path=path)
            )
            continue
        for row in await _children(uow, child, parent_id):
            await relocate(uow, child, row, path)


async def delete_children(uow: UnitOfWork, parent: Registration, parent_id: uuid.UUID) -> None:
    for child in parent.children():
        if not (child.deleted_with_parent and child.versioned):
            continue
        for row in await _children(uow, child, parent_id):
            uow.remove(child.entity, row)
            await delete_children(uow, child, row.id)
