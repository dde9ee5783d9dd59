from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, Integer
from sqlmodel import Field, SQLModel

from api.domain.base import utc_field, utcnow


class PersonalDataRead(SQLModel, table=True):
    """One record of personal data shown to a partner: who, which record, why, when."""

    __tablename__ = "audit_read"

    # SQLite only autoincrements an INTEGER primary key.
    id: int | None = Field(
        default=None,
        sa_column=Column(
            BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
        ),
    )
    actor: str = Field(max_length=120, index=True)
    agency: str | None = Field(default=None, max_length=64)
    purpose: str = Field(max_length=300)
    entity_type: str = Field(max_length=32)
    entity_id: str = Field(max_length=64, index=True)
    unit_path: str = Field(max_length=200, index=True)
    read_at: datetime = utc_field(default_factory=utcnow, index=True)


class ReadPublic(SQLModel):
    id: int
    actor: str
    agency: str | None
    purpose: str
    entity_type: str
    entity_id: str
    unit_path: str
    read_at: datetime


class WritePublic(SQLModel):
    seq: int
    entity_type: str
    entity_id: str
    operation: str
    version: int
    unit_path: str
    actor: str
    client: str | None
    occurred_at: datetime
    diff: dict[str, Any] = Field(description="Changed fields: [old value, new value]")
    redacted: list[str] = Field(
        default_factory=list, description="Fields whose values are hidden from this reader"
    )
