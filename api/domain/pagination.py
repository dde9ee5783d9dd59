"""Opaque keyset cursors shared by every list."""

import base64
import binascii
import json
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, PrivateAttr

from api.domain.errors import InvalidCursor

T = TypeVar("T")
# Every door takes cursors up to this length; the longest one issued (a pull cursor for the
# fifty areas an account may hold) is shorter.
MAX_CURSOR_CHARS = 2000


def encode_cursor(kind: str, values: list[Any]) -> str:
    raw = json.dumps([kind, *values], separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(kind: str, cursor: str, arity: int) -> list[Any]:
    """The values of a cursor this service issued; anything else is `InvalidCursor`, whichever
    door it came through."""
    if len(cursor) > MAX_CURSOR_CHARS:
        raise InvalidCursor(f"cursor is longer than {MAX_CURSOR_CHARS} characters")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
    # Deeply nested arrays exhaust the decoder's recursion limit before any check can run.
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise InvalidCursor("cursor is not one this service issued") from exc
    if not isinstance(data, list) or len(data) != arity + 1 or data[0] != kind:
        raise InvalidCursor(f"cursor is not a {kind} cursor")
    return data[1:]


MAX_SEQ = 2**63  # change-log positions are signed 64-bit integers


def sequence_number(value: Any) -> int:
    """A change-log position read from a cursor."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < MAX_SEQ:
        raise InvalidCursor("cursor is not one this service issued")
    return value


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None
    has_more: bool
    _cursors: list[str] = PrivateAttr(default_factory=list)

    @classmethod
    def of(cls, items: list[T], cursors: list[str], has_more: bool) -> "Page[T]":
        """A page whose every item has a cursor (GraphQL edges need one each)."""
        page = cls(
            items=items,
            next_cursor=cursors[-1] if has_more and cursors else None,
            has_more=has_more,
        )
        page._cursors = cursors
        return page

    def cursors(self) -> list[str]:
        return self._cursors
