"""Administrative paths ("37/13384/13384-01"): what lies under an area, in Python and in SQL."""

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, false, or_


def covers(area: str, path: str) -> bool:
    """Whether `path` lies in `area` ("" is the whole country)."""
    return area == "" or path == area or path.startswith(area + "/")


def under(column: Any, area: str) -> ColumnElement[bool] | None:
    """SQL: `column` holds a path in `area` (None: everywhere)."""
    if area == "":
        return None
    condition: ColumnElement[bool] = or_(column == area, column.like(area + "/%"))
    return condition


def within(column: Any, areas: Iterable[str]) -> ColumnElement[bool] | None:
    """SQL: `column` holds a path in one of `areas` (None: no limit; no area: nothing)."""
    conditions = []
    for area in areas:
        condition = under(column, area)
        if condition is None:
            return None
        conditions.append(condition)
    if not conditions:
        return false()
    return conditions[0] if len(conditions) == 1 else or_(*conditions)
