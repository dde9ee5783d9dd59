"""Every error leaves as RFC 9457 problem+json with a stable `code`."""

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.domain import errors as e
from api.methods import allowed_methods

log = logging.getLogger("api")

STATUS_OF: dict[type[e.DomainError], int] = {
    e.NotFound: 404,
    e.Unauthorized: 401,
    e.InvalidGrant: 400,
    e.InvalidClient: 401,
    e.Locked: 429,
    e.PurposeRequired: 400,
    e.Forbidden: 403,
    e.VersionConflict: 412,
    e.Conflict: 409,
    e.DuplicatePersonalId: 409,
    e.InvalidTransition: 409,
    e.BatchTooLarge: 413,
    e.IdempotencyKeyReused: 422,
    e.IdempotencyInProgress: 409,
    e.InvalidCursor: 400,
    e.ValidationFailed: 422,
}

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
}


def status_of(exc: e.DomainError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS_OF:
            return STATUS_OF[cls]
    return 400


def problem(
    request: Request, status: int, code: str, title: str, detail: str, **extra: Any
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"https://giamngheo.example/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "instance": request.url.path,
        "request_id": getattr(request.state, "request_id", None),
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


def domain_problem(request: Request, exc: e.DomainError) -> JSONResponse:
    extra: dict[str, Any] = dict(exc.extra)
    if isinstance(exc, e.ValidationFailed):
        extra["errors"] = [
            {"path": f"{p.location}.{p.path}", "message": p.message, "code": p.code}
            for p in exc.problems
        ]
    if isinstance(exc, e.InvalidGrant | e.InvalidClient):
        extra["error"] = exc.code  # what OAuth2 clients look for (RFC 6749 section 5.2)
    response = problem(request, status_of(exc), exc.code, exc.title, exc.detail, **extra)
    if isinstance(exc, e.VersionConflict):
        response.headers["ETag"] = f'"{exc.current_version}"'
    if isinstance(exc, e.Locked):
        response.headers["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, e.Unauthorized | e.InvalidClient):
        response.headers["WWW-Authenticate"] = 'Bearer realm="giamngheo"'
    return response


def _location(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc)


async def on_domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, e.DomainError)
    return domain_problem(request, exc)


async def on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"path": _location(err["loc"]), "message": err["msg"], "code": err["type"]}
        for err in exc.errors()
    ]
    detail = "; ".join(f"{x['path']}: {x['message']}" for x in errors)
    return problem(request, 422, "validation_failed", "Validation failed", detail, errors=errors)


async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = HTTP_CODES.get(exc.status_code, "http_error")
    response = problem(
        request, exc.status_code, code, code.replace("_", " ").capitalize(), str(exc.detail)
    )
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    if exc.status_code == 405:
        response.headers["Allow"] = allowed_methods(request)
    return response


def install(app: FastAPI) -> None:
    app.add_exception_handler(e.DomainError, on_domain_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
