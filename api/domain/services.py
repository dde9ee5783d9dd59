from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from api.domain.access import Principal
from api.domain.audit.service import AuditTrail
from api.domain.changes.service import ChangeFeed
from api.domain.households.service import HouseholdService
from api.domain.identity.management import IdentityAdmin
from api.domain.members.checks import PersonalIdChecks
from api.domain.members.service import MemberService
from api.domain.review.reports import ReviewReports
from api.domain.review.service import ReviewService
from api.domain.units.service import UnitService
from api.domain.uow import UnitOfWork


class Services:
    """Every use case for one request: one session, one principal, one policy."""

    def __init__(
        self,
        session: AsyncSession,
        principal: Principal,
        idempotency_ttl: timedelta = timedelta(hours=24),
        key_secret: str = "",
        newly_escaped_years: int = 3,
        *,
        personal_id_checks_per_hour: int = 2000,
        report_small_cells_below: int = 5,
    ) -> None:
        self.session = session
        self.principal = principal
        self.uow = UnitOfWork(session, principal, idempotency_ttl)
        self.units = UnitService(session, principal)
        self.households = HouseholdService(self.uow, self.units)
        self.members = MemberService(
            self.uow, self.households, PersonalIdChecks(self.uow, personal_id_checks_per_hour)
        )
        self.changes = ChangeFeed(session, principal)
        self.identity = IdentityAdmin(self.uow, key_secret)
        self.audit = AuditTrail(session, principal)
        self.review = ReviewService(self.households, newly_escaped_years=newly_escaped_years)
        self.reports = ReviewReports(
            session, principal, self.units, self.review.catalog, report_small_cells_below
        )
