"""Input types as strict as the published contract. FastAPI validates bodies and parameters
in pydantic's lax Python mode, which takes `2022-01-01T00:00:00` and Unix timestamps where
the contract says `format: date` or `format: date-time`, and `"yes"`, `"on"`, 1 and 0 where it
says `type: boolean`. These types keep the contract's JSON Schema and refuse the rest."""

import re
from datetime import UTC, date, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field, Strict
from pydantic_core import PydanticCustomError

_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})"
)
# No date the registry records or is asked about lies outside these; they also keep day
# arithmetic (the day after a period, years before a date) clear of Python's date limits.
FIRST_DAY, LAST_DAY = date(1800, 1, 1), date(2999, 12, 31)
# Versions are stored as 32-bit integers; a larger one can only be a client's mistake.
LAST_VERSION = 2**31 - 1


def day(value: object) -> date:
    """A `YYYY-MM-DD` string (or a date, from Python callers and GraphQL's own scalar)."""
    if isinstance(value, str) and _ISO_DAY.fullmatch(value):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            raise PydanticCustomError("date_parsing", "Input should be a valid date") from None
    if isinstance(value, datetime) or not isinstance(value, date):
        raise PydanticCustomError("date_format", "Input should be a date in the form YYYY-MM-DD")
    if not FIRST_DAY <= value <= LAST_DAY:
        raise PydanticCustomError(
            "date_out_of_range", f"Input should lie between {FIRST_DAY} and {LAST_DAY}"
        )
    return value


def _instant_text(value: object) -> object:
    if isinstance(value, datetime) or (isinstance(value, str) and _RFC3339.fullmatch(value)):
        return value
    raise PydanticCustomError(
        "datetime_format",
        "Input should be a date and time with its offset, e.g. 2026-01-01T08:00:00+07:00",
    )


def _to_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("is outside the range of representable instants") from exc


def _text_bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if value == "true" or value == "false":
        return value == "true"
    raise PydanticCustomError("bool_parsing", "Input should be true or false")


Day = Annotated[date, BeforeValidator(day)]
# An instant in RFC 3339 (`format: date-time`): it must carry its offset; kept in UTC.
Instant = Annotated[AwareDatetime, BeforeValidator(_instant_text), AfterValidator(_to_utc)]
# A JSON boolean in a request body: JSON has true and false, so nothing else is taken.
Bool = Annotated[bool, Strict()]
# A boolean in a query string or form, which carry text: `true` or `false`.
TextBool = Annotated[bool, BeforeValidator(_text_bool)]
# A record version a client bases a change on.
Version = Annotated[int, Field(ge=1, le=LAST_VERSION)]
