"""Property-based testing of the REST API from its own OpenAPI document.

Schemathesis runs the app in-process on its own event-loop thread (and runs its lifespan), so
the app opens its own engine on the migrated test database rather than sharing the session
fixture's engine across loops. Requests commit for real: nothing here assumes empty tables.
"""

import json
from collections.abc import Iterator

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis import Case, CheckContext, Response
from schemathesis.python.asgi import shutdown_lifespans
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from api.cli import contract
from api.config import Settings
from api.deps import get_principal
from api.domain.access import SYSTEM, Principal
from api.main import create_app


def errors_are_problems(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """Every 4xx and 5xx is RFC 9457 problem+json with a stable code and the real status."""
    if response.status_code < 400:
        return None
    content_type = (response.headers.get("content-type") or [""])[0]
    assert content_type.split(";")[0].strip() == "application/problem+json", (
        f"{response.status_code} answered as {content_type!r}, not application/problem+json"
    )
    problem = json.loads(response.content)
    assert problem.get("status") == response.status_code, problem
    assert isinstance(problem.get("code"), str), problem
    assert problem["code"], problem
    return None


CHECKS = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    errors_are_problems,
]


def build_app(app_settings: Settings) -> FastAPI:
    """The app with its own engine (from its lifespan), every caller the system principal."""
    app = create_app(app_settings)

    async def system() -> Principal:
        return SYSTEM

    app.dependency_overrides[get_principal] = system
    return app


@pytest.fixture(scope="module")
def asgi_app(engine: AsyncEngine, settings: Settings) -> Iterator[FastAPI]:
    # `engine` only guarantees a migrated database with the units loaded; it is not shared.
    yield build_app(settings)
    shutdown_lifespans()  # disposes the app's engine now rather than at interpreter exit


# The document the code serves (test_contract.py pins it to openapi/openapi.json). Loaded
# from the code rather than through the app so collection needs no database; the app is
# handed to each call. (`schemathesis.pytest.from_fixture` would be the lazy alternative, but
# 4.32 reads `Function._nodeid`, which pytest 9.2 no longer has.)
schema = schemathesis.openapi.from_dict(json.loads(contract()[0]))


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)
def test_api_never_fails_and_errors_are_problems(case: Case, asgi_app: FastAPI) -> None:
    case.call_and_validate(app=asgi_app, checks=CHECKS)
