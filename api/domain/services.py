from sqlalchemy.ext.asyncio import AsyncSession

from api.domain.access import Principal
from api.domain.audit.service import AuditTrail
from api.domain.benefits.coverage import Coverage
from api.domain.benefits.deliveries import DeliveryService
from api.domain.benefits.entitlements import EntitlementBook
from api.domain.benefits.imports import DeliveryImports
from api.domain.benefits.needs import NeedService
from api.domain.benefits.preview import Preview
from api.domain.benefits.service import BenefitService
from api.domain.changes.service import ChangeFeed
from api.domain.households.checks import PersonalIdChecks
from api.domain.households.members import MemberService
from api.domain.households.service import HouseholdService
from api.domain.identity.management import IdentityAdmin
from api.domain.kernel.entities import EntityType
from api.domain.kernel.registry import RecordOps, registration
from api.domain.plans.alerts import Alerts
from api.domain.plans.service import PlanService
from api.domain.plans.tracking import PlanTracking
from api.domain.policy import Policy
from api.domain.review.reports import ReviewReports
from api.domain.review.service import ReviewService
from api.domain.sync.service import SyncService
from api.domain.units.service import UnitService
from api.domain.uow import UnitOfWork


class Services:
    """Every use case for one request: one session, one principal, one policy."""

    def __init__(
        self, session: AsyncSession, principal: Principal, policy: Policy | None = None
    ) -> None:
        self.policy = policy = policy or Policy()
        self.session = session
        self.principal = principal
        self.uow = UnitOfWork(session, principal, policy)
        self.units = UnitService(self.uow)
        self.households = HouseholdService(self.uow, self.units)
        self.members = MemberService(
            self.uow,
            self.households,
            PersonalIdChecks(self.uow, policy.personal_id_checks_per_hour),
        )
        self.changes = ChangeFeed(self.uow)
        self.identity = IdentityAdmin(self.uow, policy.key_secret)
        self.audit = AuditTrail(self.uow)
        self.review = ReviewService(
            self.households, self.members, newly_escaped_years=policy.newly_escaped_years
        )
        self.reports = ReviewReports(
            session, principal, self.units, self.review.catalog, policy.report_small_cells_below
        )
        self.needs = NeedService(self.members)
        self.review.on_recognised.append(self.needs.from_assessment)
        self.benefits = BenefitService(self.review, self.needs)
        self.deliveries = DeliveryService(self.members)
        self.imports = DeliveryImports(self.uow)
        self.entitlements = EntitlementBook(self.uow)
        self.jobs = self.imports.jobs
        self.coverage = Coverage(self.uow, self.units, policy.report_small_cells_below)
        self.preview = Preview(self.coverage)
        self.plans = PlanService(self.uow, self.units)
        self.tracking = PlanTracking(self.plans, self.reports, self.coverage)
        self.alerts = Alerts(self.tracking)
        self.sync = SyncService(self.uow, self.units, self.members.checks, self.ops)

    def ops(self, entity: EntityType) -> RecordOps:
        """A record type's write use cases, as its registration names them."""
        found = registration(entity).ops
        if found is None:
            raise LookupError(f"{entity} has no write use cases")
        return found(self)
