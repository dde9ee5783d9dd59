"""Domain errors become `extensions.code`, the same codes REST puts in problem+json."""

import logging
from collections.abc import Iterator, Sequence
from typing import Any

from graphql.error import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.utils.str_converters import to_camel_case

from api.db import unavailable
from api.domain.errors import DomainError, FieldProblem, ValidationFailed
from api.outage import RETRY_AFTER_S, outages
from api.schema.limits import is_parse_limit

log = logging.getLogger("api")


def graphql_path(argument: str, loc: Sequence[int | str]) -> str:
    return ".".join([argument, *(to_camel_case(p) if isinstance(p, str) else str(p) for p in loc)])


def _problem(p: FieldProblem) -> dict[str, str]:
    # Services name fields of the mutation's `input` in snake_case; arguments come named. A
    # service's query parameter is a field's argument here.
    if p.location == "argument":
        path = p.path
    elif p.location == "page":
        path = "first"  # every GraphQL list takes its page size as `first`
    elif p.location == "query":
        path = to_camel_case(p.path)
    else:
        path = graphql_path("input", p.path.split("."))
    return {"path": path, "message": p.message, "code": p.code}


def _extensions(original: DomainError) -> dict[str, Any]:
    if isinstance(original, ValidationFailed):
        return {
            "code": original.code,
            "errors": [_problem(p) for p in original.problems],
            **original.extra,
        }
    return {"code": original.code, **original.extra}


class ErrorCodes(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if result is None or not errors:
            return
        request_id = _request_id(self.execution_context.context)
        result.errors = [self._convert(err, request_id) for err in errors]

    @staticmethod
    def _convert(error: GraphQLError, request_id: str | None) -> GraphQLError:
        original = error.original_error
        if original is None or error.path is None:
            # Syntax and schema validation errors: the client's query is at fault. The
            # limits in api.schema.limits name their own code.
            code = "query_too_large" if is_parse_limit(error) else "graphql_invalid"
            error.extensions = {"code": code, **(error.extensions or {})}
            return error
        if isinstance(original, DomainError):
            return GraphQLError(
                original.detail,
                nodes=error.nodes,
                source=error.source,
                positions=error.positions,
                path=error.path,
                extensions={**_extensions(original), "request_id": request_id},
            )
        condition = unavailable(original)
        if condition is not None:
            outages.refused(condition)
            message = "the database cannot be reached; retry later"
            extensions: dict[str, Any] = {
                "code": "service_unavailable",
                "retry_after": RETRY_AFTER_S,
                "request_id": request_id,
            }
        else:
            log.error("unexpected error in GraphQL (request_id=%s)", request_id, exc_info=original)
            message = "An unexpected error occurred; quote the request id when reporting it."
            extensions = {"code": "internal_error", "request_id": request_id}
        return GraphQLError(
            message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions=extensions,
        )


def _request_id(context: Any) -> str | None:
    request = getattr(context, "request", None)
    state = getattr(request, "state", None)
    return getattr(state, "request_id", None)
