"""Keyset paging, once: an order over unique keys, a cursor that says where a page ended, and
the page size every door checks the same way against the operator's cap."""

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, or_

from api.domain.errors import FieldProblem, InvalidCursor, ValidationFailed
from api.domain.pagination import decode_cursor, encode_cursor
from api.domain.uow import UnitOfWork

S = TypeVar("S", bound=Select[Any])
# Where a page size is named: each door renders it as its clients wrote it (REST `limit`,
# GraphQL `first`).
PAGE_SIZE = FieldProblem("limit", "", location="page")


@dataclass(frozen=True)
class Keyset:
    """An ascending order over columns that together are unique, and how a row's place in it
    is written into a cursor and read back."""

    kind: str
    columns: Callable[[], tuple[Any, ...]]
    values: Callable[[Any], list[Any]]
    parse: Callable[[list[Any]], tuple[Any, ...]]

    def cursor(self, row: Any) -> str:
        return self.cursor_at(self.values(row))

    def cursor_at(self, values: list[Any]) -> str:
        return encode_cursor(self.kind, values)

    def after(self, stmt: S, cursor: str | None) -> S:
        columns = self.columns()
        if cursor:
            values = self.parse(decode_cursor(self.kind, cursor, len(columns)))
            stmt = stmt.where(_beyond(columns, values))
        return stmt.order_by(*columns)


def _beyond(columns: Sequence[Any], values: Sequence[Any]) -> ColumnElement[bool]:
    """(c1, c2, …) > (v1, v2, …), spelled out so that every engine can use its indexes."""
    first, *rest = columns
    if not rest:
        condition: ColumnElement[bool] = first > values[0]
        return condition
    return or_(first > values[0], and_(first == values[0], _beyond(rest, values[1:])))


def by_creation(kind: str, model: Any) -> Keyset:
    """Oldest first, by (created_at, id): a stable order that survives inserts."""

    def parse(raw: list[Any]) -> tuple[Any, ...]:
        try:
            created, ident = datetime.fromisoformat(str(raw[0])), uuid.UUID(str(raw[1]))
        except ValueError as exc:
            raise InvalidCursor("cursor is not one this service issued") from exc
        if created.tzinfo is None:
            raise InvalidCursor("cursor is not one this service issued")
        return created, ident

    return Keyset(
        kind,
        lambda: (model.created_at, model.id),
        lambda row: [row.created_at.isoformat(), str(row.id)],
        parse,
    )


def by_key(
    kind: str, column: Callable[[], Any], key: Callable[[Any], Any], check: Callable[[Any], Any]
) -> Keyset:
    """In the order of one unique column (unit codes, change-log positions); `check` reads a
    cursor's value back, or raises InvalidCursor."""
    return Keyset(kind, lambda: (column(),), lambda row: [key(row)], lambda raw: (check(raw[0]),))


def text_key(value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidCursor("cursor is not one this service issued")
    return value


def page_size(limit: int, largest: int) -> int:
    if not 1 <= limit <= largest:
        raise ValidationFailed(
            [
                FieldProblem(
                    PAGE_SIZE.path,
                    f"must be between 1 and {largest}",
                    "out_of_range",
                    PAGE_SIZE.location,
                )
            ]
        )
    return limit


async def page(
    uow: UnitOfWork,
    stmt: Select[Any],
    keyset: Keyset,
    after: str | None,
    limit: int,
    largest: int | None = None,
) -> tuple[list[Any], list[str], bool]:
    """The rows after the cursor, each row's cursor, and whether more follow. The page size
    is checked against `largest` (default: the operator's cap on lists)."""
    page_size(limit, largest or uow.policy.page_size_max)
    found = await uow.session.scalars(keyset.after(stmt, after).limit(limit + 1))
    rows = list(found.all())
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, [keyset.cursor(r) for r in rows], more
