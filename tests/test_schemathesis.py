"""Property-based testing of both doors from their own published contracts, with tokens of
real roles (the demo sign-ins, created here as `make run` creates them): no input, valid or
not, may cause a server error; every REST error is problem+json; every GraphQL error has a
code, never `internal_error`.

1. REST, operation by operation (schemathesis' examples, coverage and fuzzing phases).
2. GraphQL, field by field, as a commune officer.
3. REST as sequences of calls that follow links from responses (stateful testing; the links
   are schemathesis' own inference from the document, e.g. POST /households -> GET, PATCH,
   DELETE /households/{household_id}). It ends by checking that the admin can still sign in.

Schemathesis runs the app in-process on its own event-loop thread (and runs its lifespan), so
the app opens its own engine on the migrated test database instead of sharing the session
fixture's engine across loops. Requests commit for real: nothing here assumes empty tables.
"""

import json
import os
import uuid
from collections import Counter
from collections.abc import Iterator
from functools import partial
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.errors import FlakyStrategyDefinition
from schemathesis import Case, CheckContext, HookContext, Response
from schemathesis.generation.stateful.state_machine import StepInput, StepOutput
from schemathesis.graphql import nodes
from schemathesis.python.asgi import shutdown_lifespans
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ensure_resource_availability,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
    use_after_free,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from api.cli import contract
from api.config import Settings
from api.db import session_factory
from api.demo import DEMO_PASSWORD, load_demo_accounts
from api.domain.access import SYSTEM
from api.domain.households.member_models import Relation
from api.domain.services import Services
from api.domain.units.loader import read_file
from api.main import create_app
from tests.builders import make_household, make_member

REFERENCE = read_file()
UNIT_CODES = sorted(u.code for u in REFERENCE.units)
VILLAGES = sorted(u.code for u in REFERENCE.units if u.level == "village" and u.valid_to is None)
# Records the fixture creates so that generated requests also reach existing rows: the first
# household and its head are never offered to DELETE, so later operations still find them.
# Fixed ids keep a derandomized run reproducible.
_NAMESPACE = uuid.UUID("8a3e2f4c-5b1d-4e7a-9c60-2f1b0d9e7a11")
HOUSEHOLD_IDS = [str(uuid.uuid5(_NAMESPACE, f"household-{i}")) for i in range(2)]
MEMBER_IDS = [str(uuid.uuid5(_NAMESPACE, f"member-{i}")) for i in range(2)]
ADMIN, OFFICER = "admin", "xa.kimbang"
# A campaign that opens, and a survey of a seeded household in it (its commune is VILLAGES[0]'s),
# so that workflows reach the review's steps.
CAMPAIGN = {"commune_code": "13384", "kind": "periodic", "opens_on": "2026-09-01"}
ASSESSMENT = {"household_id": HOUSEHOLD_IDS[0], "surveyed_on": "2026-10-01"}
# Operations that end the caller's own sign-in: each gets a sign-in of its own.
ENDS_SIGN_IN = {"POST /api/v1/auth/logout"}
DISABLE = "POST /api/v1/users/{user_id}/disable"
TOKEN_OPERATION = ("/api/v1/auth/token", "POST")

# What each run answered, by operation and status; printed, and partly asserted.
SEEN: dict[str, Counter[tuple[str, int]]] = {"rest": Counter(), "graphql": Counter()}
FOLLOWED: Counter[tuple[str, str]] = Counter()


def known_values(name: str, method: str) -> list[str]:
    if name == "code":
        return UNIT_CODES
    ids = {"household_id": HOUSEHOLD_IDS, "member_id": MEMBER_IDS}.get(name, [])
    return ids[1:] if method.upper() == "DELETE" else ids[:1]


def errors_are_problems(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
    """Every 4xx and 5xx is RFC 9457 problem+json with a stable code and the real status."""
    SEEN["rest"][(case.operation.label, response.status_code)] += 1
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


def graphql_errors_have_codes(
    ctx: CheckContext, response: Response, case: Case[Any]
) -> bool | None:
    """A refused GraphQL request names its domain code; none is an internal error."""
    assert response.status_code < 500, response.content
    body = json.loads(response.content)
    if response.status_code >= 400:
        # Refused before GraphQL runs (e.g. a NUL character in the body): problem+json.
        return errors_are_problems(ctx, response, case)
    codes = [(e.get("extensions") or {}).get("code") for e in body.get("errors") or []]
    SEEN["graphql"][(case.operation.label, 200 if not codes else 400)] += 1
    assert "internal_error" not in codes, body
    assert all(codes), body
    return None


CHECKS = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    unsupported_method,
    negative_data_rejection,
    errors_are_problems,
]
# Workflows rewrite bodies to reach real records (flatmap_body), which can turn a body made to
# break the contract into a valid one: there, negative-data rejection would report the service
# for accepting it. The operation-by-operation run checks rejection.
STATEFUL_CHECKS = [
    *(c for c in CHECKS if c is not negative_data_rejection),
    use_after_free,
    ensure_resource_availability,
]

# The documents the code serves (test_contract.py pins them to openapi/), loaded from the code
# so collection needs no database; each call is handed the app. The lazy
# `schemathesis.pytest.from_fixture` is not used: 4.32 reads `Function._nodeid`, which
# pytest 9.2 no longer has.
openapi_document, graphql_document = contract()
schema = schemathesis.openapi.from_dict(json.loads(openapi_document))
graphql_schema = schemathesis.graphql.from_file(graphql_document)
graphql_schema.config.base_url = "http://localhost/graphql"
schemathesis.graphql.scalar(
    "JSON",
    st.one_of(
        st.integers(-(2**31), 2**31 - 1).map(nodes.Int),
        st.text(max_size=20).map(nodes.String),
        st.booleans().map(nodes.Boolean),
    ),
)


def _with(mapping: dict[str, Any], name: str, value: str) -> dict[str, Any]:
    return {**mapping, name: value}


@schema.hook
def flatmap_path_parameters(
    context: HookContext, path_parameters: dict[str, Any]
) -> st.SearchStrategy[dict[str, Any]]:
    """Besides generated values, path ids and codes of records that exist."""
    options = [st.just(path_parameters)]
    method = context.operation.method if context.operation else ""
    for name in path_parameters or {}:
        values = known_values(name, method)
        if values:
            options.append(st.sampled_from(values).map(partial(_with, path_parameters, name)))
    return st.one_of(options)


@schema.hook
def flatmap_body(context: HookContext, body: Any) -> st.SearchStrategy[Any]:
    """Besides generated values, villages and members that exist, so that writes can succeed."""
    options = [st.just(body)]
    if isinstance(body, dict):
        for name, values in (("village_code", VILLAGES), ("member_id", MEMBER_IDS[:1])):
            if name in body:
                options.append(st.sampled_from(values).map(partial(_with, body, name)))
        if {"commune_code", "kind"} <= body.keys():
            options.append(st.just({**_without(body, "id", "standard_code"), **CAMPAIGN}))
        if {"campaign_id", "household_id"} <= body.keys():
            options.append(st.just({**_without(body, "id"), **ASSESSMENT}))
    return st.one_of(options)


def _without(mapping: dict[str, Any], *names: str) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if k not in names}


@pytest.fixture(scope="module")
async def seeded(engine: AsyncEngine) -> None:
    """Two households with a head each, and the demo sign-ins, committed (the app sees only
    committed data)."""
    async with session_factory(engine)() as session:
        services = Services(session, SYSTEM)
        for household_id, member_id in zip(HOUSEHOLD_IDS, MEMBER_IDS, strict=True):
            household = await make_household(services, VILLAGES[0], id=household_id)
            await make_member(services, household.id, id=member_id, relation_to_head=Relation.HEAD)
        await load_demo_accounts(services)


@pytest.fixture(scope="module")
def asgi_app(seeded: None, settings: Settings) -> Iterator[FastAPI]:
    """The app as deployed, with its own engine. Generated sign-ins with wrong passwords must
    not lock the accounts (or this client's address) the run signs in with."""
    unthrottled = settings.model_copy(
        update={"login_max_failures": 10**9, "login_max_failures_per_address": 10**9}
    )
    yield create_app(unthrottled)
    shutdown_lifespans()  # disposes the app's engine now rather than at interpreter exit


class Caller:
    """Signs in once with a demo account, through the app; a case that ends its own sign-in
    gets a fresh one, so the run keeps its token."""

    def __init__(self, app: FastAPI, username: str) -> None:
        self.app, self.username = app, username
        self._headers: dict[str, str] | None = None

    def sign_in(self) -> dict[str, str]:
        case = schema[TOKEN_OPERATION[0]][TOKEN_OPERATION[1]].Case(
            body={"username": self.username, "password": DEMO_PASSWORD},
            media_type="application/x-www-form-urlencoded",
        )
        response = case.call(app=self.app)
        assert response.status_code == 200, f"{self.username} cannot sign in: {response.text}"
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    def headers(self, case: Case[Any]) -> dict[str, str]:
        if case.operation.label in ENDS_SIGN_IN:
            return self.sign_in()
        if self._headers is None:
            self._headers = self.sign_in()
        return self._headers


@pytest.fixture(scope="module")
def admin(asgi_app: FastAPI) -> Caller:
    return Caller(asgi_app, ADMIN)


@pytest.fixture(scope="module")
def officer(asgi_app: FastAPI) -> Caller:
    return Caller(asgi_app, OFFICER)


# FUZZ_SCALE=N multiplies the examples for a deeper run by hand; the default keeps CI fast.
SCALE = int(os.environ.get("FUZZ_SCALE", "1"))
FUZZ = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)


@schema.parametrize()
@settings(FUZZ, max_examples=25 * SCALE)
def test_rest_never_fails_and_errors_are_problems(
    case: Case[Any], asgi_app: FastAPI, admin: Caller
) -> None:
    case.call_and_validate(app=asgi_app, headers=admin.headers(case), checks=CHECKS)


@graphql_schema.parametrize()
@settings(FUZZ, max_examples=20 * SCALE)
def test_graphql_never_fails_and_errors_have_codes(
    case: Case[Any], asgi_app: FastAPI, officer: Caller
) -> None:
    case.call_and_validate(
        app=asgi_app, headers=officer.headers(case), checks=[graphql_errors_have_codes]
    )


# Workflows over the records' life cycles, and over accounts (the run may try to disable the
# admin it signs in as). Fewer operations than the whole API give longer chains of links.
WORKFLOWS = schema.include(path_regex=r"^/api/v1/(households|members|campaigns|assessments|users)")
SCENARIOS = 80 * SCALE


def test_rest_workflows_following_links(asgi_app: FastAPI, admin: Caller) -> None:
    labels: dict[str, str] = {}
    scenarios = 0

    class Workflow(WORKFLOWS.as_state_machine()):  # type: ignore[misc]
        def step(self, input: StepInput) -> StepOutput:
            if input.transition is not None and input.is_applied:
                source = labels.get(input.transition.parent_id, "?")
                FOLLOWED[(source, input.case.operation.label)] += 1
            labels[input.case.id] = input.case.operation.label
            output: StepOutput = super().step(input)
            return output

        def teardown(self) -> None:
            nonlocal scenarios
            scenarios += 1

        def after_call(self, response: Response, case: Case[Any]) -> None:
            super().after_call(response, case)
            disabled = case.operation.label == DISABLE and response.status_code == 200
            assert not (disabled and response.json()["username"] == ADMIN), (
                f"the run disabled the only admin: {case.as_curl_command()}"
            )

        def get_call_kwargs(self, case: Case[Any]) -> dict[str, Any]:
            return {"app": asgi_app, "headers": admin.headers(case)}

        def validate_response(
            self,
            response: Response,
            case: Case[Any],
            additional_checks: Any = None,
            **kwargs: Any,
        ) -> None:
            case.validate_response(
                response, checks=STATEFUL_CHECKS, transport_kwargs=kwargs, recorder=self.recorder
            )

    # The database outlives each scenario, so Hypothesis cannot replay one (no shrinking) and
    # may find a draw behaving differently from before: then go on in a fresh session, as
    # schemathesis' own runner does.
    for _ in range(5):
        remaining = SCENARIOS - scenarios
        if remaining <= 0:
            break
        try:
            Workflow.run(
                settings=settings(
                    FUZZ,
                    derandomize=False,
                    max_examples=remaining,
                    stateful_step_count=10,
                    phases=[Phase.generate],
                )
            )
            break
        except FlakyStrategyDefinition:
            continue

    print(f"\n{scenarios} scenarios; links followed ({sum(FOLLOWED.values())} steps):")
    for (source, target), count in sorted(FOLLOWED.items()):
        print(f"  {count:4}  {source} -> {target}")
    assert scenarios >= SCENARIOS / 2
    assert sum(FOLLOWED.values()) >= scenarios / 4
    # Which records a random run creates, and which of their links it follows, varies; that it
    # follows links from some record it created does not.
    from_created = [
        count
        for (source, target), count in FOLLOWED.items()
        if source.startswith("POST ") and "{" in target
    ]
    assert sum(from_created), "no link from a created record was followed"
    # The run may disable accounts, but never the only admin: the service refuses it. The
    # links above reach the admin only by chance, so its own attempt ends the run.
    headers = admin.sign_in()
    me = schema["/api/v1/auth/me"]["GET"].Case().call(app=asgi_app, headers=headers)
    admin_id = me.json()["subject"].removeprefix("user:")
    disable = schema["/api/v1/users/{user_id}/disable"]["POST"].Case(
        path_parameters={"user_id": admin_id}
    )
    refused = disable.call(app=asgi_app, headers=headers)
    assert 400 <= refused.status_code < 500, f"the admin disabled itself: {refused.text}"
    admin.sign_in()


def test_what_the_runs_covered() -> None:
    """Printed for whoever reads the log; the floor keeps a broken setup (every call 401, say)
    from passing quietly."""
    if not SEEN["rest"] or not SEEN["graphql"]:
        pytest.skip("the runs were not selected")
    for door, seen in SEEN.items():
        operations = {label for label, _ in seen}
        print(f"\n{door}: {sum(seen.values())} calls over {len(operations)} operations")
        for (label, status), count in sorted(seen.items()):
            print(f"  {count:5}  {status}  {label}")
    rest = SEEN["rest"]
    assert rest[("POST /api/v1/households", 201)] > 0
    assert rest[("GET /api/v1/households/{household_id}", 200)] > 0
    assert rest[("POST /api/v1/campaigns", 201)] + rest[("GET /api/v1/users", 200)] > 0
    assert sum(n for (_, status), n in rest.items() if status == 401) < sum(rest.values()) / 10
    assert SEEN["graphql"][("Query.me", 200)] > 0
