"""Plans, their targets and the agencies' tasks, as records: each write is a new version in the
change log. Task updates are append-only: they are never changed, only followed."""

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Index
from sqlmodel import Field, SQLModel

from api.domain.base import Input, RecordMeta, enum_type, utc_field, utcnow
from api.domain.strict import Day, Version


class PlanStatus(StrEnum):
    DRAFT = "draft"
    ISSUED = "issued"
    AMENDED = "amended"
    CLOSED = "closed"


class TaskStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CANCELLED = "cancelled"


class Recurrence(StrEnum):
    HALF_YEARLY = "half_yearly"
    YEARLY = "yearly"


class PlanFields(SQLModel):
    title_vi: str = Field(min_length=1, max_length=300)
    issuing_agency: str = Field(min_length=1, max_length=200, description="e.g. UBND huyện …")
    document_number: str | None = Field(default=None, max_length=60)
    issued_on: Day | None = None
    programme: str = Field(max_length=60, description="A code of the programme vocabulary")
    year: int | None = Field(default=None, ge=2000, le=2100)
    period_from: Day
    period_to: Day


class Plan(PlanFields, RecordMeta, table=True):
    __tablename__ = "plan"

    id: uuid.UUID = Field(primary_key=True)
    unit_path: str = Field(max_length=200, index=True, description="The issuing unit")
    unit_code: str = Field(max_length=20)
    territory: list[str] = Field(
        default_factory=list,
        sa_type=JSON,
        description="The communes (today's paths) its villages lie in: who it binds",
    )
    status: PlanStatus = Field(default=PlanStatus.DRAFT, sa_type=enum_type(PlanStatus))
    created_by: str = Field(max_length=120)


class PlanCreate(Input, PlanFields):
    id: uuid.UUID | None = None
    unit_code: str = Field(min_length=1, max_length=20, description="The issuing unit")
    status: PlanStatus = PlanStatus.DRAFT


class PlanUpdate(Input):
    title_vi: str | None = Field(default=None, min_length=1, max_length=300)
    document_number: str | None = Field(default=None, max_length=60)
    issued_on: Day | None = None
    status: PlanStatus | None = None
    version: Version | None = None


class PlanPublic(PlanFields):
    id: uuid.UUID
    unit_path: str
    unit_code: str
    territory: list[str]
    status: PlanStatus
    created_by: str
    version: int
    created_at: datetime
    updated_at: datetime


class TargetFields(SQLModel):
    indicator: str = Field(max_length=60)
    baseline_value: float | None = Field(default=None, description="None: not known")
    baseline_on: Day
    target_value: float
    target_on: Day
    tolerance: float = Field(default=0.0, ge=0, description="In the indicator's unit")
    note: str | None = Field(default=None, max_length=500)


class Target(TargetFields, RecordMeta, table=True):
    __tablename__ = "plan_target"
    __table_args__ = (Index("ix_plan_target_plan", "plan_id"),)

    id: uuid.UUID = Field(primary_key=True)
    plan_id: uuid.UUID = Field(foreign_key="plan.id")
    parent_id: uuid.UUID | None = Field(
        default=None, description="The target this one's unit helps reach (a cascade)"
    )
    unit_path: str = Field(max_length=200, index=True)
    unit_code: str = Field(max_length=20)
    territory: list[str] = Field(default_factory=list, sa_type=JSON)


class TargetCreate(Input, TargetFields):
    id: uuid.UUID | None = None
    unit_code: str | None = Field(default=None, description="Default: the plan's unit")
    parent_id: uuid.UUID | None = Field(
        default=None, description="The target of the unit above (a commune's under the district's)"
    )


class TargetUpdate(Input):
    target_value: float | None = None
    target_on: Day | None = None
    tolerance: float | None = Field(default=None, ge=0)
    note: str | None = Field(default=None, max_length=500)
    version: Version | None = None


class TargetPublic(TargetFields):
    id: uuid.UUID
    plan_id: uuid.UUID
    parent_id: uuid.UUID | None
    unit_path: str
    unit_code: str
    version: int


class TaskFields(SQLModel):
    title_vi: str = Field(min_length=1, max_length=500)
    owner_agency: str = Field(max_length=60, description="A code of the agency vocabulary")
    supporting_agencies: list[str] = Field(default_factory=list, sa_type=JSON)
    target_ids: list[uuid.UUID] = Field(
        default_factory=list, sa_type=JSON, description="The targets the task moves"
    )
    due_on: Day | None = None
    recurrence: Recurrence | None = Field(default=None, sa_type=enum_type(Recurrence))


class Task(TaskFields, RecordMeta, table=True):
    __tablename__ = "plan_task"
    __table_args__ = (Index("ix_plan_task_plan", "plan_id"),)

    id: uuid.UUID = Field(primary_key=True)
    plan_id: uuid.UUID = Field(foreign_key="plan.id")
    unit_path: str = Field(max_length=200, index=True)
    status: TaskStatus = Field(default=TaskStatus.OPEN, sa_type=enum_type(TaskStatus))


class TaskCreate(Input, TaskFields):
    id: uuid.UUID | None = None
    status: TaskStatus = TaskStatus.OPEN


class TaskUpdateCreate(Input):
    """An update: a note, its evidence, and a progress figure (a task without targets), or the
    figures of a reported indicator (staff trained: how many of the roster)."""

    note: str = Field(min_length=1, max_length=2000)
    evidence: str | None = Field(default=None, max_length=500, description="A document, a link")
    status: TaskStatus | None = Field(default=None, description="The task's status from now on")
    progress: float | None = Field(default=None, ge=0, le=100, description="Percent done")
    reported_numerator: int | None = Field(default=None, ge=0)
    reported_denominator: int | None = Field(default=None, ge=1)
    reported_on: Day | None = None


class TaskUpdate(SQLModel, table=True):
    __tablename__ = "plan_task_update"
    __table_args__ = (Index("ix_plan_task_update_task", "task_id", "at"),)

    id: uuid.UUID = Field(primary_key=True)
    task_id: uuid.UUID = Field(foreign_key="plan_task.id")
    unit_path: str = Field(max_length=200)
    note: str = Field(max_length=2000)
    evidence: str | None = Field(default=None, max_length=500)
    status: TaskStatus | None = Field(default=None, sa_type=enum_type(TaskStatus))
    progress: float | None = None
    reported_numerator: int | None = None
    reported_denominator: int | None = None
    reported_on: date | None = None
    by: str = Field(max_length=120)
    at: datetime = utc_field(default_factory=utcnow)


class TaskUpdatePublic(SQLModel):
    id: uuid.UUID
    task_id: uuid.UUID
    note: str
    evidence: str | None
    status: TaskStatus | None
    progress: float | None
    reported_numerator: int | None
    reported_denominator: int | None
    reported_on: date | None
    by: str
    at: datetime


class TaskPublic(TaskFields):
    id: uuid.UUID
    plan_id: uuid.UUID
    unit_path: str
    status: TaskStatus
    overdue: bool = Field(description="Past its due date and not done or cancelled (derived)")
    next_due_on: date | None = Field(description="The due date, or the recurrence's next one")
    last_update: TaskUpdatePublic | None = None
    version: int
