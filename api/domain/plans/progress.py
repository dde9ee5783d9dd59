"""Live progress: each target's indicator read from the records at a moment, in the caller's
area, against its baseline and the time elapsed. Nothing is stored: the figures are the
registry's and the deliveries' as they stand.

The verdict: the expected value today lies on the straight line from the baseline to the
target. A target is on track when the value is no worse than that by more than its
tolerance; at risk when it falls short by no more than twice the tolerance plus a quarter of
the planned move; off track beyond that."""

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlmodel import col

from api.domain import access
from api.domain.benefits.coverage import Coverage
from api.domain.benefits.coverage_models import CoverageReport
from api.domain.households.models import Household, PovertyStatus
from api.domain.kernel.areas import covers
from api.domain.plans.models import Target, Task, TaskUpdate
from api.domain.plans.vocabulary import Direction, Indicator, Vocabulary
from api.domain.review.models import Assessment, Campaign, CampaignState, State
from api.domain.review.report_models import RateBasis, ReviewReport
from api.domain.review.reports import ReviewReports
from api.domain.uow import UnitOfWork

DECIDED = (State.RECOGNISED, State.CERTIFIED, State.REFUSED)


class Reading(BaseModel):
    value: float | None = Field(description="None: not known (no figures, or withheld)")
    numerator: int | None
    denominator: int | None
    as_of: date
    source: str = Field(description="Where the figure comes from, in Vietnamese")


class Pipeline(BaseModel):
    """What the open campaign would do to a rate once recognised."""

    assessed: int = Field(description="Households assessed in open campaigns, not yet decided")
    joining: int = Field(description="Assessed into the list, not on it now")
    leaving: int = Field(description="On the list now, assessed out of it")
    projected_value: float | None


class Cascade(BaseModel):
    children: int
    combined_target: float | None = Field(
        description="The units' targets together: summed, or weighted by their denominators"
    )
    consistent: bool
    message_vi: str | None


class TargetProgress(BaseModel):
    target_id: uuid.UUID
    indicator: str
    indicator_version: str
    name_vi: str
    unit: str
    direction: Direction
    unit_code: str
    baseline_value: float | None
    baseline_on: date
    target_value: float
    target_on: date
    current: Reading
    progress: float | None = Field(description="Share of the planned move made (0–1 and beyond)")
    elapsed: float = Field(description="Share of the time from baseline to target gone by")
    expected_value: float
    verdict: str = Field(description="on_track | at_risk | off_track | unknown")
    verdict_vi: str
    pipeline: Pipeline | None = None
    cascade: Cascade | None = None


VERDICT_VI = {
    "on_track": "Đúng tiến độ",
    "at_risk": "Có nguy cơ chậm",
    "off_track": "Chậm tiến độ",
    "unknown": "Chưa có số liệu",
}


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 2) if whole else None


def verdict(
    definition: Indicator, t: Target, value: float | None, as_of: date
) -> tuple[float | None, float, float, str]:
    """(progress, elapsed, expected value, verdict) of a target whose indicator reads `value`."""
    span = (t.target_on - t.baseline_on).days
    elapsed = 1.0 if span <= 0 else min(1.0, max(0.0, (as_of - t.baseline_on).days / span))
    base = t.target_value if t.baseline_value is None else t.baseline_value
    expected = base + (t.target_value - base) * elapsed
    move = t.target_value - base
    progress = None if value is None or move == 0 else (value - base) / move
    if value is None:
        return progress, elapsed, expected, "unknown"
    short = (value - expected) if definition.direction == Direction.DOWN else (expected - value)
    if short <= t.tolerance + 1e-9:
        found = "on_track"
    elif short <= 2 * t.tolerance + abs(move) / 4:
        found = "at_risk"
    else:
        found = "off_track"
    return progress, elapsed, expected, found


class Readings:
    """Indicator values for units and moments, each report read once per call."""

    def __init__(
        self, uow: UnitOfWork, reports: ReviewReports, coverage: Coverage, vocab: Vocabulary
    ) -> None:
        self.uow = uow
        self.session = uow.session
        self.reports = reports
        self.coverage = coverage
        self.vocab = vocab
        self._review: dict[tuple[str, date, date, RateBasis], ReviewReport] = {}
        self._coverage: dict[tuple[str, str, date, date], CoverageReport] = {}
        self._open: list[tuple[str, PovertyStatus | None, PovertyStatus | None]] | None = None

    async def read(
        self,
        definition: Indicator,
        unit_code: str,
        start: date,
        as_of: date,
        tasks: Sequence[Task] = (),
    ) -> Reading:
        how = definition.compute
        source = how["source"]
        if source == "status_share":
            basis = RateBasis(how["basis"])
            row = await self._unit_row(unit_code, start, as_of, basis)
            status = "poor" if how["status"] == "poor" else "near_poor"
            whole = None if row is None else getattr(row, basis.value)
            part = None if row is None else getattr(row, f"{status}_{basis.value}")
            value = None if part is None or not whole else _pct(part, whole)
            return Reading(
                value=value,
                numerator=part,
                denominator=whole,
                as_of=as_of,
                source="Sổ hộ: trạng thái được công nhận đến ngày tính",
            )
        if source == "escaped":
            review = await self._review_report(unit_code, start, as_of, RateBasis.HOUSEHOLDS)
            row = next((m for m in review.movements if m.list == PovertyStatus.POOR), None)
            escaped = None if row is None else row.escaped
            return Reading(
                value=None if escaped is None else float(escaped),
                numerator=escaped,
                denominator=None,
                as_of=as_of,
                source="Biến động hộ nghèo trong kỳ (thoát nghèo)",
            )
        if source == "coverage":
            covered = await self._coverage_report(how["policy"], unit_code, start, as_of)
            served, entitled = covered.totals.delivered, covered.totals.entitled
            return Reading(
                value=None if served is None or not entitled else _pct(served, entitled),
                numerator=served,
                denominator=entitled,
                as_of=as_of,
                source=f"Dữ liệu chi trả của đối tác: {covered.name_vi}",
            )
        if source == "change_since_baseline":
            of = self.vocab.indicator(how["of"])
            now = await self.read(of, unit_code, start, as_of)
            before = await self.read(of, unit_code, start, start)
            value = (
                None
                if now.value is None or before.value is None
                else round(how.get("sign", 1) * (now.value - before.value), 2)
            )
            return Reading(
                value=value,
                numerator=None,
                denominator=None,
                as_of=as_of,
                source=f"Thay đổi của “{of.name_vi}” từ đầu kỳ (điểm %)",
            )
        return await self._reported(tasks, as_of)

    async def _reported(self, tasks: Sequence[Task], as_of: date) -> Reading:
        """The latest figures an agency reported, on or before the day, on a task that moves
        the target."""
        if not tasks:
            return Reading(value=None, numerator=None, denominator=None, as_of=as_of, source="")
        latest = await self.session.scalar(
            select(TaskUpdate)
            .where(
                col(TaskUpdate.task_id).in_([t.id for t in tasks]),
                col(TaskUpdate.reported_numerator).is_not(None),
                col(TaskUpdate.reported_on) <= as_of,
            )
            .order_by(col(TaskUpdate.reported_on).desc(), col(TaskUpdate.at).desc())
            .limit(1)
        )
        if latest is None or latest.reported_numerator is None:
            return Reading(
                value=None,
                numerator=None,
                denominator=None,
                as_of=as_of,
                source="Cơ quan chủ trì chưa báo cáo số liệu",
            )
        whole = latest.reported_denominator
        return Reading(
            value=None if not whole else _pct(latest.reported_numerator, whole),
            numerator=latest.reported_numerator,
            denominator=whole,
            as_of=latest.reported_on or as_of,
            source="Số liệu cơ quan chủ trì báo cáo",
        )

    async def _unit_row(self, code: str, start: date, as_of: date, basis: RateBasis) -> Any:
        # A commune's figures are a row of its district's report when that was read already.
        for (unit, s, e, b), report in self._review.items():
            if (s, e, b) == (start, as_of, basis) and unit != code:
                row = next((r for r in report.rows if r.code == code), None)
                if row is not None:
                    return row
        return (await self._review_report(code, start, as_of, basis)).totals

    async def _review_report(
        self, code: str, start: date, as_of: date, basis: RateBasis
    ) -> ReviewReport:
        key = (code, start, as_of, basis)
        if key not in self._review:
            self._review[key] = await self.reports.review(code, start, as_of, basis)
        return self._review[key]

    async def _coverage_report(
        self, policy: str, code: str, start: date, as_of: date
    ) -> CoverageReport:
        key = (policy, code, start, as_of)
        if key not in self._coverage:
            self._coverage[key] = await self.coverage.report(policy, code, as_of, start)
        return self._coverage[key]

    async def pipeline(self, definition: Indicator, path: str, current: Reading) -> Pipeline | None:
        """Households assessed in the open campaigns of the area, not yet decided: who would
        join the list and who would leave it."""
        how = definition.compute
        if how["source"] != "status_share" or how["basis"] != "households":
            return None
        status = PovertyStatus(how["status"])
        rows = [(a, now) for where, a, now in await self._undecided() if covers(path, where)]
        joining = sum(1 for assessed, now in rows if assessed == status and now != status)
        leaving = sum(1 for assessed, now in rows if assessed != status and now == status)
        projected = (
            None
            if current.numerator is None or not current.denominator
            else _pct(current.numerator + joining - leaving, current.denominator)
        )
        return Pipeline(
            assessed=len(rows), joining=joining, leaving=leaving, projected_value=projected
        )

    async def _undecided(self) -> list[tuple[str, PovertyStatus | None, PovertyStatus | None]]:
        """The open campaigns' undecided assessments in the caller's area, read once for all
        the targets: (where, the class assessed, the household's status now)."""
        if self._open is None:
            stmt = (
                select(
                    col(Assessment.unit_path),
                    col(Assessment.status),
                    col(Household.poverty_status),
                )
                .join(Campaign, col(Campaign.id) == col(Assessment.campaign_id))
                .join(Household, col(Household.id) == col(Assessment.household_id))
                .where(
                    col(Campaign.state) == CampaignState.OPEN,
                    col(Assessment.deleted_at).is_(None),
                    col(Assessment.state).not_in(DECIDED),
                    col(Assessment.status).is_not(None),
                )
            )
            stmt = access.scoped(stmt, self.uow.principal, col(Assessment.unit_path))
            self._open = [(w, a, n) for w, a, n in (await self.session.execute(stmt)).all()]
        return self._open
