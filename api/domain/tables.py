"""Imports every table model so the metadata is complete (migrations, tests)."""

from api.domain.changes.models import ChangeLogEntry, ChangeLogHead
from api.domain.households.models import Household
from api.domain.idempotency.models import IdempotencyRecord
from api.domain.members.models import Member, MembershipEvent
from api.domain.units.models import AdminUnit, AdminUnitParent, AdminUnitSuccession

__all__ = [
    "AdminUnit",
    "AdminUnitParent",
    "AdminUnitSuccession",
    "ChangeLogEntry",
    "ChangeLogHead",
    "Household",
    "IdempotencyRecord",
    "Member",
    "MembershipEvent",
]
