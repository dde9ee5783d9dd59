import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Column
from sqlmodel import Field, SQLModel

from api.domain.base import enum_type, utc_field


class Operation(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    MEMBERSHIP = "membership"
    TRANSITION = "transition"
    EXIT = "exit"  # the record left this area (recorded at its old path)


class ChangeLogHead(SQLModel, table=True):
    """One row whose lock orders commits: sequence numbers are handed out in commit order."""

    __tablename__ = "change_log_head"

    id: int = Field(default=1, primary_key=True)
    last_seq: int = Field(default=0, sa_type=BigInteger)


class ChangeLogEntry(SQLModel, table=True):
    __tablename__ = "change_log"

    seq: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    entity_type: str = Field(max_length=32)
    entity_id: str = Field(max_length=64, index=True)
    operation: Operation = Field(sa_type=enum_type(Operation))
    version: int
    unit_path: str = Field(max_length=200, index=True)
    actor: str = Field(max_length=120, index=True)
    client: str | None = Field(default=None, max_length=120)
    occurred_at: datetime = utc_field(index=True)
    transaction_id: uuid.UUID = Field(index=True)
    diff: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


class ChangePublic(SQLModel):
    seq: int
    entity_type: str
    entity_id: str
    operation: Operation
    version: int
    unit_path: str
    actor: str
    occurred_at: datetime
    changed_fields: list[str] = Field(description="Names only: values stay behind access control")


class ChangePage(SQLModel):
    items: list[ChangePublic]
    next_cursor: str = Field(description="Pass as `after` to continue; stable even when empty")
    has_more: bool
