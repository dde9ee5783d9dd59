"""The committed contract (OpenAPI and GraphQL SDL) is what the code serves."""

import difflib
import itertools
import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from api.cli import OPENAPI_FILE, SDL_FILE, contract

HTTP_METHODS = {"get", "put", "post", "patch", "delete", "head", "options", "trace"}
# Fixed documents without input or authentication: liveness and readiness probes answer
# orchestrators in plain JSON, and the JWKS is a standard key set. No client error is possible.
NO_CLIENT_ERRORS = {"/healthz", "/readyz", "/.well-known/jwks.json"}


@cache
def _generated() -> tuple[str, str]:
    return contract()


def _spec() -> dict[str, Any]:
    spec: dict[str, Any] = json.loads(_generated()[0])
    return spec


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in _spec()["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    ]


@pytest.mark.parametrize(
    ("committed", "index"),
    [pytest.param(OPENAPI_FILE, 0, id="openapi.json"), pytest.param(SDL_FILE, 1, id="graphql")],
)
def test_committed_contract_matches_the_code(committed: Path, index: int) -> None:
    assert committed.exists(), f"{committed.name} is missing: run `make contract` and commit it"
    current, generated = committed.read_text(encoding="utf-8"), _generated()[index]
    if current != generated:
        diff = difflib.unified_diff(
            current.splitlines(),
            generated.splitlines(),
            f"{committed.name} (committed)",
            f"{committed.name} (from the code)",
            lineterm="",
        )
        pytest.fail(
            f"{committed.name} is out of date with the code: run `make contract` and commit the "
            "result (review the diff: it is what integrators will see change)\n"
            + "\n".join(itertools.islice(diff, 60)),
            pytrace=False,
        )


def test_contract_covers_the_api() -> None:
    paths = set(_spec()["paths"])
    assert {"/api/v1/units", "/api/v1/households", "/api/v1/changes"} <= paths
    sdl = _generated()[1]
    assert "type Query" in sdl
    assert "type Mutation" in sdl


def test_every_operation_is_described() -> None:
    undocumented = [
        f"{method.upper()} {path}"
        for method, path, operation in _operations()
        if not (operation.get("description") or "").strip()
    ]
    assert len(_operations()) > 10
    assert undocumented == [], "give these routes a docstring: " + ", ".join(undocumented)


def test_every_api_operation_documents_problem_errors() -> None:
    missing, wrong_type = [], []
    for method, path, operation in _operations():
        if path in NO_CLIENT_ERRORS:
            continue
        errors = {
            status: set(response.get("content", {}))
            for status, response in operation["responses"].items()
            if status[0] in "45"
        }
        if not any("application/problem+json" in types for types in errors.values()):
            missing.append(f"{method.upper()} {path}")
        # e.g. FastAPI's default 422 (`HTTPValidationError` as application/json) left in place
        wrong_type += [
            f"{method.upper()} {path} {status}"
            for status, types in errors.items()
            if types - {"application/problem+json"}
        ]
    assert missing == [], "no application/problem+json error documented: " + ", ".join(missing)
    assert wrong_type == [], "errors documented as other than problem+json: " + ", ".join(
        wrong_type
    )
