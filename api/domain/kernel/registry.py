"""Record types register here; the kernel, sync, the change feed and audit find them here,
and never reach a slice by its name."""

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import BaseModel
from sqlalchemy import Select, select
from sqlmodel import col

from api.domain import access
from api.domain.access import Permission, Principal
from api.domain.kernel.entities import EntityType


@dataclass(frozen=True)
class Stored:
    """Where a write left a record."""

    version: int
    unit_path: str


class RecordOps(Protocol):
    """A record type's write use cases, as devices call them (the slice's own, with its rules)."""

    async def create_record(self, record_id: uuid.UUID, data: dict[str, Any]) -> Stored: ...

    async def update_record(
        self, record_id: uuid.UUID, data: dict[str, Any], version: int
    ) -> Stored: ...

    async def delete_record(self, record_id: uuid.UUID, version: int) -> None: ...


@dataclass(frozen=True)
class Registration:
    entity: EntityType
    model: Any  # the table: id, unit_path, version, deleted_at
    public: type[BaseModel]
    # The row as a principal may see it (personal fields masked, derived texts withheld).
    view: Callable[[Any, Principal], BaseModel]
    create: type[BaseModel] | None = None
    update: type[BaseModel] | None = None
    parent: EntityType | None = None
    parent_key: str | None = None  # the column naming the parent record
    # Follows its parent to a new area; deleted with it too, when `deleted_with_parent`.
    follows_parent: bool = True
    deleted_with_parent: bool = False
    versioned: bool = True
    # Reads by partners are personal-data reads: a purpose is required and each is logged.
    personal: bool = False
    # The slice's write use cases, from the request's services (devices push through them).
    ops: Callable[[Any], RecordOps] | None = None

    @property
    def read_permission(self) -> Permission:
        return access.READ_PERMISSION[self.entity]

    @property
    def sensitive(self) -> frozenset[str]:
        return access.SENSITIVE_FIELDS.get(self.entity, frozenset())

    def readable(self, principal: Principal) -> Select[tuple[Any]]:
        """The readable statement: the live rows in the principal's area. Whether the
        principal may read the type at all is `access.may_read`."""
        stmt = select(self.model)
        if self.versioned:
            stmt = stmt.where(col(self.model.deleted_at).is_(None))
        return access.scoped(stmt, principal, col(self.model.unit_path))

    def children(self) -> list["Registration"]:
        return [r for r in _REGISTRY.values() if r.parent == self.entity]


_REGISTRY: dict[EntityType, Registration] = {}


def register(registration: Registration) -> Registration:
    if registration.entity in _REGISTRY and _REGISTRY[registration.entity] != registration:
        raise ValueError(f"{registration.entity} is registered twice")
    _REGISTRY[registration.entity] = registration
    return registration


def registration(entity: EntityType | str) -> Registration:
    return _REGISTRY[EntityType(entity)]


def registrations() -> Iterator[Registration]:
    return iter(_REGISTRY.values())
