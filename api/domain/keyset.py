"""Keyset pagination over (created_at, id): a stable order that survives inserts."""

import uuid
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, and_, or_

from api.domain.errors import InvalidCursor
from api.domain.pagination import decode_cursor, encode_cursor

S = TypeVar("S", bound=Select[*tuple[Any, ...]])


def after_position(stmt: S, kind: str, cursor: str | None, created_col: Any, id_col: Any) -> S:
    if cursor:
        created_raw, id_raw = decode_cursor(kind, cursor, 2)
        try:
            created, ident = datetime.fromisoformat(str(created_raw)), uuid.UUID(str(id_raw))
        except ValueError as exc:
            raise InvalidCursor("cursor is not one this service issued") from exc
        if created.tzinfo is None:
            raise InvalidCursor("cursor is not one this service issued")
        stmt = stmt.where(or_(created_col > created, and_(created_col == created, id_col > ident)))
    return stmt.order_by(created_col, id_col)


def position(kind: str, created_at: datetime, ident: uuid.UUID) -> str:
    return encode_cursor(kind, [created_at.isoformat(), str(ident)])
