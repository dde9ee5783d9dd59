"""The plan slice's record types: plans, their targets and tasks (task updates are appended
and logged as a new version of their task)."""

from datetime import date

from api.domain.access import Principal
from api.domain.kernel.entities import EntityType
from api.domain.kernel.registry import Registration, register
from api.domain.plans.models import (
    Plan,
    PlanCreate,
    PlanPublic,
    PlanUpdate,
    Recurrence,
    Target,
    TargetCreate,
    TargetPublic,
    TargetUpdate,
    Task,
    TaskCreate,
    TaskPublic,
    TaskStatus,
)

CLOSED_TASK = (TaskStatus.DONE, TaskStatus.CANCELLED)


def due_dates(recurrence: Recurrence, start: date, end: date) -> list[date]:
    """A recurring task's due dates in the plan's period: each half-year's or year's end."""
    ends = [(6, 30), (12, 31)] if recurrence == Recurrence.HALF_YEARLY else [(12, 31)]
    found = [
        date(year, month, day) for year in range(start.year, end.year + 1) for month, day in ends
    ]
    return [d for d in found if start <= d <= end]


def task_view(row: Task, principal: Principal, today: date | None = None) -> TaskPublic:
    today = today or date.today()
    next_due = row.due_on
    if row.recurrence is not None and row.due_on is not None:
        # A recurring task's due_on is the end of its series.
        dates = due_dates(row.recurrence, date(row.due_on.year, 1, 1), row.due_on)
        next_due = next((d for d in dates if d >= today), None)
    overdue = (
        row.status not in CLOSED_TASK
        and row.due_on is not None
        and row.recurrence is None
        and row.due_on < today
    )
    return TaskPublic.model_validate(
        row, from_attributes=True, update={"overdue": overdue, "next_due_on": next_due}
    )


PLAN = register(
    Registration(
        entity=EntityType.PLAN,
        model=Plan,
        public=PlanPublic,
        view=lambda row, _: PlanPublic.model_validate(row, from_attributes=True),
        create=PlanCreate,
        update=PlanUpdate,
    )
)
TARGET = register(
    Registration(
        entity=EntityType.TARGET,
        model=Target,
        public=TargetPublic,
        view=lambda row, _: TargetPublic.model_validate(row, from_attributes=True),
        create=TargetCreate,
        update=TargetUpdate,
        parent=EntityType.PLAN,
        parent_key="plan_id",
        follows_parent=False,
    )
)
TASK = register(
    Registration(
        entity=EntityType.TASK,
        model=Task,
        public=TaskPublic,
        view=task_view,
        create=TaskCreate,
        parent=EntityType.PLAN,
        parent_key="plan_id",
        follows_parent=False,
    )
)
