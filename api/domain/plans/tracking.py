"""A plan's progress, live: each target read from the records now (or on a day), the
cascade of commune targets checked against the district's, and the task board."""

import time
import uuid
from collections import defaultdict
from datetime import date

from pydantic import BaseModel, Field

from api.domain.benefits.coverage import Coverage
from api.domain.changes.models import ChangeLogHead
from api.domain.numbers import vi_number
from api.domain.plans.models import PlanPublic, Target, Task, TaskPublic, TaskStatus
from api.domain.plans.progress import (
    VERDICT_VI,
    Cascade,
    Readings,
    TargetProgress,
    verdict,
)
from api.domain.plans.service import PlanService
from api.domain.review.reports import ReviewReports


class TaskBoard(BaseModel):
    total: int
    done: int
    overdue: int
    open: int
    tasks: list[TaskPublic]


class PlanProgress(BaseModel):
    plan: PlanPublic
    as_of: date
    position: int = Field(description="The change log's position the figures were read at")
    targets: list[TargetProgress]
    board: TaskBoard
    warnings: list[str] = Field(description="In Vietnamese: cascades that do not add up")
    took_ms: int


class PlanTracking:
    def __init__(self, plans: PlanService, reports: ReviewReports, coverage: Coverage) -> None:
        self.plans = plans
        self.reports = reports
        self.coverage = coverage

    async def progress(self, plan_id: uuid.UUID, as_of: date | None = None) -> PlanProgress:
        started = time.perf_counter()
        plans = self.plans
        plan = await plans.plan_row(plan_id)
        head = await plans.session.get(ChangeLogHead, 1)
        day = as_of or min(date.today(), plan.period_to)
        start = plan.period_from
        readings = Readings(plans.uow, self.reports, self.coverage, plans.vocab)
        targets = [t for t in await plans.target_rows(plan) if plans.binds(t.territory)]
        tasks = await plans.task_rows(plan)
        moving: dict[str, list[Task]] = defaultdict(list)
        for task in tasks:
            for target in task.target_ids:
                moving[str(target)].append(task)
        # Upper units first: their reports hold the rows of the units below.
        ordered = sorted(targets, key=lambda t: (t.unit_path.count("/"), t.unit_path))
        found: dict[uuid.UUID, TargetProgress] = {}
        for t in ordered:
            definition = plans.vocab.indicator(t.indicator)
            current = await readings.read(
                definition,
                t.unit_code,
                start,
                day,
                moving.get(str(t.id), []),
            )
            progress, elapsed, expected, found_verdict = verdict(definition, t, current.value, day)
            found[t.id] = TargetProgress(
                target_id=t.id,
                indicator=definition.code,
                indicator_version=definition.version,
                name_vi=definition.name_vi,
                unit=definition.unit,
                direction=definition.direction,
                unit_code=t.unit_code,
                baseline_value=t.baseline_value,
                baseline_on=t.baseline_on,
                target_value=t.target_value,
                target_on=t.target_on,
                current=current,
                progress=None if progress is None else round(progress, 4),
                elapsed=round(elapsed, 4),
                expected_value=round(expected, 4),
                verdict=found_verdict,
                verdict_vi=VERDICT_VI[found_verdict],
                pipeline=await readings.pipeline(definition, t.unit_path, current),
            )
        warnings = []
        for t in targets:
            children = [c for c in targets if c.parent_id == t.id]
            if children:
                cascade = self._cascade(t, children, found)
                found[t.id].cascade = cascade
                if cascade.message_vi:
                    warnings.append(cascade.message_vi)
        shown = await plans.shown_tasks(plan, tasks)
        board = TaskBoard(
            total=len(shown),
            done=sum(1 for s in shown if s.status == TaskStatus.DONE),
            overdue=sum(1 for s in shown if s.overdue),
            open=sum(1 for s in shown if s.status in (TaskStatus.OPEN, TaskStatus.IN_PROGRESS)),
            tasks=shown,
        )
        return PlanProgress(
            plan=PlanPublic.model_validate(plan, from_attributes=True),
            as_of=day,
            position=0 if head is None else head.last_seq,
            targets=[found[t.id] for t in targets],
            board=board,
            warnings=warnings,
            took_ms=round(1000 * (time.perf_counter() - started)),
        )

    def _cascade(
        self, parent: Target, children: list[Target], found: dict[uuid.UUID, TargetProgress]
    ) -> Cascade:
        definition = self.plans.vocab.indicator(parent.indicator)
        if definition.is_rate:
            weights = [(c.target_value, found[c.id].current.denominator) for c in children]
            known = [(v, w) for v, w in weights if w]
            total = sum(w for _, w in known)
            combined = None if not total else round(sum(v * w for v, w in known) / total, 2)
        else:
            combined = round(sum(c.target_value for c in children), 2)
        allowed = max(parent.tolerance, 0.005)
        consistent = combined is not None and abs(combined - parent.target_value) <= allowed
        message = None
        if not consistent:
            digits = 2 if definition.is_rate else 0
            told = "chưa tính được" if combined is None else vi_number(combined, digits)
            message = (
                f"Chỉ tiêu “{definition.name_vi}” của {len(children)} đơn vị cấp dưới gộp lại "
                f"là {told}, khác chỉ tiêu {vi_number(parent.target_value, digits)} "
                f"của đơn vị {parent.unit_code}"
            )
        return Cascade(
            children=len(children),
            combined_target=combined,
            consistent=consistent,
            message_vi=message,
        )
