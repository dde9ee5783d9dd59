"""Checks of GraphQL page-size arguments. REST declares its `limit` ranges in the routers; the
two doors name the argument differently, so until page limits move into the services each
door checks its own (one helper here for every GraphQL list)."""

from api.domain.errors import FieldProblem, ValidationFailed

PAGE_MAX = 200


def page_size(first: int, maximum: int = PAGE_MAX) -> int:
    if not 1 <= first <= maximum:
        raise ValidationFailed(
            [FieldProblem("first", f"must be between 1 and {maximum}", location="argument")]
        )
    return first
