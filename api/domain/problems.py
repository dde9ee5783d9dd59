"""Every problem the service answers is built here (RFC 9457 problem details with a stable
`code`): REST errors, the middleware's refusals, and the problems of pushed items that did not
apply. Each door only says where the fields were and adds its own transport fields."""

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from api.domain.errors import DomainError, FieldProblem, InvalidClient, InvalidGrant
from api.domain.errors import ValidationFailed as ValidationFailedError

TYPE_BASE = "https://giamngheo.example/problems/"
UNEXPECTED = "An unexpected error occurred; quote the request id when reporting it."


def problem(
    code: str, title: str, detail: str, status: int | None = None, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {"type": TYPE_BASE + code, "title": title}
    if status is not None:
        body["status"] = status
    return {**body, "detail": detail, "code": code, **extra}


def field_error(path: str, message: str, code: str) -> dict[str, str]:
    return {"path": path, "message": message, "code": code}


def validation_problem(
    errors: Sequence[Mapping[str, str]],
    status: int | None = 422,
    detail: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    detail = detail or "; ".join(f"{e['path']}: {e['message']}" for e in errors)
    return problem(
        "validation_failed", "Validation failed", detail, status, errors=list(errors), **extra
    )


def pydantic_errors(exc: ValidationError, prefix: Iterable[str]) -> list[dict[str, str]]:
    """A shape's validation errors, each at its path under `prefix` (`items.3.data`)."""
    base = list(prefix)
    return [
        field_error(".".join([*base, *(str(p) for p in err["loc"])]), err["msg"], err["type"])
        for err in exc.errors()
    ]


def of_error(
    exc: DomainError,
    path: Callable[[FieldProblem], str],
    *,
    status: bool = True,
    **extra: Any,
) -> dict[str, Any]:
    """A domain error as a problem; `path` names a field the way its door's clients wrote it."""
    body = problem(exc.code, exc.title, exc.detail, exc.status if status else None, **exc.extra)
    if isinstance(exc, ValidationFailedError):
        body["errors"] = [field_error(path(p), p.message, p.code) for p in exc.problems]
    if isinstance(exc, InvalidGrant | InvalidClient):
        body["error"] = exc.code  # what OAuth2 clients look for (RFC 6749 section 5.2)
    return {**body, **extra}


def item_problem(exc: Exception, index: int) -> dict[str, Any]:
    """Why a pushed item did not apply, with its fields named from the batch (`items.3.data`)."""
    where = f"items.{index}"
    if isinstance(exc, ValidationError):
        return validation_problem(
            pydantic_errors(exc, [where, "data"]),
            status=None,
            detail="the item's data is invalid",
            index=index,
        )
    if isinstance(exc, DomainError):
        return of_error(
            exc,
            lambda p: f"{where}.{p.path}" if p.location == "item" else f"{where}.data.{p.path}",
            status=False,
            index=index,
        )
    return problem(
        "conflict", "Conflict with the current state", "conflicts with existing data", index=index
    )


def internal_error(request_id: str | None) -> dict[str, Any]:
    return problem("internal_error", "Internal error", UNEXPECTED, 500, request_id=request_id)
