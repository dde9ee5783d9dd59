"""GraphQL over the same services as REST: batching, parity of results and error codes."""

from typing import Any

import httpx
import pytest

from api.domain.services import Services
from tests.builders import current_villages, make_household, make_member

PAGE = """query($first: Int!, $unit: String) {
  households(first: $first, filter: {unit: $unit}) {
    edges { cursor node { id address village { code name } commune { code }
      members { id fullName personalId } } }
    pageInfo { hasNextPage endCursor } } }"""


async def gql(client: httpx.AsyncClient, query: str, **variables: Any) -> dict[str, Any]:
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_page_of_households_costs_a_fixed_number_of_statements(
    client: httpx.AsyncClient, services: Services, statements: list[str]
) -> None:
    villages = [v for v in await current_villages(services) if v.path.startswith("37/13420/")]
    made = []
    for n in range(100):
        household = await make_household(services, villages[n % len(villages)].code)
        await make_member(services, household.id, full_name=f"Người {n} A")
        await make_member(services, household.id, full_name=f"Người {n} B")
        made.append(str(household.id))

    counts = {}
    for first in (10, 100):
        statements.clear()
        body = await gql(client, PAGE, first=first, unit="13420")
        # SAVEPOINTs are the test's rollback plumbing, not the request's work.
        counts[first] = len([s for s in statements if not s.startswith(("SAVEPOINT", "RELEASE"))])
        edges = body["data"]["households"]["edges"]
        assert [e["node"]["id"] for e in edges] == made[:first]
        assert all(len(e["node"]["members"]) == 2 for e in edges)
        assert {e["node"]["commune"]["code"] for e in edges} == {"13420"}
    print(
        f"SQL statements for a page of 100 households with members, village, commune: {counts[100]}"
    )
    assert counts[10] == counts[100]
    assert counts[100] == 5  # unit filter, households, villages, members, communes


async def test_rest_and_graphql_return_the_same_household(
    client: httpx.AsyncClient, services: Services
) -> None:
    village = (await current_villages(services))[0].code
    payload = {
        "village_code": village,
        "address": "Xóm Chùa",
        "floor_area_m2": 24.5,
        "water_source": "drilled_well",
        "information_assets": ["radio", "tv"],
    }
    rest = (await client.post("/api/v1/households", json=payload)).json()
    mutation = """mutation($input: HouseholdInput!) { createHousehold(input: $input) {
        id villageCode unitPath address floorAreaM2 waterSource informationAssets version } }"""
    graph = (
        await gql(
            client,
            mutation,
            input={
                "villageCode": village,
                "address": "Xóm Chùa",
                "floorAreaM2": 24.5,
                "waterSource": "DRILLED_WELL",
                "informationAssets": ["RADIO", "TV"],
            },
        )
    )["data"]["createHousehold"]
    assert graph["unitPath"] == rest["unit_path"]
    assert (graph["address"], graph["floorAreaM2"], graph["version"]) == (
        rest["address"],
        rest["floor_area_m2"],
        rest["version"],
    )
    assert graph["waterSource"].lower() == rest["water_source"]
    assert [a.lower() for a in graph["informationAssets"]] == rest["information_assets"]


CASES = [
    ("unknown village", "validation_failed"),
    ("stale version", "version_conflict"),
    ("not found", "not_found"),
    ("invalid cursor", "invalid_cursor"),
    ("duplicate personal id", "duplicate_personal_id"),
]


@pytest.mark.parametrize(("case", "code"), CASES)
async def test_rest_and_graphql_fail_with_the_same_code(
    client: httpx.AsyncClient, services: Services, case: str, code: str
) -> None:
    household = await make_household(services)
    holder = await make_member(services, household.id)
    missing = "00000000-0000-4000-8000-000000000000"
    rest: httpx.Response
    if case == "unknown village":
        rest = await client.post("/api/v1/households", json={"village_code": "x", "address": "a"})
        graph = await gql(
            client, 'mutation { createHousehold(input: {villageCode: "x", address: "a"}) { id } }'
        )
    elif case == "stale version":
        rest = await client.patch(f"/api/v1/households/{household.id}", json={"version": 9})
        graph = await gql(
            client,
            "mutation($id: UUID!) { updateHousehold(id: $id, "
            'input: {version: 9, address: "b"}) { id } }',
            id=str(household.id),
        )
    elif case == "not found":
        rest = await client.get(f"/api/v1/households/{missing}")
        graph = await gql(client, "query($id: UUID!) { household(id: $id) { id } }", id=missing)
    elif case == "invalid cursor":
        rest = await client.get("/api/v1/households", params={"after": "bogus"})
        graph = await gql(client, '{ households(after: "bogus") { edges { cursor } } }')
    else:
        other = await make_household(services)
        rest = await client.post(
            f"/api/v1/households/{other.id}/members",
            json={
                "full_name": "B",
                "sex": "male",
                "date_of_birth": "1980-05-17",
                "personal_id": holder.personal_id,
                "relation_to_head": "child",
            },
        )
        graph = await gql(
            client,
            """mutation($h: UUID!, $p: String!) { addMember(
            householdId: $h, input: {fullName: "B", sex: MALE, dateOfBirth: "1980-05-17",
            personalId: $p, relationToHead: CHILD}) { id } }""",
            h=str(other.id),
            p=holder.personal_id,
        )
    assert rest.json()["code"] == code
    assert [e["extensions"]["code"] for e in graph["errors"]] == [code]


async def test_sibling_fields_that_query_at_once_and_fail_leave_the_session_usable(
    client: httpx.AsyncClient,
) -> None:
    query = """{ units(first: 20) { edges { node { code children { code }
        lineage { parents { parentCode } } successors { code } } } } }"""
    body = await gql(client, query)
    nodes = [e["node"] for e in body["data"]["units"]["edges"]]
    assert {n["code"] for n in nodes if n["children"]} >= {"13384", "13393"}
    failing = await gql(
        client,
        '{ a: unit(code: "37") { code } b: unit(code: "nope") { code } '
        "c: units(first: 1) { pageInfo { hasNextPage } } }",
    )
    assert failing["errors"][0]["extensions"]["code"] == "not_found"
    after = await gql(client, '{ unit(code: "37") { name } }')
    assert after["data"]["unit"]["name"] == "Ninh Bình"
