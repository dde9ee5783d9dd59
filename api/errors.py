"""Every error leaves as RFC 9457 problem+json with a stable `code` (the bodies are built by
`api.domain.problems`; this module adds what HTTP carries: the request, headers)."""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.domain import errors as e
from api.domain import problems
from api.domain.errors import FieldProblem
from api.methods import allowed_methods

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


def _respond(request: Request, body: dict[str, Any]) -> JSONResponse:
    body = {
        **body,
        "instance": request.url.path,
        "request_id": getattr(request.state, "request_id", None),
    }
    return JSONResponse(body, status_code=body["status"], media_type="application/problem+json")


def rest_path(p: FieldProblem) -> str:
    """A field as REST clients wrote it: `body.address`, `query.limit`, `header.If-Match`."""
    location = "query" if p.location == "page" else p.location
    return f"{location}.{p.path}"


def domain_problem(request: Request, exc: e.DomainError) -> JSONResponse:
    response = _respond(request, problems.of_error(exc, rest_path))
    if isinstance(exc, e.VersionConflict):
        response.headers["ETag"] = f'"{exc.current_version}"'
    if isinstance(exc, e.Locked):
        response.headers["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, e.Unauthorized | e.InvalidClient):
        response.headers["WWW-Authenticate"] = 'Bearer realm="giamngheo"'
    return response


async def on_domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, e.DomainError)
    return domain_problem(request, exc)


async def on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        problems.field_error(".".join(str(p) for p in err["loc"]), err["msg"], err["type"])
        for err in exc.errors()
    ]
    return _respond(request, problems.validation_problem(errors))


async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = HTTP_CODES.get(exc.status_code, "http_error")
    title = code.replace("_", " ").capitalize()
    response = _respond(request, problems.problem(code, title, str(exc.detail), exc.status_code))
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    if exc.status_code == 405:
        response.headers["Allow"] = allowed_methods(request)
    return response


def install(app: FastAPI) -> None:
    app.add_exception_handler(e.DomainError, on_domain_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
