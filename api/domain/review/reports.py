"""Review reports for any unit and period, and the what-if under another standard.

Counts come from the status history (what was recognised, and when), so a report for 2022
reads the same in 2026. Units are taken as they were at the end of the period."""

from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.domain import access
from api.domain.access import Permission, Principal
from api.domain.errors import FieldProblem, NotFound, ValidationFailed
from api.domain.households.member_models import Member
from api.domain.households.models import Household, PovertyStatus
from api.domain.review.assess import LISTED
from api.domain.review.classify import Survey, classify
from api.domain.review.derive import derive
from api.domain.review.models import Assessment, Cause, Flag, Movement, State, StatusRecord
from api.domain.review.places import place_of
from api.domain.review.report_cells import blanked, linked, unit_cells, unit_figures
from api.domain.review.report_models import (
    RATE_DEFINITIONS,
    Assumption,
    ChangedHousehold,
    ClassChange,
    ClassCount,
    CountRow,
    DeprivationRow,
    MovementRow,
    RateBasis,
    RateDefinition,
    ReviewReport,
    UnitRow,
    WhatIf,
)
from api.domain.review.standards import Area, Catalog
from api.domain.review.status import covering
from api.domain.review.suppression import TOTAL, Cell, protect
from api.domain.units.models import AdminUnit, AdminUnitParent, UnitLevel
from api.domain.units.service import UnitService

POOR, NEAR = PovertyStatus.POOR, PovertyStatus.NEAR_POOR
FLAG_LABELS = {
    Flag.NO_LABOUR_CAPACITY: "Hộ không có khả năng lao động",
    Flag.ETHNIC_MINORITY: "Hộ dân tộc thiểu số",
    Flag.FEMALE_HEAD: "Chủ hộ là nữ",
    Flag.MERITORIOUS: "Hộ người có công với cách mạng",
    Flag.SOCIAL_PROTECTION: "Hộ bảo trợ xã hội",
}
CAUSE_LABELS = {
    Cause.NO_LAND: "Thiếu đất sản xuất",
    Cause.NO_CAPITAL: "Thiếu vốn sản xuất",
    Cause.NO_LABOUR: "Thiếu lao động, già cả, không có khả năng lao động",
    Cause.NO_TOOLS: "Thiếu phương tiện sản xuất",
    Cause.NO_KNOWHOW: "Không biết cách làm ăn",
    Cause.NO_SKILLS: "Không có tay nghề",
    Cause.ILLNESS: "Ốm đau, bệnh nặng, tai nạn",
    Cause.OTHER: "Nguyên nhân khác",
}
WHAT_IF_LIST = 500


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def _alive(deleted_at: Any, day: date) -> ColumnElement[bool]:
    return or_(deleted_at.is_(None), deleted_at >= _start_of(day + timedelta(days=1)))


def _member_on(day: date) -> ColumnElement[bool]:
    return and_(
        col(Member.created_at) < _start_of(day + timedelta(days=1)),
        _alive(col(Member.deleted_at), day),
        or_(col(Member.joined_on).is_(None), col(Member.joined_on) <= day),
        or_(col(Member.left_on).is_(None), col(Member.left_on) > day),
    )


def _pct(part: int, whole: int) -> float:
    return round(100 * part / whole, 2) if whole else 0.0


class ReviewReports:
    def __init__(
        self,
        session: AsyncSession,
        principal: Principal,
        units: UnitService,
        standards: Catalog,
        small_cells_below: int = 5,
    ) -> None:
        self.session = session
        self.principal = principal
        self.units = units
        self.catalog = standards
        self.small_cells_below = small_cells_below

    async def _villages(self, code: str, day: date) -> dict[str, str]:
        """The villages under `code` at `day`, each mapped to the unit directly below `code`
        that holds it (itself for a village). The caller must hold all of them."""
        unit = await self.units.get(code)
        if unit.valid_to is not None and day > unit.valid_to:
            # A unit that no longer exists: its villages as they were on its last day.
            day = unit.valid_to
        if unit.level == UnitLevel.VILLAGE:
            tops = {code: code}
        else:
            tops = {}
            for child in await self.units.children(code, day):
                if child.level == UnitLevel.VILLAGE:
                    tops[child.code] = child.code
                    continue
                for v in await self._village_codes(child.code, day):
                    tops[v] = child.code
        paths = (
            await self.session.execute(
                select(col(AdminUnit.code), col(AdminUnit.path)).where(
                    col(AdminUnit.code).in_(tops)
                )
            )
        ).all()
        if any(not access.in_scope(self.principal, p) for _, p in paths):
            raise NotFound(f"no unit {code} in your area")
        return tops

    async def _village_codes(self, code: str, day: date) -> list[str]:
        codes = await self.units.descendant_codes(code, day)
        rows = await self.session.scalars(
            select(col(AdminUnit.code)).where(
                col(AdminUnit.code).in_(codes), col(AdminUnit.level) == UnitLevel.VILLAGE
            )
        )
        return list(rows.all())

    async def review(
        self, code: str, start: date, end: date, rate: RateBasis = RateBasis.HOUSEHOLDS
    ) -> ReviewReport:
        access.require(self.principal, Permission.REPORTS_READ)
        if end < start:
            raise ValidationFailed([FieldProblem("to", "before `from`", "invalid_range")])
        unit = await self.units.get(code)
        villages = await self._villages(code, end)
        last = min(end, unit.valid_to) if unit.valid_to else end
        title = (await self.units.public(code, last)).name
        names = {u.code: u.name for u in await self.units.children(code, last)}
        per_village = await self._unit_counts(list(villages), end)
        rows: dict[str, Counter[str]] = defaultdict(Counter)
        for village, counts in per_village.items():
            rows[villages[village]] += counts
        total: Counter[str] = sum(rows.values(), Counter())
        report = ReviewReport(
            unit_code=code,
            unit_name=title,
            period_from=start,
            period_to=end,
            standard_code=self.catalog.in_force(end, "to").code,
            rate_definition=RateDefinition(
                code=rate, name=RATE_DEFINITIONS[rate][0], formula=RATE_DEFINITIONS[rate][1]
            ),
            totals=_row(code, title, total, rate),
            rows=[
                _row(c, names.get(c, c), rows[c], rate)
                for c in sorted(set(villages.values()))
                if c != code
            ],
            movements=await self._movements(list(villages), start, end),
            **(await self._profiles(list(villages), end)),
            notes=[
                "Households and persons are those recorded in the registry by the end of the "
                "period and not removed by then; "
                "statuses are those recognised by decisions effective on or before it.",
                "The seed plan's 'multidimensional poverty rate' has no stated definition and "
                "is not computed.",
            ],
        )
        return await self._small_cells(report, unit, start, last)

    async def _small_cells(
        self, report: ReviewReport, unit: AdminUnit, start: date, end: date
    ) -> ReviewReport:
        """A commune's village rows, or a village's own figures, with small counts suppressed
        for readers other than the commune's staff. A village is protected as a row of its
        commune, so its own report and the commune's cannot be combined to undo it."""
        if unit.level not in (UnitLevel.COMMUNE, UnitLevel.VILLAGE):
            return report
        commune = unit if unit.level == UnitLevel.COMMUNE else await self._commune_of(unit, end)
        if commune is None or access.sees_small_cells(self.principal, commune.path):
            return report
        below = self.small_cells_below
        if unit.level == UnitLevel.COMMUNE:
            hidden = _by_row(protect({r.code: unit_cells(r) for r in report.rows}, below))
            return blanked(report, below, hidden, hidden.get(TOTAL, set()))
        villages = {*await self._village_codes(commune.code, end), unit.code}
        cells = {v: await self._village_figures(v, start, end) for v in villages}
        hidden = _by_row(protect(cells, below, linked()))
        return blanked(report, below, {}, hidden.get(unit.code, set()))

    async def _village_figures(self, village: str, start: date, end: date) -> dict[str, int]:
        counts = (await self._unit_counts([village], end))[village]
        return unit_figures(
            _row(village, village, counts, RateBasis.HOUSEHOLDS),
            await self._movements([village], start, end),
            await self._profiles([village], end),
        )

    async def _commune_of(self, village: AdminUnit, day: date) -> AdminUnit | None:
        p = AdminUnitParent
        code = await self.session.scalar(
            select(col(p.parent_code)).where(
                col(p.child_code) == village.code,
                col(p.valid_from) <= day,
                or_(col(p.valid_to).is_(None), col(p.valid_to) >= day),
            )
        )
        return None if code is None else await self.session.get(AdminUnit, code)

    def _households_on(self, villages: Sequence[str], day: date) -> ColumnElement[bool]:
        return and_(
            col(Household.village_code).in_(villages),
            col(Household.created_at) < _start_of(day + timedelta(days=1)),
            _alive(col(Household.deleted_at), day),
        )

    async def _unit_counts(self, villages: Sequence[str], day: date) -> dict[str, Counter[str]]:
        h, m, s = Household, Member, StatusRecord
        out: dict[str, Counter[str]] = defaultdict(Counter)
        live = self._households_on(villages, day)
        for v, n in await self._pairs(
            select(col(h.village_code), func.count()).where(live).group_by(col(h.village_code))
        ):
            out[v]["households"] = n
        for v, n in await self._pairs(
            select(col(h.village_code), func.count())
            .select_from(m)
            .join(h, col(h.id) == col(m.household_id))
            .where(live, _member_on(day))
            .group_by(col(h.village_code))
        ):
            out[v]["persons"] = n
        listed = (col(s.household_id) == col(h.id)) & covering(day) & col(s.status).in_(LISTED)
        for v, status, n in await self._triples(
            select(col(h.village_code), col(s.status), func.count())
            .select_from(s)
            .join(h, listed)
            .where(live)
            .group_by(col(h.village_code), col(s.status))
        ):
            out[v][f"{_status(status)}_households"] = n
        for v, status, n in await self._triples(
            select(col(h.village_code), col(s.status), func.count())
            .select_from(s)
            .join(h, listed)
            .join(m, col(m.household_id) == col(h.id))
            .where(live, _member_on(day))
            .group_by(col(h.village_code), col(s.status))
        ):
            out[v][f"{_status(status)}_persons"] = n
        return out

    async def _pairs(self, stmt: Any) -> list[tuple[str, int]]:
        return [(a, int(b)) for a, b in (await self.session.execute(stmt)).all()]

    async def _triples(self, stmt: Any) -> list[tuple[str, Any, int]]:
        return [(a, b, int(c)) for a, b, c in (await self.session.execute(stmt)).all()]

    async def _listed_on(self, villages: Sequence[str], day: date) -> Counter[PovertyStatus]:
        h, s = Household, StatusRecord
        rows = await self.session.execute(
            select(col(s.status), func.count())
            .join(h, col(h.id) == col(s.household_id))
            .where(self._households_on(villages, day), covering(day), col(s.status).in_(LISTED))
            .group_by(col(s.status))
        )
        return Counter({PovertyStatus(_status(k)): int(n) for k, n in rows})

    async def _movements(
        self, villages: Sequence[str], start: date, end: date
    ) -> list[MovementRow]:
        h, s = Household, StatusRecord
        before = start - timedelta(days=1)
        opening = await self._listed_on(villages, before)
        closing = await self._listed_on(villages, end)
        moves = Counter(
            {
                Movement(_status(k)): int(n)
                for k, n in (
                    await self.session.execute(
                        select(col(s.movement), func.count())
                        .join(h, col(h.id) == col(s.household_id))
                        .where(
                            col(h.village_code).in_(villages),
                            col(s.effective_from) >= start,
                            col(s.effective_from) <= end,
                        )
                        .group_by(col(s.movement))
                    )
                ).all()
            }
        )
        gone = await self._left_registry(villages, start, end)
        mv = Movement
        rows = []
        for listed, new, again, inbound, escaped, outbound in (
            (
                POOR,
                mv.NEW_POOR,
                mv.RE_POOR,
                mv.NEAR_POOR_TO_POOR,
                mv.ESCAPED_POOR,
                mv.POOR_TO_NEAR_POOR,
            ),
            (
                NEAR,
                mv.NEW_NEAR_POOR,
                None,
                mv.POOR_TO_NEAR_POOR,
                mv.ESCAPED_NEAR_POOR,
                mv.NEAR_POOR_TO_POOR,
            ),
        ):
            increases = moves[new] + (moves[again] if again else 0) + moves[inbound]
            decreases = moves[escaped] + moves[outbound] + gone[listed]
            expected = opening[listed] - decreases + increases
            rows.append(
                MovementRow(
                    list=listed,
                    start=opening[listed],
                    new=moves[new],
                    re_entered=moves[again] if again else 0,
                    from_other_list=moves[inbound],
                    escaped=moves[escaped],
                    to_other_list=moves[outbound],
                    other_decrease=gone[listed],
                    end=closing[listed],
                    expected_end=expected,
                    balanced=expected == closing[listed],
                )
            )
        return rows

    async def _left_registry(
        self, villages: Sequence[str], start: date, end: date
    ) -> Counter[PovertyStatus]:
        """Listed households deleted from the registry during the period."""
        h, s = Household, StatusRecord
        rows = (
            await self.session.execute(
                select(col(h.deleted_at), col(s.status), col(s.effective_from), col(s.effective_to))
                .join(s, col(s.household_id) == col(h.id))
                .where(
                    col(h.village_code).in_(villages),
                    col(h.deleted_at) >= _start_of(start),
                    col(h.deleted_at) < _start_of(end + timedelta(days=1)),
                )
            )
        ).all()
        out: Counter[PovertyStatus] = Counter()
        for deleted_at, status, since, until in rows:
            if deleted_at is None:
                continue
            day = deleted_at.date()
            if since <= day and (until is None or until > day) and status in LISTED:
                out[PovertyStatus(_status(status))] += 1
        return out

    async def _profiles(self, villages: Sequence[str], day: date) -> dict[str, Any]:
        h, s = Household, StatusRecord
        rows = (
            await self.session.execute(
                select(
                    col(s.status),
                    col(s.deprived),
                    col(s.flags),
                    col(s.causes),
                    col(s.standard_code),
                )
                .join(h, col(h.id) == col(s.household_id))
                .where(self._households_on(villages, day), covering(day), col(s.status).in_(LISTED))
            )
        ).all()
        listed: Counter[str] = Counter()
        deprived: dict[str, Counter[str]] = defaultdict(Counter)
        flags: dict[str, Counter[str]] = defaultdict(Counter)
        causes: dict[str, Counter[str]] = defaultdict(Counter)
        for status, dep, fl, ca, _std in rows:
            key = _status(status)
            listed[key] += 1
            for code in dep:
                deprived[code][key] += 1
            for f in fl:
                flags[f][key] += 1
            for c in ca:
                causes[c][key] += 1
        standard = self.catalog.in_force(day, "to")
        p, n = listed[POOR.value], listed[NEAR.value]
        return {
            "deprivations": [
                DeprivationRow(
                    indicator=i.code,
                    name_vi=i.name_vi,
                    dimension=i.dimension,
                    poor_households=deprived[i.code][POOR.value],
                    poor_share=_pct(deprived[i.code][POOR.value], p),
                    near_poor_households=deprived[i.code][NEAR.value],
                    near_poor_share=_pct(deprived[i.code][NEAR.value], n),
                )
                for i in standard.indicators
            ],
            "flags": [
                CountRow(
                    key=f.value,
                    label_vi=FLAG_LABELS[f],
                    poor_households=flags[f.value][POOR.value],
                    near_poor_households=flags[f.value][NEAR.value],
                )
                for f in Flag
            ],
            "causes": [
                CountRow(
                    key=c.value,
                    label_vi=CAUSE_LABELS[c],
                    poor_households=causes[c.value][POOR.value],
                    near_poor_households=causes[c.value][NEAR.value],
                )
                for c in Cause
            ],
        }

    async def what_if(
        self,
        code: str,
        standard_code: str,
        as_of: date | None = None,
        unknown: Assumption = Assumption.NOT_DEPRIVED,
    ) -> WhatIf:
        """Apply `standard_code` to each household's latest assessment (submitted or later)
        and list who would change class. Indicators the old survey did not ask are derived
        from today's facts where possible, else taken by the stated assumption."""
        access.require(self.principal, Permission.REPORTS_READ)
        day = as_of or date.today()
        target = self.catalog.get(standard_code, "standard")
        villages = await self._villages(code, day)
        a, h = Assessment, Household
        rows = (
            await self.session.execute(
                select(a, h)
                .join(h, col(h.id) == col(a.household_id))
                .where(
                    self._households_on(list(villages), day),
                    col(a.deleted_at).is_(None),
                    col(a.review_date) <= day,
                    col(a.state).not_in([State.DRAFT, State.RETURNED, State.REFUSED]),
                )
                .order_by(col(a.household_id), col(a.review_date), col(a.created_at))
            )
        ).all()
        latest: dict[Any, tuple[Assessment, Household]] = {}
        for assessment, household in rows:
            latest[assessment.household_id] = (assessment, household)
        members = await self._members_of([hh.id for _, hh in latest.values()], day)
        areas: dict[str, tuple[Area, str | None]] = {}
        before: Counter[PovertyStatus | None] = Counter()
        after: Counter[PovertyStatus | None] = Counter()
        pairs: Counter[tuple[PovertyStatus | None, PovertyStatus | None]] = Counter()
        changed: list[ChangedHousehold] = []
        for assessment, household in latest.values():
            if household.village_code not in areas:
                place = await place_of(self.session, household.village_code, day)
                areas[household.village_code] = (place.area, place.province_code)
            area, province = areas[household.village_code]
            old = {r["code"]: r.get("deprived") for r in assessment.indicators}
            deprivations: dict[str, bool | None] = {}
            assumed = []
            for ind in target.indicators:
                if ind.code in old:
                    deprivations[ind.code] = old[ind.code]
                    continue
                got = derive(ind, household, members.get(household.id, []), day).deprived
                if got is None:
                    assumed.append(ind.code)
                    got = {Assumption.NOT_DEPRIVED: False, Assumption.DEPRIVED: True}.get(unknown)
                deprivations[ind.code] = got
            answers = assessment.answers
            result = classify(
                target,
                Survey(
                    area=area,
                    province=province,
                    deprivations=deprivations,
                    income=answers.get("monthly_income_per_capita"),
                    income_proxy_score=answers.get("income_proxy_score"),
                    agricultural=answers.get("agricultural"),
                    screened_out=bool(answers.get("screened_out")),
                ),
            )
            was = assessment.status
            before[was] += 1
            after[result.status] += 1
            pairs[(was, result.status)] += 1
            if result.status != was and len(changed) < WHAT_IF_LIST:
                changed.append(
                    ChangedHousehold(
                        household_id=household.id,
                        assessment_id=assessment.id,
                        from_status=was,
                        to_status=result.status,
                        deprived=list(result.deprived),
                        assumed=assumed,
                    )
                )
        return WhatIf(
            unit_code=code,
            standard_code=target.code,
            as_of=day,
            unknown_indicators=unknown,
            assessed_households=len(latest),
            before=_class_counts(before),
            after=_class_counts(after),
            changes=[
                ClassChange(from_status=f, to_status=t, households=n)
                for (f, t), n in sorted(pairs.items(), key=lambda kv: (-kv[1], str(kv[0])))
                if f != t
            ],
            changed_total=sum(n for (f, t), n in pairs.items() if f != t),
            changed=changed,
            notes=[
                "Only households with a submitted or later assessment are re-classified; "
                "incomes are those surveyed, not adjusted for time.",
                f"Indicators the surveys did not ask and the facts cannot give are taken as "
                f"{unknown.value}.",
            ],
        )

    async def _members_of(self, ids: Sequence[Any], day: date) -> dict[Any, list[Member]]:
        out: dict[Any, list[Member]] = defaultdict(list)
        for chunk in range(0, len(ids), 500):
            part = ids[chunk : chunk + 500]
            for m in (
                await self.session.scalars(
                    select(Member).where(col(Member.household_id).in_(part), _member_on(day))
                )
            ).all():
                out[m.household_id].append(m)
        return out


def _by_row(cells: set[Cell]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for row, name in cells:
        out[row].add(name)
    return out


def _class_counts(counts: Counter[PovertyStatus | None]) -> list[ClassCount]:
    order = [*PovertyStatus, None]
    return [ClassCount(status=s, households=counts[s]) for s in order if counts[s]]


def _status(value: Any) -> str:
    return str(getattr(value, "value", value)) if value is not None else ""


def _row(code: str, name: str, c: Counter[str], rate: RateBasis) -> UnitRow:
    base = "households" if rate == RateBasis.HOUSEHOLDS else "persons"
    return UnitRow(
        code=code,
        name=name,
        households=c["households"],
        persons=c["persons"],
        poor_households=c["poor_households"],
        poor_persons=c["poor_persons"],
        poor_rate=_pct(c[f"poor_{base}"], c[base]),
        near_poor_households=c["near_poor_households"],
        near_poor_persons=c["near_poor_persons"],
        near_poor_rate=_pct(c[f"near_poor_{base}"], c[base]),
    )
