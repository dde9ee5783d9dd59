"""Domain errors become `extensions.code`, the same codes REST puts in problem+json."""

import logging
from collections.abc import Iterator
from typing import Any

from graphql.error import GraphQLError
from pydantic import ValidationError
from strawberry.extensions import SchemaExtension

from api.domain.errors import DomainError, ValidationFailed

log = logging.getLogger("api")


def validation_problems(exc: ValidationError, prefix: str) -> list[dict[str, Any]]:
    return [
        {
            "path": ".".join(str(p) for p in (prefix, *err["loc"])),
            "message": err["msg"],
            "code": err["type"],
        }
        for err in exc.errors()
    ]


def _extensions(original: BaseException | None) -> dict[str, Any] | None:
    if isinstance(original, ValidationFailed):
        return {
            "code": original.code,
            "errors": [
                {"path": p.path, "message": p.message, "code": p.code} for p in original.problems
            ],
            **original.extra,
        }
    if isinstance(original, DomainError):
        return {"code": original.code, **original.extra}
    if isinstance(original, ValidationError):
        return {"code": "validation_failed", "errors": validation_problems(original, "input")}
    return None


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
        if original is None:
            # Syntax and schema validation errors: the client's query is at fault.
            error.extensions = {**(error.extensions or {}), "code": "graphql_invalid"}
            return error
        ext = _extensions(original)
        if ext is not None:
            message = original.detail if isinstance(original, DomainError) else "Validation failed"
            return GraphQLError(
                message,
                nodes=error.nodes,
                source=error.source,
                positions=error.positions,
                path=error.path,
                extensions={**ext, "request_id": request_id},
            )
        log.error("unexpected error in GraphQL (request_id=%s)", request_id, exc_info=original)
        return GraphQLError(
            "An unexpected error occurred; quote the request id when reporting it.",
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={"code": "internal_error", "request_id": request_id},
        )


def _request_id(context: Any) -> str | None:
    request = getattr(context, "request", None)
    state = getattr(request, "state", None)
    return getattr(state, "request_id", None)
