"""Coverage of one policy in the caller's area: the funnel eligible → needing → entitled →
delivered over distinct subjects, commune by commune, with the gap (entitled, not served) and
the leakage (served, not entitled) listed for readers of personal data."""

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlmodel import col

from api.domain import access
from api.domain.access import Permission
from api.domain.benefits.coverage_models import CoverageReport, CoverageRow, GapEntry, LeakEntry
from api.domain.benefits.delivery_models import Delivery, Match, period_serves
from api.domain.benefits.facts import Facts
from api.domain.benefits.policies import PolicyCatalog, SubjectKind, policies
from api.domain.benefits.records import DELIVERY, NEED
from api.domain.benefits.rules import Standing, evaluate
from api.domain.benefits.service import subjects
from api.domain.errors import FieldProblem, Forbidden, ValidationFailed
from api.domain.households.records import MEMBER
from api.domain.kernel.areas import covers, within
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
        self.facts = Facts(uow)

    def may_read(self, agency: str) -> None:
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
        self.may_read(policy.agency.value)
        version = policy.version_on(day)
        if version is None:
            raise ValidationFailed(
                [
                    FieldProblem(
                        "policy", f"{code} is not in force on {day}", "not_in_force", "query"
                    )
                ]
            )
        label, areas = await self.area(unit, day)
        standings = await self.facts.standings(day, areas)
        served = await self._served(code, areas, start, day, version.coverage.measure == "valid_on")
        # Only a household with a recognised status (now, or an escape before) can qualify:
        # the others are read only when a delivery names them (leakage).
        wanted = {s for c in version.clauses for s in c.statuses}
        window = any(c.escaped_within_years is not None for c in version.clauses)
        candidates = {
            h for h, st in standings.items() if st.status in wanted or (window and st.escaped_on)
        }
        named = {d.matched_household_id for d in served if d.matched_household_id is not None}
        households = await self.facts.households(sorted(candidates | named))
        ids = [h.id for h in households]
        members = await self.facts.grouped(MEMBER, ids)
        needs = await self.facts.grouped(NEED, ids)
        tallies: dict[str, _Tally] = defaultdict(_Tally)
        entitled_where: dict[uuid.UUID, tuple[uuid.UUID, str]] = {}
        refused_why: dict[uuid.UUID, list[str]] = {}
        for household in households:
            standing = standings.get(household.id, Standing())
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
        unmatched = await self._unmatched(code, areas, start, day)
        return CoverageReport(
            policy=policy.code,
            version=version.version,
            name_vi=policy.name_vi,
            subject_kind=policy.subject,
            period_from=start,
            as_of=day,
            measure=version.coverage.measure,
            totals=total.row(label, hide),
            rows=[tallies[c].row(c, hide) for c in sorted(tallies)],
            unmatched_deliveries=(None if hide is not None and 0 < unmatched < hide else unmatched),
            suppressed_below=hide,
            gaps=gaps if personal else None,
            leakage=sorted(leaks, key=lambda e: (e.unit_path, e.external_id)) if personal else None,
        )

    async def area(self, unit: str | None, day: date) -> tuple[str, list[str] | None]:
        """The unit's path and where its households are counted (a unit that is gone: the
        communes its villages went into), which must lie in the caller's area; none: the
        caller's areas."""
        if unit is None:
            return "", None
        found = await self.units.get(unit)
        paths = await self.units.territory(unit, day)
        mine = access.holds(self.principal, paths)
        if not mine and not any(covers(p, a) for p in paths for a in self.principal.areas):
            raise ValidationFailed(
                [FieldProblem("unit", "outside your area", "out_of_scope", "query")]
            )
        return found.path, paths

    async def _served(
        self, code: str, areas: list[str] | None, start: date, day: date, valid_on: bool
    ) -> list[Delivery]:
        """The policy's matched deliveries in the area that count as served."""
        stmt = DELIVERY.readable(self.principal).where(
            col(Delivery.policy) == code, col(Delivery.match) != Match.UNMATCHED
        )
        if areas is not None and (condition := within(col(Delivery.unit_path), areas)) is not None:
            stmt = stmt.where(condition)
        found = (await self.session.scalars(stmt)).all()
        return [r for r in found if period_serves(r, start, day, valid_on)]

    async def _unmatched(self, code: str, areas: list[str] | None, start: date, day: date) -> int:
        stmt = (
            DELIVERY.readable(self.principal)
            .where(col(Delivery.policy) == code, col(Delivery.match) == Match.UNMATCHED)
            .where(col(Delivery.occurred_on) <= day)
        )
        if self.principal.is_partner:
            stmt = stmt.where(col(Delivery.partner) == self.principal.subject)
        if areas is not None and (condition := within(col(Delivery.unit_path), areas)) is not None:
            stmt = stmt.where(condition)
        count = await self.session.scalar(select(func.count()).select_from(stmt.subquery()))
        return int(count or 0)
