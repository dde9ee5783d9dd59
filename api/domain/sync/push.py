"""Batch push from devices: each operation applied once, merged field by field when its base
is old but nothing it touches changed, kept as a conflict otherwise; every answer stored."""

import uuid
from collections import Counter
from collections.abc import Callable

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from api.domain import access
from api.domain.access import Permission
from api.domain.errors import (
    BatchTooLarge,
    Conflict,
    DomainError,
    NotFound,
)
from api.domain.households.checks import PersonalIdChecks
from api.domain.kernel import records
from api.domain.kernel.entities import EntityType
from api.domain.kernel.registry import RecordOps, registration
from api.domain.problems import item_problem
from api.domain.sync.apply import Applier, Held, device_data
from api.domain.sync.models import (
    MAX_ITEMS,
    Entity,
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
from api.domain.units.service import UnitService
from api.domain.uow import Batch, StoredResult, UnitOfWork

ATTEMPTS = 3


class _Raced(Exception):
    """A concurrent batch of the same user committed an operation this one also carries."""


class Pusher:
    def __init__(
        self,
        uow: UnitOfWork,
        units: UnitService,
        checks: PersonalIdChecks,
        ops: Callable[[EntityType], RecordOps],
        device_id: str | None = None,
    ) -> None:
        self.uow = uow
        self.session = uow.session
        self.principal = uow.principal
        self.units = units
        self.checks = checks
        self.ops = ops
        self.applier = Applier(uow, ops)
        self.device_id = device_id or uow.principal.client
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
        return await self.checks.kept(lambda: self._attempts(req, fingerprint))

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
                self.checks.forget()
                self.applier = Applier(self.uow, self.ops)
        raise AssertionError("unreachable")

    async def _push(self, req: PushRequest, fingerprint: str) -> PushResponse:
        checks = self.checks
        if not req.dry_run:
            stored = await self.uow.claim(f"sync-push:{req.batch_id}", fingerprint)
            if stored is not None:
                return PushResponse.model_validate(stored.body)
        if any(i.entity == Entity.MEMBER and i.data.get("personal_id") for i in req.items):
            await checks.load()  # outside the items' savepoints, which would release its lock
        self._earlier = await self._earlier_items([i.op_id for i in req.items])
        seen: dict[str, int] = {}
        results: list[ItemResult] = []
        kept: list[tuple[PushItem, ItemResult]] = []
        async with self.uow.batch() as batch:
            for index, item in enumerate(req.items):
                result = await self._item(batch, req, index, item, seen)
                results.append(result)
                if result.outcome in (Outcome.APPLIED, Outcome.MERGED):
                    kept.append((item, result))
        failed = any(r.outcome in (Outcome.CONFLICT, Outcome.REJECTED) for r in results)
        all_or_nothing = req.mode == Mode.ALL_OR_NOTHING and failed
        if req.dry_run or all_or_nothing:
            await self.uow.rollback()
            # What was checked is kept even though nothing else is.
            await checks.settle()
            if req.dry_run:
                await self.uow.finish()
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
                    if item.id not in self.applier.paths:
                        self.applier.paths[item.id] = await self._area_of(item)
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
                unit_path=self.applier.paths.get(item.id, ""),
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
                unit = (await self.units.by_codes([code])).get(code)
                path = None if unit is None else unit.path
        elif item.op == Op.CREATE:
            try:
                household = uuid.UUID(str(item.data.get("household_id")))
                path = (
                    await records.load(self.uow, registration(EntityType.HOUSEHOLD), household)
                ).unit_path
            except (ValueError, NotFound):
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
        self, batch: Batch, req: PushRequest, index: int, item: PushItem, seen: dict[str, int]
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
        data, ignored = device_data(item)
        try:
            async with batch.step():
                applied = await self.applier.apply(item, data)
        except Held as held:
            return held.result.model_copy(update={**base, "ignored_fields": ignored})
        except (ValidationError, DomainError, IntegrityError) as exc:
            problem = item_problem(exc, index)
            return ItemResult(
                **base, outcome=Outcome.REJECTED, problem=problem, ignored_fields=ignored
            )
        return ItemResult(
            **base, outcome=applied.outcome, version=applied.version, ignored_fields=ignored
        )
