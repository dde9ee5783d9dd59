"""Imports every table model so the metadata is complete (migrations, tests)."""

from api.domain.audit.models import PersonalDataRead
from api.domain.benefits.delivery_models import Delivery
from api.domain.benefits.entitlement_models import Entitlement, EntitlementPosition
from api.domain.benefits.need_models import Need
from api.domain.changes.models import ChangeLogEntry, ChangeLogHead
from api.domain.households.member_models import Member, MembershipEvent
from api.domain.households.models import Household
from api.domain.idempotency.models import IdempotencyRecord
from api.domain.identity.models import (
    Device,
    LoginThrottle,
    PartnerClient,
    RefreshToken,
    Session,
    SigningKey,
    UserAccount,
)
from api.domain.jobs.models import Job
from api.domain.plans.models import Plan, Target, Task, TaskUpdate
from api.domain.review.models import Assessment, Campaign, StatusRecord
from api.domain.sync.models import SyncItem, SyncSession
from api.domain.units.models import AdminUnit, AdminUnitParent, AdminUnitSuccession

__all__ = [
    "AdminUnit",
    "AdminUnitParent",
    "AdminUnitSuccession",
    "Assessment",
    "Campaign",
    "ChangeLogEntry",
    "ChangeLogHead",
    "Delivery",
    "Device",
    "Entitlement",
    "EntitlementPosition",
    "Household",
    "IdempotencyRecord",
    "Job",
    "LoginThrottle",
    "Member",
    "MembershipEvent",
    "Need",
    "PartnerClient",
    "PersonalDataRead",
    "Plan",
    "RefreshToken",
    "Session",
    "SigningKey",
    "StatusRecord",
    "SyncItem",
    "SyncSession",
    "Target",
    "Task",
    "TaskUpdate",
    "UserAccount",
]
