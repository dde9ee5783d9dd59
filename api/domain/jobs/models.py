import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Index, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from api.domain.base import enum_type, utc_field, utcnow


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class Job(SQLModel, table=True):
    __tablename__ = "job"
    __table_args__ = (
        UniqueConstraint("owner", "kind", "key", name="uq_job_owner_kind_key"),
        Index("ix_job_ready", "state", "run_after"),
    )

    id: uuid.UUID = Field(primary_key=True)
    kind: str = Field(max_length=40)
    key: str = Field(max_length=128, description="Same owner, kind and key: the same job")
    owner: str = Field(max_length=120, index=True)
    unit_path: str = Field(max_length=200)
    # Who asked, to act as them when the job runs (role, areas, agency).
    principal: dict[str, Any] = Field(sa_type=JSON)
    params: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    content: bytes | None = Field(default=None, sa_type=LargeBinary)
    state: JobState = Field(default=JobState.QUEUED, sa_type=enum_type(JobState))
    done: int = 0
    total: int | None = None
    result: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    attempts: int = 0
    error: str | None = Field(default=None, max_length=2000)
    worker: str | None = Field(default=None, max_length=120)
    run_after: datetime = utc_field(default_factory=utcnow)
    lease_until: datetime | None = utc_field(default=None, nullable=True)
    created_at: datetime = utc_field(default_factory=utcnow)
    updated_at: datetime = utc_field(default_factory=utcnow)


class JobPublic(SQLModel):
    id: uuid.UUID
    kind: str
    state: JobState
    done: int = Field(description="Rows (or steps) done so far")
    total: int | None
    attempts: int
    error: str | None
    summary: dict[str, Any] = Field(description="What the job says of itself: counts so far")
    created_at: datetime
    updated_at: datetime


def job_public(row: Job) -> JobPublic:
    return JobPublic(
        id=row.id,
        kind=row.kind,
        state=row.state,
        done=row.done,
        total=row.total,
        attempts=row.attempts,
        error=row.error,
        summary=row.result.get("summary", {}),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
