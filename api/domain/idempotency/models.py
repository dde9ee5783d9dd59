from datetime import datetime
from typing import Any

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from api.domain.base import utc_field, utcnow


class IdempotencyRecord(SQLModel, table=True):
    """The first answer to a keyed request, stored in the transaction that did the work."""

    __tablename__ = "idempotency_record"

    actor: str = Field(primary_key=True, max_length=120)
    key: str = Field(primary_key=True, max_length=255)
    fingerprint: str = Field(max_length=64)
    status_code: int | None = None
    body: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    created_at: datetime = utc_field(default_factory=utcnow, index=True)
