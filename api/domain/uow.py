"""The unit of work: one transaction per use case, its change-log entries and its keyed answer."""

import hashlib
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.domain.access import Principal
from api.domain.base import utcnow
from api.domain.changes.models import ChangeLogEntry, ChangeLogHead, Operation
from api.domain.errors import (
    Conflict,
    FieldProblem,
    IdempotencyInProgress,
    IdempotencyKeyReused,
    ValidationFailed,
)
from api.domain.idempotency.models import IdempotencyRecord
from api.domain.kernel.entities import EntityType
from api.domain.policy import Policy

M = TypeVar("M", bound=BaseModel)


class Versioned(Protocol):
    version: int


@runtime_checkable
class Stamped(Protocol):
    updated_at: datetime


class Placed(Versioned, Protocol):
    id: uuid.UUID
    unit_path: str
    deleted_at: datetime | None


_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


@dataclass(frozen=True)
class RequestKey:
    """A client's Idempotency-Key and the fingerprint of the request it was sent with."""

    key: str
    fingerprint: str

    @classmethod
    def checked(cls, key: str, request: bytes, where: FieldProblem) -> "RequestKey":
        """`where` names the key's field as the client sent it (header or argument)."""
        if not _KEY.match(key):
            raise ValidationFailed(
                [
                    FieldProblem(
                        where.path,
                        "1 to 255 visible ASCII characters",
                        "invalid_key",
                        where.location,
                    )
                ]
            )
        return cls(key, hashlib.sha256(request).hexdigest())


@dataclass(frozen=True)
class StoredResult:
    status_code: int
    body: dict[str, Any]


@dataclass
class _PendingChange:
    entity_type: str
    entity_id: str
    operation: Operation
    version: int
    unit_path: str
    diff: dict[str, Any]


@dataclass
class UnitOfWork:
    session: AsyncSession
    principal: Principal
    policy: Policy = field(default_factory=Policy)
    _pending: list[_PendingChange] = field(default_factory=list)
    _claim: IdempotencyRecord | None = None
    _batched: bool = False

    def record(
        self,
        entity_type: EntityType,
        entity_id: object,
        operation: Operation,
        version: int,
        unit_path: str,
        diff: dict[str, Any] | None = None,
    ) -> None:
        self._pending.append(
            _PendingChange(entity_type, str(entity_id), operation, version, unit_path, diff or {})
        )

    async def claim(self, key: str, fingerprint: str) -> StoredResult | None:
        """Reserve `key` for this transaction, or return the answer a first attempt stored."""
        for _attempt in range(2):
            existing = await self.session.get(IdempotencyRecord, (self.principal.subject, key))
            if (
                existing is not None
                and existing.created_at < utcnow() - self.policy.idempotency_ttl
            ):
                await self.session.delete(existing)
                await self.session.flush()
                existing = None
            if existing is not None:
                if existing.fingerprint != fingerprint:
                    raise IdempotencyKeyReused(
                        "this Idempotency-Key was used with a different request body or target"
                    )
                if existing.status_code is None or existing.body is None:
                    raise IdempotencyInProgress("retry once the first request has finished")
                return StoredResult(existing.status_code, existing.body)
            record = IdempotencyRecord(
                actor=self.principal.subject,
                key=key,
                fingerprint=fingerprint,
            )
            self.session.add(record)
            try:
                await self.session.flush()
            except IntegrityError:
                # A concurrent request with the same key committed first: replay its answer.
                await self.session.rollback()
                continue
            self._claim = record
            return None
        raise IdempotencyInProgress("retry once the first request has finished")

    async def run_keyed(
        self,
        key: RequestKey | None,
        model: type[M],
        status_code: int,
        action: Callable[[], Awaitable[M]],
    ) -> M:
        """Run a creating use case once per key; a retry gets the first answer back."""
        if key is not None:
            stored = await self.claim(key.key, key.fingerprint)
            if stored is not None:
                return model.model_validate(stored.body)
        result = await action()
        await self.commit(
            StoredResult(status_code, result.model_dump(mode="json")) if key else None
        )
        return result

    # Bookkeeping: every write of a versioned record goes through these, and only these.

    def created(self, entity: EntityType, row: Placed, diff: dict[str, Any] | None = None) -> None:
        self.record(entity, row.id, Operation.CREATE, row.version, row.unit_path, diff)

    def touch(
        self,
        entity: EntityType,
        row: Placed,
        operation: Operation = Operation.UPDATE,
        diff: dict[str, Any] | None = None,
    ) -> None:
        """A new version of `row`: its number bumped, its time stamped, the change logged."""
        self.bump(entity, row, row.id, row.unit_path, operation, diff)

    def bump(
        self,
        entity: EntityType,
        row: Versioned,
        key: object,
        path: str,
        operation: Operation = Operation.UPDATE,
        diff: dict[str, Any] | None = None,
    ) -> None:
        """`touch` for records keyed or placed otherwise (units by code, accounts by area)."""
        row.version += 1
        if isinstance(row, Stamped):
            row.updated_at = utcnow()
        self.record(entity, key, operation, row.version, path, diff)

    def remove(self, entity: EntityType, row: Placed) -> None:
        """A soft delete: the row stays, with a tombstone in the change log."""
        row.deleted_at = utcnow()
        self.touch(entity, row, Operation.DELETE)

    @property
    def batched(self) -> bool:
        return self._batched

    @asynccontextmanager
    async def batch(self) -> AsyncIterator["Batch"]:
        """Many use cases in one transaction (a sync batch): each only flushes, each runs in
        a savepoint of its own (`Batch.step`), and the caller commits once at the end."""
        self._batched = True
        try:
            yield Batch(self)
        finally:
            self._batched = False

    async def flush(self) -> None:
        try:
            await self.session.flush()
        except IntegrityError as exc:
            raise Conflict("the write conflicts with existing data") from exc

    async def commit(self, result: StoredResult | None = None) -> None:
        if self._batched:
            await self.flush()
            return
        await self.finish(result)

    async def finish(self, result: StoredResult | None = None) -> None:
        if self._claim is not None and result is not None:
            self._claim.status_code = result.status_code
            self._claim.body = result.body
            self._claim = None
        try:
            await self._write_changes()
            await self.session.commit()
        except IntegrityError as exc:
            raise Conflict("the write conflicts with existing data") from exc

    async def rollback(self) -> None:
        self._pending.clear()
        self._claim = None
        await self.session.rollback()

    async def _write_changes(self) -> None:
        if not self._pending:
            return
        await self.session.flush()
        # Taken last, just before COMMIT: the row lock serialises only the commit itself, and
        # sequence numbers come out gap-free in commit order.
        head = await self.session.execute(
            update(ChangeLogHead)
            .where(col(ChangeLogHead.id) == 1)
            .values(last_seq=col(ChangeLogHead.last_seq) + len(self._pending))
            .returning(col(ChangeLogHead.last_seq))
        )
        last_seq = head.scalar_one()
        now = utcnow()
        txn = uuid.uuid4()
        first = last_seq - len(self._pending) + 1
        self.session.add_all(
            ChangeLogEntry(
                seq=first + i,
                entity_type=c.entity_type,
                entity_id=c.entity_id,
                operation=c.operation,
                version=c.version,
                unit_path=c.unit_path,
                actor=self.principal.subject,
                occurred_at=now,
                client=self.principal.client,
                transaction_id=txn,
                diff=c.diff,
            )
            for i, c in enumerate(self._pending)
        )
        self._pending.clear()
        await self.session.flush()


@dataclass
class Batch:
    uow: UnitOfWork

    @asynccontextmanager
    async def step(self) -> AsyncIterator[None]:
        """One use case of the batch: if it fails, its writes and its change-log entries are
        undone, and the batch goes on."""
        mark = len(self.uow._pending)
        nested = await self.uow.session.begin_nested()
        try:
            yield
            await nested.commit()
        except BaseException:
            await nested.rollback()
            del self.uow._pending[mark:]
            raise
