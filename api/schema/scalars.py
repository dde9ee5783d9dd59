"""GraphQL's Date as strict as REST's: Strawberry's built-in one parses with
`date.fromisoformat`, which also takes `20220101` and `2022-W01-1`."""

from datetime import date

import strawberry
from pydantic_core import PydanticCustomError
from strawberry.types.scalar import ScalarDefinition

from api.domain.strict import day


def _parse_day(value: object) -> date:
    if not isinstance(value, str):
        raise ValueError("a date is a string in the form YYYY-MM-DD")
    try:
        return day(value)
    except PydanticCustomError as exc:
        raise ValueError(str(exc)) from None


Date: ScalarDefinition = strawberry.scalar(
    name="Date",
    description="Date in the form YYYY-MM-DD",
    serialize=date.isoformat,
    parse_value=_parse_day,
)
SCALAR_OVERRIDES: dict[object, ScalarDefinition] = {date: Date}
