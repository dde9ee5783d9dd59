"""Who is calling and what they may do: the whole policy on one screen.

Roles grant permissions; a principal's areas (administrative paths such as "37/13384") bound
every read and write; records outside them do not exist for the caller (404, never 403).
Personal fields the role does not need are masked the same way for REST and GraphQL.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import ColumnElement, Select

from api.domain.errors import Forbidden
from api.domain.kernel.areas import covers, within
from api.domain.kernel.masking import withhold

S = TypeVar("S", bound=Select[*tuple[Any, ...]])
K = TypeVar("K")


class Role(StrEnum):
    REVIEWER = "reviewer"
    COMMUNE_OFFICER = "commune_officer"
    DISTRICT_OFFICER = "district_officer"
    PROVINCE_OFFICER = "province_officer"
    PARTNER = "partner"
    # Staff of an agency that a plan gives tasks to (labour, education, justice, the bank…),
    # bound to that agency and an area: they update their agency's tasks.
    AGENCY_OFFICER = "agency_officer"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    SYSTEM = "system"


class Permission(StrEnum):
    UNITS_READ = "units:read"
    UNITS_WRITE = "units:write"
    HOUSEHOLDS_READ = "households:read"
    HOUSEHOLDS_WRITE = "households:write"
    PERSONAL_DATA_READ = "personal-data:read"
    CHANGES_READ = "changes:read"
    USERS_MANAGE = "users:manage"
    DEVICES_MANAGE = "devices:manage"
    PARTNERS_MANAGE = "partners:manage"
    KEYS_MANAGE = "keys:manage"
    AUDIT_READ = "audit:read"
    REVIEW_READ = "review:read"
    REVIEW_SURVEY = "review:survey"
    REVIEW_MANAGE = "review:manage"
    REVIEW_DISTRICT_OPINION = "review:district-opinion"
    REPORTS_READ = "reports:read"
    DELIVERIES_READ = "deliveries:read"
    DELIVERIES_WRITE = "deliveries:write"
    PLANS_READ = "plans:read"
    PLANS_MANAGE = "plans:manage"
    TASKS_UPDATE = "tasks:update"


P = Permission
_READ = {P.UNITS_READ, P.HOUSEHOLDS_READ, P.CHANGES_READ}
_REVIEW = {P.REVIEW_READ, P.REPORTS_READ, P.DELIVERIES_READ, P.PLANS_READ}
# Officers of the unit that issues a plan (the district then; a commune or the province after
# 1 July 2025) set its targets and tasks, and may note progress on any of its tasks.
_PLANNING = {P.PLANS_MANAGE, P.TASKS_UPDATE}
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.REVIEWER: frozenset(
        _READ | {P.HOUSEHOLDS_WRITE, P.PERSONAL_DATA_READ, P.REVIEW_READ, P.REVIEW_SURVEY}
    ),
    Role.COMMUNE_OFFICER: frozenset(
        _READ
        | _REVIEW
        | {P.HOUSEHOLDS_WRITE, P.PERSONAL_DATA_READ, P.USERS_MANAGE, P.DEVICES_MANAGE}
        | {P.REVIEW_SURVEY, P.REVIEW_MANAGE}
        | _PLANNING
    ),
    Role.DISTRICT_OFFICER: frozenset(
        _READ
        | _REVIEW
        | {P.PERSONAL_DATA_READ, P.USERS_MANAGE, P.DEVICES_MANAGE, P.REVIEW_DISTRICT_OPINION}
        | _PLANNING
    ),
    Role.PROVINCE_OFFICER: frozenset(
        _READ | _REVIEW | {P.PERSONAL_DATA_READ, P.USERS_MANAGE, P.DEVICES_MANAGE} | _PLANNING
    ),
    # A partner writes its agency's deliveries and reads back its own (never another's).
    Role.PARTNER: frozenset(_READ | {P.DELIVERIES_WRITE}),
    # Reads plans and counts (no personal data), updates its own agency's tasks.
    Role.AGENCY_OFFICER: frozenset({P.UNITS_READ, P.PLANS_READ, P.REPORTS_READ, P.TASKS_UPDATE}),
    # The Fatherland Front supervises the review: it reads it, and the reports.
    Role.SUPERVISOR: frozenset(_READ | _REVIEW | {P.AUDIT_READ}),
    Role.ADMIN: frozenset(Permission),
    Role.SYSTEM: frozenset(Permission),
}

# Roles a manager may create or change, below their own.
MANAGEABLE_ROLES: dict[Role, frozenset[Role]] = {
    Role.COMMUNE_OFFICER: frozenset({Role.REVIEWER}),
    Role.DISTRICT_OFFICER: frozenset({Role.REVIEWER, Role.COMMUNE_OFFICER, Role.AGENCY_OFFICER}),
    Role.PROVINCE_OFFICER: frozenset(
        {
            Role.REVIEWER,
            Role.COMMUNE_OFFICER,
            Role.DISTRICT_OFFICER,
            Role.SUPERVISOR,
            Role.AGENCY_OFFICER,
        }
    ),
    Role.ADMIN: frozenset(set(Role) - {Role.SYSTEM, Role.PARTNER}),
    Role.SYSTEM: frozenset(set(Role) - {Role.PARTNER}),
}

# Personal data (Law 91/2025): hidden unless the role, or the partner's purpose, needs it.
SENSITIVE_FIELDS: dict[str, frozenset[str]] = {
    "household": frozenset({"phone"}),
    "member": frozenset({"personal_id", "ethnicity", "health_insurance", "disability"}),
    # Grounds for legal aid say a person is accused.
    "need": frozenset({"grounds", "note"}),
    "delivery": frozenset({"personal_id"}),
}
PARTNER_VISIBLE: dict[str, frozenset[str]] = {
    "social_insurance": frozenset({"personal_id", "health_insurance"}),
    "social_policy_bank": frozenset({"personal_id", "phone"}),
    "education": frozenset({"personal_id"}),
    "justice": frozenset({"personal_id", "phone", "grounds"}),
    "health": frozenset({"personal_id", "health_insurance", "disability"}),
}


# The permission that reads each record type the change log carries. Sync, the change feed and
# digests leave out the types a caller may not read; a type missing here is read by nobody.
READ_PERMISSION: dict[str, Permission] = {
    "admin_unit": P.UNITS_READ,
    "household": P.HOUSEHOLDS_READ,
    "member": P.HOUSEHOLDS_READ,
    "household_status": P.HOUSEHOLDS_READ,
    "assessment": P.REVIEW_READ,
    "review_campaign": P.REVIEW_READ,
    "user_account": P.USERS_MANAGE,
    "partner_client": P.PARTNERS_MANAGE,
    "signing_key": P.KEYS_MANAGE,
    "need": P.HOUSEHOLDS_READ,
    # Not partners: one partner's deliveries are not another's to read (a partner reads its
    # own through the deliveries list).
    "delivery": P.DELIVERIES_READ,
    "plan": P.PLANS_READ,
    "plan_target": P.PLANS_READ,
    "plan_task": P.PLANS_READ,
}


@dataclass(frozen=True)
class Principal:
    subject: str
    role: Role
    # Administrative paths this principal may see; "" is the whole country.
    areas: tuple[str, ...] = ("",)
    agency: str | None = None
    session_id: str | None = None
    client: str | None = None
    purpose: str | None = field(default=None, compare=False)

    def can(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS[self.role]

    @property
    def is_partner(self) -> bool:
        return self.role == Role.PARTNER


SYSTEM = Principal(subject="system", role=Role.SYSTEM)


# A commune's own staff see its village figures in full; other readers of reports get small
# village counts suppressed (the system principal is the command line, not a reader).
COMMUNE_STAFF = frozenset({Role.REVIEWER, Role.COMMUNE_OFFICER, Role.SYSTEM})


def sees_small_cells(principal: Principal, commune_path: str) -> bool:
    return principal.role in COMMUNE_STAFF and in_scope(principal, commune_path)


def require(principal: Principal, permission: Permission) -> None:
    if not principal.can(permission):
        raise Forbidden(f"the role {principal.role.value} may not do this ({permission.value})")


def may_read(principal: Principal, entity_type: str) -> bool:
    permission = READ_PERMISSION.get(entity_type)
    return permission is not None and principal.can(permission)


def readable(principal: Principal, entity_types: Iterable[str] = READ_PERMISSION) -> list[str]:
    """Of `entity_types`, those this principal may read (for an `IN` filter)."""
    return [t for t in entity_types if may_read(principal, t)]


def in_scope(principal: Principal, unit_path: str) -> bool:
    return any(covers(area, unit_path) for area in principal.areas)


def holds(principal: Principal, paths: Iterable[str]) -> bool:
    """Every one of `paths` lies in the principal's areas."""
    return all(in_scope(principal, p) for p in paths)


def overlaps(principal: Principal, paths: Iterable[str]) -> bool:
    """Some of `paths` lies in the principal's areas, or holds one of them."""
    return any(covers(a, p) or covers(p, a) for a in principal.areas for p in paths)


def path_condition(principal: Principal, column: Any) -> ColumnElement[bool] | None:
    """SQL condition restricting a `unit_path` column to the principal's areas (None: no limit)."""
    return within(column, principal.areas)


def scoped(stmt: S, principal: Principal, column: Any) -> S:
    condition = path_condition(principal, column)
    return stmt if condition is None else stmt.where(condition)


M = TypeVar("M", bound=BaseModel)


def mask(record: M, principal: Principal, entity: str) -> M:
    """The record as this principal may see it: fields it does not need are blanked."""
    values, withheld = masked(principal, entity, dict(record))
    if not withheld:
        return record
    return record.model_copy(update={**{k: values[k] for k in withheld}, "redacted": withheld})


def masked(
    principal: Principal, entity: str, values: Mapping[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """Field values of an `entity` (a record, a diff, a pushed payload, a conflict) with those
    the principal may not see blanked, and their names."""
    return withhold(values, hidden_fields(principal, entity))


def hidden_fields(principal: Principal, entity: str) -> frozenset[str]:
    sensitive = SENSITIVE_FIELDS.get(entity, frozenset())
    if principal.can(Permission.PERSONAL_DATA_READ):
        return frozenset()
    if principal.is_partner:
        return sensitive - PARTNER_VISIBLE.get(principal.agency or "", frozenset())
    return sensitive


def withheld(principal: Principal, derived: Mapping[K, Iterable[str]]) -> frozenset[K]:
    """Of values derived from record fields (texts, flags), each with the fields it is drawn
    from ("member.ethnicity"), those that would tell the principal a field hidden from it."""
    return frozenset(
        key
        for key, sources in derived.items()
        if any(
            name in hidden_fields(principal, entity)
            for entity, _, name in (source.partition(".") for source in sources)
        )
    )
