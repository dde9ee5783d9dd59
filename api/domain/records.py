"""What households and members share: scoped loading, masking, and partner-read logging."""

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from pydantic import BaseModel
from sqlalchemy import select
from sqlmodel import col

from api.domain import access
from api.domain.access import Permission
from api.domain.audit.service import log_partner_reads, require_purpose
from api.domain.errors import NotFound
from api.domain.uow import UnitOfWork


class LiveRecord(Protocol):
    id: uuid.UUID
    unit_path: str
    deleted_at: datetime | None


R = TypeVar("R", bound=LiveRecord)
P = TypeVar("P", bound=BaseModel)


class RecordService(Generic[R, P]):
    entity: str
    model: Any

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.session = uow.session
        self.principal = uow.principal

    def to_public(self, row: R) -> P:
        raise NotImplementedError

    def public(self, row: R) -> P:
        """The record as the caller may see it (personal fields masked by role)."""
        return access.mask(self.to_public(row), self.principal, self.entity)

    async def shown(self, rows: Sequence[R]) -> list[P]:
        """Records handed to the caller; what a partner is shown is logged with its purpose."""
        await log_partner_reads(
            self.session, self.principal, self.entity, [(str(r.id), r.unit_path) for r in rows]
        )
        return [self.public(r) for r in rows]

    def reading(self) -> None:
        access.require(self.principal, Permission.HOUSEHOLDS_READ)
        require_purpose(self.principal)

    async def load(self, record_id: uuid.UUID, *, for_update: bool = False) -> R:
        """A live record in the caller's area; anything else is not found."""
        stmt = access.scoped(
            select(self.model).where(col(self.model.id) == record_id),
            self.principal,
            col(self.model.unit_path),
        )
        if for_update:
            stmt = stmt.with_for_update()
        row: R | None = (await self.session.scalars(stmt)).one_or_none()
        if row is None or row.deleted_at is not None:
            raise NotFound(f"no {self.entity} {record_id}")
        return row
