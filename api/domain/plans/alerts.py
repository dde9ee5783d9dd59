"""Alerts, derived and never stored: a target off track, a task overdue, a cascade that does
not add up, in the plans that bind the caller. An alert clears when its cause does."""

import uuid
from datetime import date

from pydantic import BaseModel, Field

from api.domain.numbers import vi_day, vi_number
from api.domain.plans.models import PlanStatus
from api.domain.plans.tracking import PlanTracking

LIVE = (PlanStatus.ISSUED, PlanStatus.AMENDED)


class Alert(BaseModel):
    kind: str = Field(description="target_off_track | task_overdue | cascade_mismatch")
    plan_id: uuid.UUID
    unit_code: str
    subject_id: uuid.UUID = Field(description="The target or the task")
    agency: str | None = Field(description="Who must act (a task's owner)")
    message_vi: str


class Alerts:
    def __init__(self, tracking: PlanTracking) -> None:
        self.tracking = tracking
        self.plans = tracking.plans

    async def alerts(self, as_of: date | None = None) -> list[Alert]:
        found: list[Alert] = []
        agencies = {a.code: a.name_vi for a in self.plans.vocab.agencies}
        for plan in await self.plans.plans():
            if plan.status not in LIVE:
                continue
            progress = await self.tracking.progress(plan.id, as_of)
            for t in progress.targets:
                digits = 2 if t.unit in ("percent", "percentage_points") else 0
                if t.verdict == "off_track" and t.current.value is not None:
                    found.append(
                        Alert(
                            kind="target_off_track",
                            plan_id=plan.id,
                            unit_code=t.unit_code,
                            subject_id=t.target_id,
                            agency=None,
                            message_vi=(
                                f"“{t.name_vi}” của đơn vị {t.unit_code} chậm tiến độ: "
                                f"{vi_number(t.current.value, digits)}, cần đạt "
                                f"{vi_number(t.expected_value, digits)} vào "
                                f"{vi_day(progress.as_of)} (mục tiêu "
                                f"{vi_number(t.target_value, digits)})"
                            ),
                        )
                    )
                if t.cascade is not None and t.cascade.message_vi:
                    found.append(
                        Alert(
                            kind="cascade_mismatch",
                            plan_id=plan.id,
                            unit_code=t.unit_code,
                            subject_id=t.target_id,
                            agency=None,
                            message_vi=t.cascade.message_vi,
                        )
                    )
            for task in progress.board.tasks:
                if task.overdue:
                    due = task.due_on if task.recurrence is None else None
                    when = f"hạn {vi_day(due)}" if due else "chưa báo cáo kỳ đã đến hạn"
                    found.append(
                        Alert(
                            kind="task_overdue",
                            plan_id=plan.id,
                            unit_code=plan.unit_code,
                            subject_id=task.id,
                            agency=task.owner_agency,
                            message_vi=(
                                f"Nhiệm vụ quá hạn ({when}) của "
                                f"{agencies.get(task.owner_agency, task.owner_agency)}: "
                                f"{task.title_vi}"
                            ),
                        )
                    )
        return found
