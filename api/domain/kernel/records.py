"""Reading records of a registered type: the one load, the one batch read, and the one way a
record is handed to its reader (masked, and logged when a partner reads personal data)."""

import uuid
from collections.abc import Iterable, Sequence
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlmodel import col

from api.domain import access
from api.domain.audit.service import log_partner_reads, require_purpose
from api.domain.errors import FieldProblem, NotFound, ValidationFailed, VersionConflict
from api.domain.kernel.entities import EntityType
from api.domain.kernel.registry import Registration
from api.domain.uow import Placed, UnitOfWork

R = TypeVar("R", bound=Placed)
P = TypeVar("P", bound=BaseModel)


def parent_id(data: dict[str, Any], key: str) -> uuid.UUID:
    """The parent a device's create names (taken out of its fields)."""
    value = data.pop(key, None)
    if value is None:
        raise ValidationFailed([FieldProblem(key, "required", "missing")])
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise ValidationFailed([FieldProblem(key, "not a UUID", "uuid_parsing")]) from None


def check_version(expected: int | None, current: int, what: str) -> None:
    """A change based on an old version is refused (412 with the current one)."""
    if expected is not None and expected != current:
        raise VersionConflict(
            f"{what} is at version {current}, the change was based on version {expected}",
            current_version=current,
        )


def reading(uow: UnitOfWork, registration: Registration) -> None:
    """May the caller read this type? Partners reading personal data must say why."""
    access.require(uow.principal, registration.read_permission)
    if registration.personal:
        require_purpose(uow.principal)


async def load(
    uow: UnitOfWork, registration: Registration, record_id: uuid.UUID, *, for_update: bool = False
) -> Any:
    """A live record in the caller's area; anything else is not found."""
    stmt = registration.readable(uow.principal).where(col(registration.model.id) == record_id)
    if for_update:
        stmt = stmt.with_for_update()
    row = (await uow.session.scalars(stmt)).one_or_none()
    if row is None:
        raise NotFound(f"no {registration.entity.value} {record_id}")
    return row


async def rows_of(
    uow: UnitOfWork, registration: Registration, ids: Iterable[uuid.UUID]
) -> Sequence[Any]:
    wanted = set(ids)
    if not wanted:
        return []
    stmt = registration.readable(uow.principal).where(col(registration.model.id).in_(wanted))
    rows: Sequence[Any] = (await uow.session.scalars(stmt)).all()
    return rows


async def shown(uow: UnitOfWork, registration: Registration, rows: Sequence[Any]) -> list[Any]:
    """Records handed to the caller; what a partner is shown of personal data is logged."""
    if registration.personal:
        await log_partner_reads(uow, registration.entity, [(str(r.id), r.unit_path) for r in rows])
    return [registration.view(r, uow.principal) for r in rows]


class RecordService(Generic[R, P]):
    """A slice's service for one registered record type."""

    registration: Registration

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.session = uow.session
        self.principal = uow.principal

    @property
    def entity(self) -> EntityType:
        return self.registration.entity

    def public(self, row: R) -> P:
        """The record as the caller may see it."""
        view: P = self.registration.view(row, self.principal)  # type: ignore[assignment]
        return view

    async def shown(self, rows: Sequence[R]) -> list[P]:
        return await shown(self.uow, self.registration, rows)

    def reading(self) -> None:
        reading(self.uow, self.registration)

    async def load(self, record_id: uuid.UUID, *, for_update: bool = False) -> R:
        row: R = await load(self.uow, self.registration, record_id, for_update=for_update)
        return row

    async def by_ids(self, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, P]:
        """Many records in one query (GraphQL loaders, sync pulls)."""
        self.reading()
        rows = await rows_of(self.uow, self.registration, ids)
        return {r.id: p for r, p in zip(rows, await self.shown(rows), strict=True)}
