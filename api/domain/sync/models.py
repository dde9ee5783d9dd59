"""Offline sync: what devices push (kept item by item, exactly once) and each sync session."""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel
from sqlalchemy import JSON, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from api.domain.base import Input, enum_type, utc_field, utcnow
from api.domain.strict import Bool, Version

MAX_ITEMS = 5000
MAX_BYTES = 16 * 1024 * 1024
CURSOR_CHARS = 2000  # cursors kept in the sync log (longer ones, many areas, are cut)


class Op(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


class Entity(StrEnum):
    HOUSEHOLD = "household"
    MEMBER = "member"
    ASSESSMENT = "assessment"
    NEED = "need"


class Mode(StrEnum):
    PER_ITEM = "per_item"
    ALL_OR_NOTHING = "all_or_nothing"


class Outcome(StrEnum):
    APPLIED = "applied"
    MERGED = "merged"
    CONFLICT = "conflict"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"
    NOT_APPLIED = "not_applied"


class ItemState(StrEnum):
    DONE = "done"
    OPEN = "open"
    RESOLVED = "resolved"


class PushItem(Input):
    op_id: str = Field(
        min_length=1, max_length=100, description="The device's id for this operation"
    )
    op: Op
    entity: Entity
    id: uuid.UUID = Field(description="The record's id (client-chosen when created offline)")
    base_version: Version | None = Field(
        default=None, description="The version the change was based on (update, delete)"
    )
    data: dict[str, Any] = Field(default_factory=dict, description="Fields, as the REST shapes")


class PushRequest(Input):
    batch_id: str = Field(
        min_length=1, max_length=100, description="A retried batch with this id is answered again"
    )
    mode: Mode = Mode.PER_ITEM
    dry_run: Bool = Field(default=False, description="Validate and report; change nothing")
    items: list[PushItem] = Field(description=f"At most {MAX_ITEMS} items")


class FieldConflict(BaseModel):
    mine: Any
    theirs: Any


class ItemResult(BaseModel):
    index: int
    op_id: str
    entity: Entity
    id: uuid.UUID
    outcome: Outcome
    version: int | None = Field(default=None, description="The record's version on the server")
    conflict_id: uuid.UUID | None = None
    conflicts: dict[str, FieldConflict] | None = None
    problem: dict[str, Any] | None = Field(default=None, description="Why it was rejected")
    duplicate_of: dict[str, Any] | None = Field(
        default=None, description="The batch and position that first carried this operation"
    )
    ignored_fields: list[str] = Field(
        default_factory=list, description="Server-computed fields a device cannot set"
    )


class PushResponse(BaseModel):
    batch_id: str
    mode: Mode
    dry_run: bool
    committed: bool = Field(description="Whether anything was written")
    counts: dict[str, int]
    items: list[ItemResult]


class SyncItem(SQLModel, table=True):
    """Every pushed operation, once: its outcome, and for conflicts and rejections the
    payload, kept until someone resolves it."""

    __tablename__ = "sync_item"
    __table_args__ = (
        UniqueConstraint("actor", "op_id", name="uq_sync_item_actor_op"),
        Index("ix_sync_item_open", "state", "unit_path"),
    )

    id: uuid.UUID = Field(primary_key=True)
    actor: str = Field(max_length=120)
    device_id: str | None = Field(default=None, max_length=120)
    batch_id: str = Field(max_length=100)
    position: int
    op_id: str = Field(max_length=100)
    op: Op = Field(sa_type=enum_type(Op))
    entity: Entity = Field(sa_type=enum_type(Entity))
    entity_id: uuid.UUID = Field(index=True)
    base_version: int | None = None
    outcome: Outcome = Field(sa_type=enum_type(Outcome))
    state: ItemState = Field(sa_type=enum_type(ItemState))
    unit_path: str = Field(default="", max_length=200)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    result: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    resolution: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    resolved_by: str | None = Field(default=None, max_length=120)
    resolved_at: datetime | None = utc_field(default=None, nullable=True)
    created_at: datetime = utc_field(default_factory=utcnow)


class SyncItemPublic(SQLModel):
    id: uuid.UUID
    actor: str
    device_id: str | None
    batch_id: str
    position: int
    op_id: str
    op: Op
    entity: Entity
    entity_id: uuid.UUID
    base_version: int | None
    outcome: Outcome
    state: ItemState
    unit_path: str
    payload: dict[str, Any]
    result: dict[str, Any]
    resolution: dict[str, Any] | None
    resolved_by: str | None
    resolved_at: datetime | None
    created_at: datetime


class Resolution(StrEnum):
    TAKE_MINE = "take_mine"
    TAKE_THEIRS = "take_theirs"
    NEW_VALUES = "new_values"


class Resolve(Input):
    resolution: Resolution
    values: dict[str, Any] | None = Field(default=None, description="For new_values")
    note: str | None = Field(default=None, max_length=1000)


class SyncSession(SQLModel, table=True):
    __tablename__ = "sync_session"
    __table_args__ = (Index("ix_sync_session_keyset", "started_at", "id"),)

    id: uuid.UUID = Field(primary_key=True)
    actor: str = Field(max_length=120, index=True)
    device_id: str | None = Field(default=None, max_length=120, index=True)
    app_version: str | None = Field(default=None, max_length=60)
    kind: str = Field(max_length=16)
    unit_path: str = Field(default="", max_length=200, index=True)
    cursor_in: str | None = Field(default=None, max_length=CURSOR_CHARS)
    cursor_out: str | None = Field(default=None, max_length=CURSOR_CHARS)
    counts: dict[str, int] = Field(default_factory=dict, sa_type=JSON)
    bytes_in: int = 0
    bytes_out: int = 0
    duration_ms: int = 0
    status_code: int = 200
    started_at: datetime = utc_field(default_factory=utcnow)


class SyncSessionPublic(SQLModel):
    id: uuid.UUID
    actor: str
    device_id: str | None
    app_version: str | None
    kind: str
    unit_path: str
    cursor_in: str | None
    cursor_out: str | None
    counts: dict[str, int]
    bytes_in: int
    bytes_out: int
    duration_ms: int
    status_code: int
    started_at: datetime


class PulledChange(BaseModel):
    seq: int
    entity: str
    id: str
    op: str = Field(description="upsert, delete (tombstone) or drop (left your area)")
    version: int
    record: dict[str, Any] | None = None


class ScopeChange(BaseModel):
    dropped_areas: list[str] = Field(description="Drop every record under these paths")
    added_areas: list[str] = Field(description="Download a snapshot of these")


class PullPage(BaseModel):
    changes: list[PulledChange]
    cursor: str = Field(description="Pass back as `cursor` for the next page")
    has_more: bool
    scope: ScopeChange | None = None


class SnapshotHousehold(BaseModel):
    household: dict[str, Any]
    members: list[dict[str, Any]]
    assessments: list[dict[str, Any]]
    needs: list[dict[str, Any]] = Field(default_factory=list)


class SnapshotPage(BaseModel):
    households: list[SnapshotHousehold]
    campaigns: list[dict[str, Any]]
    next: str | None = Field(description="Pass back as `after` for the next page")
    has_more: bool
    cursor: str = Field(description="When the snapshot is done, pull from this cursor")


class Bucket(BaseModel):
    bucket: str
    count: int
    hash: str


class Digest(BaseModel):
    entity: Entity
    unit: str
    buckets: list[Bucket] = Field(description="By the first hex digit of the id")
    versions: dict[str, int] | None = Field(
        default=None, description="id → version, when one bucket is asked for"
    )
