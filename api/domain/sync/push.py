"""Batch push from devices: each operation applied once, merged field by field when its base
is old but nothing it touches changed, kept as a conflict otherwise; every answer stored."""

import uuid
from collections import Counter
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from api.domain import access
from api.domain.access import Permission
from api.domain.changes.models import ChangeLogEntry
from api.domain.errors import (
    BatchTooLarge,
    Conflict,
    DomainError,
    FieldProblem,
    NotFound,
    ValidationFailed,
)
from api.domain.households.models import HouseholdCreate, HouseholdUpdate
from api.domain.members.models import MemberCreate, MemberUpdate
from api.domain.review.models import AssessmentCreate, AssessmentUpdate
from api.domain.services import Services
from api.domain.sync.models import (
    MAX_ITEMS,
    Entity,
    FieldConflict,
    ItemResult,
    ItemState,
    Mode,
    Op,
    Outcome,
    PushItem,
    PushRequest,
    PushResponse,
    SyncItem,
)
from api.domain.uow import StoredResult

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
UPDATES: dict[Entity, type[BaseModel]] = {
    Entity.HOUSEHOLD: HouseholdUpdate,
    Entity.MEMBER: MemberUpdate,
    Entity.ASSESSMENT: AssessmentUpdate,
}
ENTITY_TYPE = {
    Entity.HOUSEHOLD: "household",
    Entity.MEMBER: "member",
    Entity.ASSESSMENT: "assessment",
}


ATTEMPTS = 3


class _Raced(Exception):
    """A concurrent batch of the same user committed an operation this one also carries."""


class _Held(Exception):
    """An item that must not be applied: its answer is already made."""

    def __init__(self, result: ItemResult) -> None:
        self.result = result


def _problem(exc: DomainError, index: int) -> dict[str, Any]:
    body: dict[str, Any] = {"code": exc.code, "detail": exc.detail, "index": index, **exc.extra}
    if isinstance(exc, ValidationFailed):
        body["errors"] = [
            {
                "path": f"items.{index}.{p.path}"
                if p.location == "item"
                else f"items.{index}.data.{p.path}",
                "message": p.message,
                "code": p.code,
            }
            for p in exc.problems
        ]
    return body


def _invalid(exc: ValidationError, index: int) -> dict[str, Any]:
    return {
        "code": "validation_failed",
        "detail": "the item's data is invalid",
        "index": index,
        "errors": [
            {
                "path": ".".join([f"items.{index}.data", *(str(p) for p in e["loc"])]),
                "message": e["msg"],
                "code": e["type"],
            }
            for e in exc.errors()
        ],
    }


def _household_id(value: Any) -> uuid.UUID:
    try:
        return uuid.UUID(str(value)) if value is not None else _missing()
    except ValueError:
        raise ValidationFailed(
            [FieldProblem("household_id", "not a UUID", "uuid_parsing")]
        ) from None


def _missing() -> uuid.UUID:
    raise ValidationFailed([FieldProblem("household_id", "required", "missing")])


class Pusher:
    def __init__(self, services: Services, device_id: str | None = None) -> None:
        self.s = services
        self.session = services.session
        self.uow = services.uow
        self.principal = services.principal
        self.device_id = device_id or services.principal.client
        self._paths: dict[uuid.UUID, str] = {}
        self._earlier: dict[str, SyncItem] = {}

    async def push(self, req: PushRequest, fingerprint: str) -> PushResponse:
        access.require(self.principal, Permission.HOUSEHOLDS_WRITE)
        if len(req.items) > MAX_ITEMS:
            parts = -(-len(req.items) // MAX_ITEMS)
            raise BatchTooLarge(
                f"{len(req.items)} items; a batch carries at most {MAX_ITEMS}. Split it into "
                f"{parts} batches in order (a record before those that refer to it by id), "
                "each with its own batch_id",
                extra={"max_items": MAX_ITEMS, "items": len(req.items), "batches_needed": parts},
            )
        return await self.s.members.checks.kept(lambda: self._attempts(req, fingerprint))

    async def _attempts(self, req: PushRequest, fingerprint: str) -> PushResponse:
        """Run the batch; if another batch committed one of its operations meanwhile (the
        unique operation id fires only at the end), run it again from the start: the
        operation is then a duplicate and the rest applies."""
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return await self._push(req, fingerprint)
            except _Raced as exc:
                await self.uow.rollback()
                if attempt == ATTEMPTS:
                    raise Conflict("concurrent batches keep clashing; send it again") from exc
                self.s.members.checks.forget()
                self._paths = {}
        raise AssertionError("unreachable")

    async def _push(self, req: PushRequest, fingerprint: str) -> PushResponse:
        checks = self.s.members.checks
        if not req.dry_run:
            stored = await self.uow.claim(f"sync-push:{req.batch_id}", fingerprint)
            if stored is not None:
                return PushResponse.model_validate(stored.body)
        if any(i.entity == Entity.MEMBER and i.data.get("personal_id") for i in req.items):
            await checks.load()  # outside the items' savepoints, which would release its lock
        self.uow.deferred = True
        self._earlier = await self._earlier_items([i.op_id for i in req.items])
        seen: dict[str, int] = {}
        results: list[ItemResult] = []
        kept: list[tuple[PushItem, ItemResult]] = []
        try:
            for index, item in enumerate(req.items):
                result = await self._item(req, index, item, seen)
                results.append(result)
                if result.outcome in (Outcome.APPLIED, Outcome.MERGED):
                    kept.append((item, result))
        finally:
            self.uow.deferred = False
        failed = any(r.outcome in (Outcome.CONFLICT, Outcome.REJECTED) for r in results)
        all_or_nothing = req.mode == Mode.ALL_OR_NOTHING and failed
        if req.dry_run or all_or_nothing:
            await self.uow.rollback()
            # What was checked is kept even though nothing else is.
            await checks.settle()
            if req.dry_run:
                await self.session.commit()
            if all_or_nothing:
                results = [
                    r.model_copy(update={"outcome": Outcome.NOT_APPLIED, "version": None})
                    if r.outcome in (Outcome.APPLIED, Outcome.MERGED)
                    else r
                    for r in results
                ]
        else:
            await checks.settle()
            for item, result in kept:
                self._keep(req, item, result, ItemState.DONE)
        committed = not req.dry_run and not all_or_nothing
        response = PushResponse(
            batch_id=req.batch_id,
            mode=req.mode,
            dry_run=req.dry_run,
            committed=committed,
            counts=dict(Counter(r.outcome.value for r in results)),
            items=results,
        )
        if not req.dry_run:
            if all_or_nothing:
                await self.uow.claim(f"sync-push:{req.batch_id}", fingerprint)
            for item, result in zip(req.items, results, strict=True):
                if result.outcome in (Outcome.CONFLICT, Outcome.REJECTED):
                    if item.id not in self._paths:
                        self._paths[item.id] = await self._area_of(item)
                    self._keep(req, item, result, ItemState.OPEN)
            try:
                await self.session.flush()
            except IntegrityError as exc:
                raise _Raced from exc
            await self.uow.finish(StoredResult(200, response.model_dump(mode="json")))
        return response

    def _keep(self, req: PushRequest, item: PushItem, result: ItemResult, state: ItemState) -> None:
        self.session.add(
            SyncItem(
                id=result.conflict_id or uuid.uuid4(),
                actor=self.principal.subject,
                device_id=self.device_id,
                batch_id=req.batch_id,
                position=result.index,
                op_id=item.op_id,
                op=item.op,
                entity=item.entity,
                entity_id=item.id,
                base_version=item.base_version,
                outcome=result.outcome,
                state=state,
                unit_path=self._paths.get(item.id, ""),
                payload=item.data if state == ItemState.OPEN else {},
                result=result.model_dump(mode="json"),
            )
        )

    async def _area_of(self, item: PushItem) -> str:
        """Where an item that did not apply is filed, so that the area's officers see it: the
        village or household it names, if it is in the pusher's area, else the pusher's."""
        path: str | None = None
        if item.op == Op.CREATE and item.entity == Entity.HOUSEHOLD:
            code = item.data.get("village_code")
            if isinstance(code, str):
                unit = (await self.s.units.by_codes([code])).get(code)
                path = None if unit is None else unit.path
        elif item.op == Op.CREATE:
            try:
                household = _household_id(item.data.get("household_id"))
                path = (await self.s.households.load(household)).unit_path
            except (ValidationFailed, NotFound):
                path = None
        if path is None or not access.in_scope(self.principal, path):
            return self.principal.areas[0] if self.principal.areas else ""
        return path

    async def _earlier_items(self, op_ids: list[str]) -> dict[str, SyncItem]:
        """Operations of this batch already received (one query per 500, not one per item)."""
        found: dict[str, SyncItem] = {}
        for start in range(0, len(op_ids), 500):
            rows = await self.session.scalars(
                select(SyncItem).where(
                    col(SyncItem.actor) == self.principal.subject,
                    col(SyncItem.op_id).in_(op_ids[start : start + 500]),
                )
            )
            found |= {r.op_id: r for r in rows.all()}
        return found

    async def _item(
        self, req: PushRequest, index: int, item: PushItem, seen: dict[str, int]
    ) -> ItemResult:
        base = {"index": index, "op_id": item.op_id, "entity": item.entity, "id": item.id}
        if item.op_id in seen:
            return ItemResult(
                **base,
                outcome=Outcome.DUPLICATE,
                duplicate_of={"batch_id": req.batch_id, "index": seen[item.op_id]},
            )
        seen[item.op_id] = index
        earlier = self._earlier.get(item.op_id)
        if earlier is not None:
            first = ItemResult.model_validate(earlier.result)
            return first.model_copy(
                update={
                    "index": index,
                    "outcome": Outcome.DUPLICATE,
                    "duplicate_of": {
                        "batch_id": earlier.batch_id,
                        "index": earlier.position,
                        "outcome": earlier.outcome.value,
                    },
                }
            )
        ignored = sorted(set(item.data) & SERVER_FIELDS)
        data = {k: v for k, v in item.data.items() if k not in SERVER_FIELDS}
        mark = self.uow.mark()
        nested = await self.session.begin_nested()
        try:
            outcome, version, path = await self._apply(item, data)
            await nested.commit()
        except _Held as held:
            await nested.rollback()
            self.uow.rewind(mark)
            return held.result.model_copy(update={**base, "ignored_fields": ignored})
        except ValidationError as exc:
            await nested.rollback()
            self.uow.rewind(mark)
            problem = _invalid(exc, index)
            return ItemResult(
                **base, outcome=Outcome.REJECTED, problem=problem, ignored_fields=ignored
            )
        except (DomainError, IntegrityError) as exc:
            await nested.rollback()
            self.uow.rewind(mark)
            problem = (
                _problem(exc, index)
                if isinstance(exc, DomainError)
                else {"code": "conflict", "detail": "conflicts with existing data", "index": index}
            )
            return ItemResult(
                **base, outcome=Outcome.REJECTED, problem=problem, ignored_fields=ignored
            )
        self._paths[item.id] = path
        return ItemResult(**base, outcome=outcome, version=version, ignored_fields=ignored)

    async def _apply(self, item: PushItem, data: dict[str, Any]) -> tuple[Outcome, int, str]:
        s = self.s
        if item.op == Op.CREATE:
            if item.entity == Entity.HOUSEHOLD:
                h = await s.households.create(
                    HouseholdCreate.model_validate({**data, "id": item.id})
                )
                return Outcome.APPLIED, h.version, h.unit_path
            if item.entity == Entity.MEMBER:
                household = _household_id(data.pop("household_id", None))
                m = await s.members.create(
                    household, MemberCreate.model_validate({**data, "id": item.id})
                )
                return Outcome.APPLIED, m.version, m.unit_path
            a = await s.review.create_assessment(
                AssessmentCreate.model_validate({**data, "id": item.id})
            )
            return Outcome.APPLIED, a.version, a.unit_path
        current, path = await self._current(item)
        self._paths[item.id] = path
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
            touched = set(data) if item.op == Op.UPDATE else changed
            clash = sorted(touched & changed) if item.op == Op.UPDATE else sorted(changed)
            if clash:
                raise _Held(await self._conflict(item, data, clash, current))
            outcome = Outcome.MERGED
        version = await self._write(item, data, current)
        return outcome, version, path

    async def _write(self, item: PushItem, data: dict[str, Any], current: int) -> int:
        s = self.s
        if item.op == Op.DELETE:
            if item.entity == Entity.HOUSEHOLD:
                await s.households.delete(item.id, current)
            elif item.entity == Entity.MEMBER:
                await s.members.delete(item.id, current)
            else:
                await s.review.delete_assessment(item.id, current)
            return current + 1
        update = UPDATES[item.entity].model_validate(data)
        if item.entity == Entity.HOUSEHOLD:
            return (await s.households.update(item.id, update, current)).version  # type: ignore[arg-type]
        if item.entity == Entity.MEMBER:
            return (await s.members.update(item.id, update, current)).version  # type: ignore[arg-type]
        return (await s.review.update_assessment(item.id, update, current)).version  # type: ignore[arg-type]

    async def _current(self, item: PushItem) -> tuple[int, str]:
        if item.entity == Entity.HOUSEHOLD:
            h = await self.s.households.load(item.id)
            return h.version, h.unit_path
        if item.entity == Entity.MEMBER:
            m = await self.s.members.load(item.id)
            return m.version, m.unit_path
        a = await self.s.review.assessment(item.id)
        return a.version, a.unit_path

    async def _changed_since(self, item: PushItem, version: int) -> set[str]:
        diffs = await self.session.scalars(
            select(col(ChangeLogEntry.diff)).where(
                col(ChangeLogEntry.entity_type) == ENTITY_TYPE[item.entity],
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
        theirs = await self._values(item)
        return ItemResult(
            index=0,
            op_id=item.op_id,
            entity=item.entity,
            id=item.id,
            outcome=Outcome.CONFLICT,
            version=current,
            conflict_id=uuid.uuid4(),
            conflicts={f: FieldConflict(mine=data.get(f), theirs=theirs.get(f)) for f in fields},
        )

    async def _values(self, item: PushItem) -> dict[str, Any]:
        shown: BaseModel
        if item.entity == Entity.HOUSEHOLD:
            shown = await self.s.households.get(item.id)
        elif item.entity == Entity.MEMBER:
            shown = await self.s.members.get(item.id)
        else:
            shown = await self.s.review.assessment(item.id)
        return shown.model_dump(mode="json")
