"""Withholding fields: one shape for records, change-log diffs, sync payloads and conflicts."""

from collections.abc import Mapping
from typing import Any


def blanked(value: Any) -> Any:
    """The value with nothing in it, keeping its shape: a diff's [old, new] stays a pair and a
    conflict's {mine, theirs} keeps its keys, so clients read masked and plain alike."""
    if isinstance(value, list):
        return [None] * len(value)
    if isinstance(value, dict):
        return dict.fromkeys(value)
    return None


def withhold(values: Mapping[str, Any], hidden: frozenset[str]) -> tuple[dict[str, Any], list[str]]:
    """`values` with the `hidden` keys blanked, and the names of those it had."""
    withheld = sorted(hidden & values.keys())
    if not withheld:
        return dict(values), []
    return {k: blanked(v) if k in hidden else v for k, v in values.items()}, withheld
