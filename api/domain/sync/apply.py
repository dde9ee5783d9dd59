"""Applying one operation a device made offline, through the record type's own use cases: as
it was sent, merged over changes to other fields, or held as a conflict. Push and the
resolution of a conflict both apply through here."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from api.domain.changes.models import ChangeLogEntry
from api.domain.errors import FieldProblem, ValidationFailed
from api.domain.kernel import records
from api.domain.kernel.entities import EntityType
from api.domain.kernel.registry import RecordOps, registration
from api.domain.sync.models import FieldConflict, ItemResult, Op, Outcome, PushItem
from api.domain.uow import UnitOfWork

# Computed by the server (classification, recognised status, bookkeeping): never from a device.
SERVER_FIELDS = frozenset(
    {
        "poverty_status",
        "status",
        "deprivation_count",
        "missing",
        "explanation",
        "indicators_result",
        "state",
        "unit_path",
        "version",
        "created_at",
        "updated_at",
        "deleted_at",
        "redacted",
        "warnings",
        "membership_status",
    }
)


class Held(Exception):
    """An item that must not be applied: its answer is already made."""

    def __init__(self, result: ItemResult) -> None:
        self.result = result


@dataclass(frozen=True)
class Applied:
    outcome: Outcome
    version: int
    unit_path: str


def server_set(entity: str) -> frozenset[str]:
    """The server's fields of a record type, less those its own inputs take from people (a
    need's state is the officer's to set; an assessment's is the lifecycle's)."""
    found = registration(entity)
    taken = {name for model in (found.create, found.update) if model for name in model.model_fields}
    return SERVER_FIELDS - (taken - {"version"})


def device_data(item: PushItem) -> tuple[dict[str, Any], list[str]]:
    """What the device may set, and the server-computed fields it sent (ignored)."""
    ignored = server_set(item.entity.value)
    data = {k: v for k, v in item.data.items() if k not in ignored}
    return data, sorted(set(item.data) & ignored)


class Applier:
    def __init__(self, uow: UnitOfWork, ops: Callable[[EntityType], RecordOps]) -> None:
        self.uow = uow
        self.ops = ops
        # Where each record written to stood (what did not apply is filed there).
        self.paths: dict[uuid.UUID, str] = {}

    async def apply(self, item: PushItem, data: dict[str, Any]) -> Applied:
        entity = EntityType(item.entity.value)
        ops = self.ops(entity)
        if item.op == Op.CREATE:
            stored = await ops.create_record(item.id, dict(data))
            self.paths[item.id] = stored.unit_path
            return Applied(Outcome.APPLIED, stored.version, stored.unit_path)
        current, path = await self.current(item)
        if item.base_version is None:
            raise ValidationFailed(
                [FieldProblem("base_version", "required to update or delete", "missing", "item")]
            )
        if item.base_version > current:
            raise ValidationFailed(
                [
                    FieldProblem(
                        "base_version", f"ahead of the server ({current})", "invalid", "item"
                    )
                ]
            )
        outcome = Outcome.APPLIED
        if item.base_version < current:
            changed = await self._changed_since(item, item.base_version)
            clash = sorted(set(data) & changed) if item.op == Op.UPDATE else sorted(changed)
            if clash:
                raise Held(await self._conflict(item, data, clash, current))
            outcome = Outcome.MERGED
        return Applied(outcome, await self.write(item, data, current), path)

    async def write(self, item: PushItem, data: dict[str, Any], current: int) -> int:
        """Write over the record's `current` version; the version it is at afterwards."""
        ops = self.ops(EntityType(item.entity.value))
        if item.op == Op.DELETE:
            await ops.delete_record(item.id, current)
            return current + 1
        return (await ops.update_record(item.id, data, current)).version

    async def current(self, item: PushItem) -> tuple[int, str]:
        row = await records.load(self.uow, registration(item.entity.value), item.id)
        self.paths[item.id] = row.unit_path
        return row.version, row.unit_path

    async def _changed_since(self, item: PushItem, version: int) -> set[str]:
        diffs = await self.uow.session.scalars(
            select(col(ChangeLogEntry.diff)).where(
                col(ChangeLogEntry.entity_type) == item.entity.value,
                col(ChangeLogEntry.entity_id) == str(item.id),
                col(ChangeLogEntry.version) > version,
            )
        )
        changed = {k for d in diffs.all() for k in d}
        if "unit_path" in changed:
            changed.add("village_code")
        return changed

    async def _conflict(
        self, item: PushItem, data: dict[str, Any], fields: list[str], current: int
    ) -> ItemResult:
        found = registration(item.entity.value)
        row = await records.load(self.uow, found, item.id)
        (theirs,) = await records.shown(self.uow, found, [row])
        values = theirs.model_dump(mode="json")
        return ItemResult(
            index=0,
            op_id=item.op_id,
            entity=item.entity,
            id=item.id,
            outcome=Outcome.CONFLICT,
            version=current,
            conflict_id=uuid.uuid4(),
            conflicts={f: FieldConflict(mine=data.get(f), theirs=values.get(f)) for f in fields},
        )
