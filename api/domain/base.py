"""Shared table plumbing: portable column types, naming convention, record bookkeeping."""

import unicodedata
import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import model_validator
from sqlalchemy import DateTime, TypeDecorator
from sqlalchemy import Enum as SAEnum
from sqlalchemy.engine import Dialect
from sqlmodel import Field, SQLModel
from sqlmodel._compat import SQLModelConfig

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every engine (SQLite stores naive text and drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def utc_field(**kwargs: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kwargs)


class RecordMeta(SQLModel):
    """Server-assigned bookkeeping carried by every mutable record."""

    version: int = Field(default=1, ge=1)
    created_at: datetime = utc_field(default_factory=utcnow)
    updated_at: datetime = utc_field(default_factory=utcnow)
    deleted_at: datetime | None = utc_field(default=None, nullable=True)


def new_id() -> uuid.UUID:
    return uuid.uuid4()


BOOKKEEPING = frozenset({"version", "created_at", "updated_at", "deleted_at"})


def snapshot(record: SQLModel, exclude: frozenset[str] = BOOKKEEPING) -> dict[str, Any]:
    return record.model_dump(mode="json", exclude=set(exclude))


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    return {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}


def enum_type(enum_cls: type[StrEnum]) -> SAEnum:
    """Enums are stored as their string values in a plain VARCHAR, portable and readable."""
    return SAEnum(
        enum_cls,
        native_enum=False,
        create_constraint=False,
        length=max(len(m.value) for m in enum_cls),
        values_callable=lambda members: [m.value for m in members],
    )


def composed(value: Any) -> Any:
    """Text in Unicode NFC, however deep in the input: some keyboards send decomposed
    Vietnamese, and search and duplicate checks must not depend on the keyboard."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, dict):
        return {composed(k): composed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [composed(v) for v in value]
    return value


class Input(SQLModel):
    """A shape clients send: a field it does not have is refused by name, never ignored,
    and its text is composed (NFC) before it is checked."""

    model_config = SQLModelConfig(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _composed(cls, data: Any) -> Any:
        return composed(data)
