"""One GraphQL request cannot ask for the world: depth, aliases, estimated cost and size are
refused before anything runs, each with its own code, while the IDE's introspection and a
dashboard's queries pass."""

import time
import uuid
from typing import Any

import httpx
import pytest
from graphql import get_introspection_query

from api.schema.limits import MAX_ALIASES, MAX_COST, MAX_DEPTH, MAX_TOKENS


async def _gql(client: httpx.AsyncClient, query: str, **variables: Any) -> dict[str, Any]:
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _code(body: dict[str, Any]) -> str:
    assert body.get("data") is None, body
    code: str = body["errors"][0]["extensions"]["code"]
    return code


def _nested(levels: int) -> str:
    inner = "id"
    for level in range(levels):
        inner = f"members {{ id household {{ {inner} }} }}" if level % 2 == 0 else inner
    return inner


DASHBOARD = """
query Dashboard($after: String) {
  households(first: 200, after: $after) {
    edges { cursor node {
      id address povertyStatus version
      village { code name }
      commune { code name }
      members { id fullName personalId dateOfBirth sex warnings }
      statusOn { status since newlyEscaped }
    } }
    pageInfo { hasNextPage endCursor }
  }
  units(level: COMMUNE, first: 50) { nodes { code name } }
  me { subject role areas }
}
"""


async def test_the_ide_introspection_and_a_dashboard_query_pass(client: httpx.AsyncClient) -> None:
    schema = await _gql(client, get_introspection_query(descriptions=True))
    assert "errors" not in schema, schema
    assert schema["data"]["__schema"]["queryType"]["name"] == "Query"
    dashboard = await _gql(client, DASHBOARD)
    assert "errors" not in dashboard, dashboard
    assert dashboard["data"]["me"]["role"] == "SYSTEM"


async def test_a_self_nesting_query_is_refused_before_it_runs(
    client: httpx.AsyncClient,
) -> None:
    # household → members → household → … eight levels: 38 MB once, now nothing runs.
    query = f'{{ household(id: "{uuid.uuid4()}") {{ {_nested(8)} }} }}'
    body = await _gql(client, query)
    assert _code(body) == "query_too_deep"
    assert body["errors"][0]["extensions"]["limit"] == MAX_DEPTH
    wide = f"{{ households(first: 100) {{ nodes {{ {_nested(4)} }} }} }}"
    costly = await _gql(client, wide)
    assert _code(costly) == "query_too_costly"
    assert costly["errors"][0]["extensions"]["limit"] == MAX_COST
    children = "children { " * MAX_DEPTH + "code" + " }" * MAX_DEPTH
    deep = "{ units(first: 1) { nodes { " + children + " } } }"
    refused = await _gql(client, deep)
    assert _code(refused) == "query_too_deep"
    assert refused["errors"][0]["extensions"]["limit"] == MAX_DEPTH


async def test_aliases_and_cost_are_bounded(client: httpx.AsyncClient) -> None:
    many = " ".join(f"a{i}: households(first: 200) {{ nodes {{ id }} }}" for i in range(100))
    started = time.perf_counter()
    body = await _gql(client, "{ " + many + " }")
    assert time.perf_counter() - started < 2  # refused, not run
    codes = {e["extensions"]["code"] for e in body["errors"]}
    assert codes == {"too_many_aliases", "query_too_costly"}
    within = " ".join(
        f"a{i}: households(first: 10) {{ nodes {{ id }} }}" for i in range(MAX_ALIASES)
    )
    assert "errors" not in await _gql(client, "{ " + within + " }")
    # A page size given by a variable is costed at the largest page it could ask for.
    wide = "query($n: Int!) { households(first: $n) { nodes { " + _nested(4) + " } } }"
    assert _code(await _gql(client, wide, n=1)) == "query_too_costly"


async def test_introspection_cycles_are_bounded(client: httpx.AsyncClient) -> None:
    cycle = "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }"
    assert _code(await _gql(client, cycle)) == "query_too_deep"


async def test_exponential_fragments_cost_nothing_to_refuse(client: httpx.AsyncClient) -> None:
    fragments = "fragment F0 on Household { id address }\n" + "\n".join(
        f"fragment F{i} on Household {{ ...F{i - 1} a{i}: address ...F{i - 1} }}"
        for i in range(1, 25)
    )
    started = time.perf_counter()
    body = await _gql(client, "{ households(first: 1) { nodes { ...F24 } } }\n" + fragments)
    assert time.perf_counter() - started < 2
    assert _code(body) in {"query_too_costly", "too_many_aliases"}


@pytest.mark.parametrize(
    "query",
    [
        "{ " + "__typename " * (MAX_TOKENS + 1) + "}",
        "#" + "x" * 200_000 + "\n{ __typename }",
    ],
)
async def test_huge_documents_stop_in_the_parser(client: httpx.AsyncClient, query: str) -> None:
    assert _code(await _gql(client, query)) == "query_too_large"


async def test_introspection_needs_a_token(anonymous_client: httpx.AsyncClient) -> None:
    response = await anonymous_client.post(
        "/graphql", json={"query": "{ __schema { types { name } } }"}
    )
    body = response.json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "unauthorized"
    typename = await anonymous_client.post("/graphql", json={"query": "{ __typename }"})
    assert typename.json() == {"data": {"__typename": "Query"}}


async def test_http_level_refusals_are_problems(anonymous_client: httpx.AsyncClient) -> None:
    deep = '{"query": "{ __typename }", "variables": {"f": ' + "[" * 5000 + "]" * 5000 + "}}"
    response = await anonymous_client.post(
        "/graphql", content=deep, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["code"] == "json_invalid"
    wrong = await anonymous_client.put("/graphql")
    assert wrong.status_code == 405
    assert wrong.json()["code"] == "method_not_allowed"
