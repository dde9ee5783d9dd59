"""Who is calling and what they may do: the whole policy on one screen.

Authentication arrives with the identity issue; until then every caller is the built-in
`system` principal with the whole country in scope. Services already ask this module, so
adding tokens changes no handler.
"""

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, or_

from api.domain.errors import Forbidden

S = TypeVar("S", bound=Select[*tuple[Any, ...]])


class Role(StrEnum):
    SYSTEM = "system"


class Permission(StrEnum):
    UNITS_READ = "units:read"
    UNITS_WRITE = "units:write"
    HOUSEHOLDS_READ = "households:read"
    HOUSEHOLDS_WRITE = "households:write"
    CHANGES_READ = "changes:read"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.SYSTEM: frozenset(Permission),
}


@dataclass(frozen=True)
class Principal:
    subject: str
    role: Role
    # Administrative paths ("37/13384") this principal may see; "" is the whole country.
    areas: tuple[str, ...] = ("",)
    agency: str | None = None

    def can(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS[self.role]


SYSTEM = Principal(subject="system", role=Role.SYSTEM)


def require(principal: Principal, permission: Permission) -> None:
    if not principal.can(permission):
        raise Forbidden(f"'{principal.role}' may not {permission}")


def in_scope(principal: Principal, unit_path: str) -> bool:
    return any(
        area == "" or unit_path == area or unit_path.startswith(area + "/")
        for area in principal.areas
    )


def path_condition(principal: Principal, column: Any) -> ColumnElement[bool] | None:
    """SQL condition restricting a `unit_path` column to the principal's areas (None: no limit)."""
    if "" in principal.areas:
        return None
    return or_(*(or_(column == area, column.like(area + "/%")) for area in principal.areas))


def scoped(stmt: S, principal: Principal, column: Any) -> S:
    condition = path_condition(principal, column)
    return stmt if condition is None else stmt.where(condition)
