"""Coverage of one policy in the caller's area: the funnel eligible → needing → entitled →
delivered over distinct subjects, commune by commune, with the gap (entitled, not served) and
the leakage (served, not entitled) listed for readers of personal data."""

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlmodel import col

from api.domain import access
from api.domain.access import Permission
from api.domain.benefits.coverage_models import CoverageReport, CoverageRow, GapEntry, LeakEntry
from api.domain.benefits.delivery_models import Delivery, Match, period_serves
from api.domain.benefits.need_models import Need as NeedRow
from api.domain.benefits.policies import PolicyCatalog, SubjectKind, policies
from api.domain.benefits.records import DELIVERY, NEED
from api.domain.benefits.rules import Standing, evaluate
from api.domain.benefits.service import subjects
from api.domain.errors import FieldProblem, Forbidden, ValidationFailed
from api.domain.households.member_models import Member, MembershipStatus
from api.domain.households.models import Household
from api.domain.households.records import HOUSEHOLD, MEMBER
from api.domain.kernel.areas import covers, under
from api.domain.review import status as book
from api.domain.review.models import StatusRecord
from api.domain.units.service import UnitService
from api.domain.uow import UnitOfWork


@dataclass
class _Tally:
    eligible: set[uuid.UUID] = field(default_factory=set)
    needing: set[uuid.UUID] = field(default_factory=set)
    entitled: set[uuid.UUID] = field(default_factory=set)
    served: set[uuid.UUID] = field(default_factory=set)

    def row(self, code: str, hide_below: int | None) -> CoverageRow:
        delivered = len(self.entitled & self.served)
        counts = {
            "eligible": len(self.eligible),
            "needing": len(self.needing),
            "entitled": len(self.entitled),
            "delivered": delivered,
            "gap": len(self.entitled - self.served),
            "leakage": len(self.served - self.entitled),
        }
        rate = delivered / counts["entitled"] if counts["entitled"] else None
        if hide_below is not None and any(0 < n < hide_below for n in counts.values()):
            # A rate over a small cell tells the cell: both go.
            shown: dict[str, int | None] = {
                k: (None if 0 < n < hide_below else n) for k, n in counts.items()
            }
            return CoverageRow(unit_code=code, rate=None, **shown)
        return CoverageRow(unit_code=code, rate=rate, **counts)


def _commune(path: str) -> str:
    parts = path.split("/")
    return parts[1] if len(parts) > 1 else parts[0]


class Coverage:
    def __init__(
        self,
        uow: UnitOfWork,
        units: UnitService,
        small_cells_below: int,
        catalog: PolicyCatalog | None = None,
    ) -> None:
        self.uow = uow
        self.session = uow.session
        self.principal = uow.principal
        self.units = units
        self.small_cells_below = small_cells_below
        self.catalog = catalog or policies()

    def _may_read(self, agency: str) -> None:
        if self.principal.is_partner:
            if agency != self.principal.agency:
                raise Forbidden("partners read the coverage of their own agency's policies")
            return
        access.require(self.principal, Permission.REPORTS_READ)

    async def report(
        self,
        code: str,
        unit: str | None = None,
        as_of: date | None = None,
        period_from: date | None = None,
    ) -> CoverageReport:
        day = as_of or date.today()
        start = period_from or date(day.year, 1, 1)
        if start > day:
            raise ValidationFailed(
                [FieldProblem("period_from", "is after as_of", "invalid", "query")]
            )
        policy = self.catalog.pick([code])[0]
        self._may_read(policy.agency.value)
        version = policy.version_on(day)
        if version is None:
            raise ValidationFailed(
                [
                    FieldProblem(
                        "policy", f"{code} is not in force on {day}", "not_in_force", "query"
                    )
                ]
            )
        area = await self._area(unit)
        households = await self._households(area)
        ids = [h.id for h in households]
        statuses = await self._grouped(StatusRecord, "household_id", ids, readable=False)
        members = await self._grouped(Member, "household_id", ids)
        needs = await self._grouped(NeedRow, "household_id", ids)
        tallies: dict[str, _Tally] = defaultdict(_Tally)
        entitled_where: dict[uuid.UUID, tuple[uuid.UUID, str]] = {}
        refused_why: dict[uuid.UUID, list[str]] = {}
        for household in households:
            history = sorted(statuses.get(household.id, []), key=lambda r: r.effective_from)
            status = book.as_of(household.id, history, day, 3, self.principal)
            standing = Standing(status.status, status.since, status.escaped_on)
            whole, people = subjects(
                household, standing, members.get(household.id, []), needs.get(household.id, []), day
            )
            tally = tallies[_commune(household.unit_path)]
            for subject in [whole] if policy.subject == SubjectKind.HOUSEHOLD else people:
                verdict = evaluate(policy, version, subject, day)
                if verdict.eligible:
                    tally.eligible.add(subject.id)
                if verdict.needing:
                    tally.needing.add(subject.id)
                if verdict.entitled:
                    tally.entitled.add(subject.id)
                    entitled_where[subject.id] = (household.id, household.unit_path)
                else:
                    refused_why[subject.id] = [r.message for r in verdict.reasons]
        served = await self._served(code, ids, start, day, version.coverage.measure == "valid_on")
        by_household = {h.id: h for h in households}
        leaks: list[LeakEntry] = []
        for delivery in served:
            whom = (
                delivery.matched_household_id
                if policy.subject == SubjectKind.HOUSEHOLD
                else delivery.matched_member_id
            )
            if whom is None or delivery.matched_household_id not in by_household:
                continue
            home = by_household[delivery.matched_household_id]
            tallies[_commune(home.unit_path)].served.add(whom)
            if whom not in entitled_where:
                leaks.append(
                    LeakEntry(
                        delivery_id=delivery.id,
                        external_id=delivery.external_id,
                        partner=delivery.partner,
                        subject_id=whom,
                        household_id=home.id,
                        unit_path=home.unit_path,
                        reasons=refused_why.get(whom, ["Không còn trong sổ hộ"]),
                    )
                )
        hide = None if self.principal.can(Permission.PERSONAL_DATA_READ) else self.small_cells_below
        total = _Tally()
        for t in tallies.values():
            total.eligible |= t.eligible
            total.needing |= t.needing
            total.entitled |= t.entitled
            total.served |= t.served
        personal = self.principal.can(Permission.PERSONAL_DATA_READ)
        all_served = total.served
        gaps = [
            GapEntry(subject_kind=policy.subject, subject_id=s, household_id=h, unit_path=path)
            for s, (h, path) in sorted(entitled_where.items(), key=lambda e: (e[1][1], str(e[0])))
            if s not in all_served
        ]
        unmatched = await self._unmatched(code, area, start, day)
        return CoverageReport(
            policy=policy.code,
            version=version.version,
            name_vi=policy.name_vi,
            subject_kind=policy.subject,
            period_from=start,
            as_of=day,
            measure=version.coverage.measure,
            totals=total.row(area or "", hide),
            rows=[tallies[c].row(c, hide) for c in sorted(tallies)],
            unmatched_deliveries=(None if hide is not None and 0 < unmatched < hide else unmatched),
            suppressed_below=hide,
            gaps=gaps if personal else None,
            leakage=sorted(leaks, key=lambda e: (e.unit_path, e.external_id)) if personal else None,
        )

    async def _area(self, unit: str | None) -> str | None:
        """The unit's path, which must lie in the caller's area; none: the caller's areas."""
        if unit is None:
            return None
        found = await self.units.get(unit)
        if not access.in_scope(self.principal, found.path) and not any(
            covers(found.path, a) for a in self.principal.areas
        ):
            raise ValidationFailed(
                [FieldProblem("unit", "outside your area", "out_of_scope", "query")]
            )
        return found.path

    async def _households(self, area: str | None) -> Sequence[Household]:
        stmt = HOUSEHOLD.readable(self.principal)
        if area is not None and (condition := under(col(Household.unit_path), area)) is not None:
            stmt = stmt.where(condition)
        rows: Sequence[Household] = (await self.session.scalars(stmt)).all()
        return rows

    async def _grouped(
        self, model: Any, key: str, ids: Sequence[uuid.UUID], readable: bool = True
    ) -> dict[uuid.UUID, list[Any]]:
        found: dict[uuid.UUID, list[Any]] = defaultdict(list)
        column = col(getattr(model, key))
        registration = {Member: MEMBER, NeedRow: NEED}.get(model)
        # In chunks: engines cap the parameters of one statement.
        for i in range(0, len(ids), 5000):
            chunk = ids[i : i + 5000]
            stmt = (
                registration.readable(self.principal)
                if readable and registration is not None
                else select(model)
            ).where(column.in_(chunk))
            if model is Member:
                stmt = stmt.where(col(Member.membership_status) == MembershipStatus.ACTIVE)
            for row in (await self.session.scalars(stmt)).all():
                found[getattr(row, key)].append(row)
        return found

    async def _served(
        self, code: str, ids: Sequence[uuid.UUID], start: date, day: date, valid_on: bool
    ) -> list[Delivery]:
        rows: list[Delivery] = []
        for i in range(0, len(ids), 5000):
            stmt = select(Delivery).where(
                col(Delivery.deleted_at).is_(None),
                col(Delivery.policy) == code,
                col(Delivery.matched_household_id).in_(ids[i : i + 5000]),
            )
            rows += [
                r
                for r in (await self.session.scalars(stmt)).all()
                if period_serves(r, start, day, valid_on)
            ]
        return rows

    async def _unmatched(self, code: str, area: str | None, start: date, day: date) -> int:
        stmt = (
            DELIVERY.readable(self.principal)
            .where(col(Delivery.policy) == code, col(Delivery.match) == Match.UNMATCHED)
            .where(col(Delivery.occurred_on) <= day)
        )
        if self.principal.is_partner:
            stmt = stmt.where(col(Delivery.partner) == self.principal.subject)
        if area is not None and (condition := under(col(Delivery.unit_path), area)) is not None:
            stmt = stmt.where(condition)
        count = await self.session.scalar(select(func.count()).select_from(stmt.subquery()))
        return int(count or 0)
