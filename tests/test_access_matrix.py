"""Every role against every operation, through REST and through GraphQL, from one table.

Outcomes: ok (2xx / no GraphQL error), deny (403 forbidden), hidden (404: outside the area),
invalid (422), anon (401). Households "in" live in commune 13384, "out" in 13393.
"""

import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from api.domain.access import Role
from api.domain.services import Services
from tests.builders import make_household, make_member
from tests.identity import bearer, make_partner, make_user, partner_token, sign_in

ROLES = ["reviewer", "commune", "district", "province", "supervisor", "partner", "admin", "anon"]
_n = itertools.count()

# operation: outcome per role, in ROLES order
MATRIX: dict[str, list[str]] = {
    "list units": ["ok", "ok", "ok", "ok", "ok", "ok", "ok", "anon"],
    "read household in": ["ok", "ok", "ok", "ok", "ok", "ok", "ok", "anon"],
    "read household out": ["hidden", "hidden", "ok", "ok", "ok", "ok", "ok", "anon"],
    "list households": ["ok", "ok", "ok", "ok", "ok", "ok", "ok", "anon"],
    "create household in": ["ok", "ok", "deny", "deny", "deny", "deny", "ok", "anon"],
    "create household out": ["invalid", "invalid", "deny", "deny", "deny", "deny", "ok", "anon"],
    "update household in": ["ok", "ok", "deny", "deny", "deny", "deny", "ok", "anon"],
    "update household out": ["hidden", "hidden", "deny", "deny", "deny", "deny", "ok", "anon"],
    "delete household in": ["ok", "ok", "deny", "deny", "deny", "deny", "ok", "anon"],
    "add member in": ["ok", "ok", "deny", "deny", "deny", "deny", "ok", "anon"],
    "read member in": ["ok", "ok", "ok", "ok", "ok", "ok", "ok", "anon"],
    "read member out": ["hidden", "hidden", "ok", "ok", "ok", "ok", "ok", "anon"],
    "read change feed": ["ok", "ok", "ok", "ok", "ok", "ok", "ok", "anon"],
    "me": ["ok", "ok", "ok", "ok", "ok", "ok", "ok", "anon"],
    "create reviewer": ["deny", "ok", "ok", "ok", "deny", "deny", "ok", "anon"],
    "list users": ["deny", "ok", "ok", "ok", "deny", "deny", "ok", "anon"],
    "list partners": ["deny", "deny", "deny", "deny", "deny", "deny", "ok", "anon"],
    "list keys": ["deny", "deny", "deny", "deny", "deny", "deny", "ok", "anon"],
    "audit writes": ["deny", "deny", "deny", "deny", "ok", "deny", "ok", "anon"],
    "audit reads": ["deny", "deny", "deny", "deny", "ok", "deny", "ok", "anon"],
}


@dataclass
class World:
    household_in: str
    household_out: str
    member_in: str
    member_out: str


Call = Callable[[httpx.AsyncClient, dict[str, str], World], Awaitable[httpx.Response]]


def _rest(method: str, path: str, body: Callable[[], dict[str, Any]] | None = None) -> Call:
    async def call(client: httpx.AsyncClient, headers: dict[str, str], w: World) -> httpx.Response:
        url = path.format(**vars(w))
        return await client.request(method, url, headers=headers, json=body() if body else None)

    return call


def _household(village: str) -> Callable[[], dict[str, Any]]:
    return lambda: {"village_code": village, "address": f"matrix {next(_n)}"}


def _reviewer() -> dict[str, Any]:
    return {
        "username": f"matrix-{next(_n)}",
        "full_name": "x",
        "password": "p" * 12,
        "role": "reviewer",
        "area_codes": ["13384"],
    }


def _member() -> dict[str, Any]:
    return {
        "full_name": "Ma Trận",
        "sex": "female",
        "date_of_birth": "1990-01-01",
        "relation_to_head": "child",
    }


REST: dict[str, Call] = {
    "list units": _rest("GET", "/api/v1/units?limit=1"),
    "read household in": _rest("GET", "/api/v1/households/{household_in}"),
    "read household out": _rest("GET", "/api/v1/households/{household_out}"),
    "list households": _rest("GET", "/api/v1/households?limit=5"),
    "create household in": _rest("POST", "/api/v1/households", _household("13384-01")),
    "create household out": _rest("POST", "/api/v1/households", _household("13393-01")),
    "update household in": _rest(
        "PATCH", "/api/v1/households/{household_in}", lambda: {"address": f"changed {next(_n)}"}
    ),
    "update household out": _rest(
        "PATCH", "/api/v1/households/{household_out}", lambda: {"address": f"changed {next(_n)}"}
    ),
    "delete household in": _rest("DELETE", "/api/v1/households/{household_in}"),
    "add member in": _rest("POST", "/api/v1/households/{household_in}/members", _member),
    "read member in": _rest("GET", "/api/v1/members/{member_in}"),
    "read member out": _rest("GET", "/api/v1/members/{member_out}"),
    "read change feed": _rest("GET", "/api/v1/changes?limit=5"),
    "me": _rest("GET", "/api/v1/auth/me"),
    "create reviewer": _rest("POST", "/api/v1/users", _reviewer),
    "list users": _rest("GET", "/api/v1/users"),
    "list partners": _rest("GET", "/api/v1/partners"),
    "list keys": _rest("GET", "/api/v1/keys"),
    "audit writes": _rest("GET", "/api/v1/audit/writes?limit=5"),
    "audit reads": _rest("GET", "/api/v1/audit/reads?limit=5"),
}

GRAPHQL: dict[str, tuple[str, Callable[[World], dict[str, Any]]]] = {
    "list units": ("{ units(first: 1) { pageInfo { hasNextPage } } }", lambda w: {}),
    "read household in": (
        "query($id: UUID!) { household(id: $id) { id } }",
        lambda w: {"id": w.household_in},
    ),
    "read household out": (
        "query($id: UUID!) { household(id: $id) { id } }",
        lambda w: {"id": w.household_out},
    ),
    "list households": ("{ households(first: 5) { edges { cursor } } }", lambda w: {}),
    "create household in": (
        'mutation { createHousehold(input: {villageCode: "13384-01", address: "g"}) { id } }',
        lambda w: {},
    ),
    "create household out": (
        'mutation { createHousehold(input: {villageCode: "13393-01", address: "g"}) { id } }',
        lambda w: {},
    ),
    "update household in": (
        'mutation($id: UUID!) { updateHousehold(id: $id, input: {address: "g2"}) { id } }',
        lambda w: {"id": w.household_in},
    ),
    "update household out": (
        'mutation($id: UUID!) { updateHousehold(id: $id, input: {address: "g2"}) { id } }',
        lambda w: {"id": w.household_out},
    ),
    "delete household in": (
        "mutation($id: UUID!) { deleteHousehold(id: $id) { id } }",
        lambda w: {"id": w.household_in},
    ),
    "read member in": (
        "query($id: UUID!) { member(id: $id) { id } }",
        lambda w: {"id": w.member_in},
    ),
    "read member out": (
        "query($id: UUID!) { member(id: $id) { id } }",
        lambda w: {"id": w.member_out},
    ),
    "read change feed": ("{ changes(first: 5) { nextCursor } }", lambda w: {}),
    "me": ("{ me { role } }", lambda w: {}),
}

REST_OUTCOME = {401: "anon", 403: "deny", 404: "hidden", 422: "invalid"}
GRAPHQL_OUTCOME = {
    "unauthorized": "anon",
    "forbidden": "deny",
    "not_found": "hidden",
    "validation_failed": "invalid",
}


async def _tokens(client: httpx.AsyncClient, services: Services) -> dict[str, dict[str, str]]:
    accounts = {
        "reviewer": (Role.REVIEWER, ["13384"]),
        "commune": (Role.COMMUNE_OFFICER, ["13384"]),
        "district": (Role.DISTRICT_OFFICER, ["13384", "13393", "13396", "13402", "13420", "13435"]),
        "province": (Role.PROVINCE_OFFICER, ["37"]),
        "supervisor": (Role.SUPERVISOR, ["37"]),
        "admin": (Role.ADMIN, []),
    }
    headers = {}
    for name, (role, areas) in accounts.items():
        token = (await sign_in(client, await make_user(services, role, areas)))["access_token"]
        headers[name] = bearer(token)
    partner = await partner_token(client, await make_partner(services))
    headers["partner"] = {**bearer(partner), "X-Purpose": "access matrix"}
    headers["anon"] = {}
    return headers


async def _world(services: Services) -> World:
    inside = await make_household(services, "13384-01")
    outside = await make_household(services, "13393-01")
    return World(
        str(inside.id),
        str(outside.id),
        str((await make_member(services, inside.id)).id),
        str((await make_member(services, outside.id)).id),
    )


async def test_access_matrix_rest(anonymous_client: httpx.AsyncClient, services: Services) -> None:
    headers = await _tokens(anonymous_client, services)
    mismatches = []
    for operation, expected in MATRIX.items():
        for role, outcome in zip(ROLES, expected, strict=True):
            world = await _world(services)  # fresh records: deletes and updates stay isolated
            response = await REST[operation](anonymous_client, headers[role], world)
            got = "ok" if response.is_success else REST_OUTCOME.get(response.status_code, "?")
            if got != outcome:
                mismatches.append(
                    f"{operation} as {role}: {got} ({response.status_code}), expected {outcome}"
                )
            if not response.is_success:
                assert response.headers["content-type"] == "application/problem+json"
    assert mismatches == []


async def test_access_matrix_graphql(
    anonymous_client: httpx.AsyncClient, services: Services
) -> None:
    headers = await _tokens(anonymous_client, services)
    mismatches = []
    for operation, (query, variables) in GRAPHQL.items():
        for role, outcome in zip(ROLES, MATRIX[operation], strict=True):
            world = await _world(services)
            response = await anonymous_client.post(
                "/graphql",
                json={"query": query, "variables": variables(world)},
                headers=headers[role],
            )
            if response.status_code == 401:
                got = "anon"
            else:
                errors = response.json().get("errors")
                got = (
                    "ok"
                    if not errors
                    else GRAPHQL_OUTCOME.get(errors[0]["extensions"]["code"], "?")
                )
            if got != outcome:
                mismatches.append(f"{operation} as {role}: {got}, expected {outcome}")
    assert mismatches == []


def test_the_matrix_covers_every_role_and_both_doors() -> None:
    assert all(len(row) == len(ROLES) for row in MATRIX.values())
    assert set(REST) == set(MATRIX)
    assert set(GRAPHQL) <= set(MATRIX)
    assert len(MATRIX) * len(ROLES) + len(GRAPHQL) * len(ROLES) == 264
