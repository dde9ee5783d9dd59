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
    TaskUpdatePublic,
)

CLOSED_TASK = (TaskStatus.DONE, TaskStatus.CANCELLED)


def due_dates(recurrence: Recurrence, start: date, end: date) -> list[date]:
    """A recurring task's due dates in the plan's period: each half-year's or year's end."""
    ends = [(6, 30), (12, 31)] if recurrence == Recurrence.HALF_YEARLY else [(12, 31)]
    found = [
        date(year, month, day) for year in range(start.year, end.year + 1) for month, day in ends
    ]
    return [d for d in found if start <= d <= end]


def task_public(
    row: Task, start: date | None, last: TaskUpdatePublic | None, today: date
) -> TaskPublic:
    """The task as shown, with what is derived: its next due date and whether it is overdue.
    A dated task is overdue past its date unless done or cancelled; a recurring one (whose
    `due_on` ends its series, which starts on `start`) when its last due date passed with
    no update since the one before."""
    series = (
        []
        if row.recurrence is None or row.due_on is None
        else due_dates(row.recurrence, start or date(row.due_on.year, 1, 1), row.due_on)
    )
    next_due = (
        row.due_on if row.recurrence is None else next((d for d in series if d >= today), None)
    )
    overdue = False
    if row.status not in CLOSED_TASK and row.due_on is not None:
        if row.recurrence is None:
            overdue = row.due_on < today
        elif passed := [d for d in series if d < today]:
            since = passed[-2] if len(passed) > 1 else (start or series[0])
            overdue = last is None or last.at.date() <= since
    return TaskPublic.model_validate(
        row,
        from_attributes=True,
        update={"overdue": overdue, "next_due_on": next_due, "last_update": last},
    )


def task_view(row: Task, principal: Principal) -> TaskPublic:
    return task_public(row, None, None, date.today())


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
