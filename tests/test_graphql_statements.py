"""A page of households with their members, village and commune costs a small, fixed number
of SQL statements, whatever the page size: nested fields go through batching loaders."""

import uuid
from datetime import date
from typing import Any

import httpx

from api.domain.households.member_models import MemberPublic, Relation, Sex
from api.domain.households.models import HouseholdPublic
from api.domain.services import Services
from tests.builders import current_villages, make_household, make_member

HOUSEHOLDS = 100
# The filter's unit, the page of households, their members, their villages, those villages'
# communes: one statement each (measured: 5 on SQLite and on PostgreSQL).
MOST_STATEMENTS = 5

QUERY = """
query($filter: HouseholdFilterInput!, $first: Int!) {
  households(filter: $filter, first: $first) {
    edges {
      cursor
      node {
        id address villageCode
        members { id fullName householdId relationToHead }
        village { code name }
        commune { code name }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}"""


async def _build(services: Services, word: str) -> dict[str, list[MemberPublic]]:
    """100 households over several villages of several communes, 2 or 3 members each. Every
    member's name carries `word`, so a search for it finds exactly these households (data
    committed by other tests may share the villages)."""
    villages = await current_villages(services)
    spread = villages[:: max(1, len(villages) // 10)][:10]
    assert len({v.parent_code for v in spread}) >= 3
    made: dict[str, list[MemberPublic]] = {}
    for n in range(HOUSEHOLDS):
        household: HouseholdPublic = await make_household(services, spread[n % len(spread)].code)
        members = [
            await make_member(
                services,
                household.id,
                full_name=f"Nguyễn Văn Chủ {word}",
                relation_to_head=Relation.HEAD,
                date_of_birth=date(1970, 1, 1),
            ),
            await make_member(
                services,
                household.id,
                full_name=f"Trần Thị Vợ {word}",
                sex=Sex.FEMALE,
                relation_to_head=Relation.SPOUSE,
                date_of_birth=date(1972, 1, 1),
            ),
        ]
        if n % 2:
            members.append(
                await make_member(
                    services,
                    household.id,
                    full_name=f"Nguyễn Văn Con {word}",
                    date_of_birth=date(2000, 1, 1),
                )
            )
        made[str(household.id)] = members
    return made


async def _count(
    client: httpx.AsyncClient,
    services: Services,
    statements: list[str],
    variables: dict[str, Any],
) -> tuple[int, dict[str, Any]]:
    # A request in production starts with an empty session; the test's session still holds
    # the rows the setup wrote, which would let some lookups skip the database.
    services.session.expunge_all()
    start = len(statements)
    response = await client.post("/graphql", json={"query": QUERY, "variables": variables})
    issued = statements[start:]
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body["errors"]
    return len(issued), body["data"]["households"]


async def test_household_page_costs_a_fixed_number_of_statements(
    client: httpx.AsyncClient, services: Services, statements: list[str]
) -> None:
    word = "Zq" + uuid.uuid4().hex[:10]
    made = await _build(services, word)
    villages = {v.code: v for v in await current_villages(services)}
    province = next(iter(villages.values())).path.split("/")[0]
    flt = {"unit": province, "q": word}

    small, page10 = await _count(client, services, statements, {"filter": flt, "first": 10})
    large, page100 = await _count(client, services, statements, {"filter": flt, "first": 100})
    print(f"\nSQL statements for a page of households: {small} (10), {large} (100)")

    assert [e["node"]["id"] for e in page100["edges"]] == list(made)
    assert page100["pageInfo"] == {"hasNextPage": False, "endCursor": None}
    assert [e["node"]["id"] for e in page10["edges"]] == list(made)[:10]
    assert page10["pageInfo"]["hasNextPage"] is True
    for edge in page100["edges"]:
        node = edge["node"]
        members = made[node["id"]]
        assert [(m["id"], m["householdId"]) for m in node["members"]] == [
            (str(m.id), node["id"]) for m in members
        ]
        assert [m["relationToHead"] for m in node["members"]][:2] == ["HEAD", "SPOUSE"]
        village = villages[node["villageCode"]]
        assert node["village"] == {"code": village.code, "name": village.name}
        assert village.parent_code is not None
        assert node["commune"]["code"] == village.parent_code
    assert sum(len(e["node"]["members"]) for e in page100["edges"]) == 250

    assert large == small, "the statement count grows with the page size"
    assert large <= MOST_STATEMENTS
