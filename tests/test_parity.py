"""One behaviour, two doors: the same scenario through REST and GraphQL gives the same records
and the same error codes."""

import re
import types
import typing
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any

import httpx
import pytest
from pydantic import BaseModel

from api.domain.households.member_models import (
    LeaveReason,
    MemberCreate,
    MemberLeave,
    MemberPublic,
    Relation,
    Sex,
)
from api.domain.households.models import HouseholdCreate, HouseholdPublic, HouseholdUpdate
from api.domain.services import Services
from tests.builders import current_villages, make_household, make_member, unique_personal_id

# --- camelCase <-> snake_case and GraphQL values back to REST values -----------------------


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def enum_of(annotation: Any) -> type[Enum] | None:
    """The enum a field holds (directly, optionally, or in a list), if any."""
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType, list):
        for arg in typing.get_args(annotation):
            found = enum_of(arg)
            if found is not None:
                return found
    return None


def as_rest(model: type[BaseModel], node: dict[str, Any]) -> dict[str, Any]:
    """A GraphQL object in REST's shape: snake_case keys, enum values instead of enum names."""
    result: dict[str, Any] = {}
    for key, value in node.items():
        name = snake(key)
        assert camel(name) == key, f"{key} does not round-trip"
        enum = enum_of(model.model_fields[name].annotation)
        if enum is not None and isinstance(value, list):
            value = [enum[v].value for v in value]
        elif enum is not None and value is not None:
            value = enum[value].value
        result[name] = value
    return result


def instants(record: dict[str, Any], *names: str) -> dict[str, Any]:
    """Timestamps compared as instants: the two doors may spell the zone differently."""
    return {**record, **{n: datetime.fromisoformat(record[n]) for n in names}}


def selection(model: type[BaseModel]) -> str:
    return " ".join(camel(name) for name in model.model_fields)


HOUSEHOLD_FIELDS = selection(HouseholdPublic)
MEMBER_FIELDS = selection(MemberPublic)
TIMESTAMPS = ("created_at", "updated_at")


async def graphql(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any]
) -> dict[str, Any]:
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def graphql_data(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any]
) -> dict[str, Any]:
    body = await graphql(client, query, variables)
    assert "errors" not in body, body["errors"]
    found: dict[str, Any] = body["data"]
    return found


async def rest_ok(response: Awaitable[httpx.Response], status: int) -> Any:
    done = await response
    assert done.status_code == status, done.text
    return done.json()


def graphql_input(rest_body: dict[str, Any], model: type[BaseModel]) -> dict[str, Any]:
    """A REST request body as a GraphQL input: camelCase keys, enum names."""
    result: dict[str, Any] = {}
    for name, value in rest_body.items():
        enum = enum_of(model.model_fields[name].annotation)
        if enum is not None and isinstance(value, list):
            value = [enum(v).name for v in value]
        elif enum is not None and value is not None:
            value = enum(value).name
        result[camel(name)] = value
    return result


CREATE_HOUSEHOLD = f"""
mutation($input: HouseholdInput!) {{ createHousehold(input: $input) {{ {HOUSEHOLD_FIELDS} }} }}"""
ADD_MEMBER = f"""
mutation($id: UUID!, $input: MemberInput!) {{
  addMember(householdId: $id, input: $input) {{ {MEMBER_FIELDS} }}
}}"""
HOUSEHOLD = f"""
query($id: UUID!) {{
  household(id: $id) {{ {HOUSEHOLD_FIELDS} members {{ {MEMBER_FIELDS} }} }}
}}"""


async def test_same_scenario_gives_the_same_records(
    client: httpx.AsyncClient, services: Services
) -> None:
    village = (await current_villages(services))[2].code
    household_body = {
        "village_code": village,
        "address": "Thôn Trung, số 12",
        "phone": "0912345678",
        "floor_area_m2": 32.5,
        "wall_material": "durable",
        "roof_material": "non_durable",
        "water_source": "piped",
        "latrine_type": "ventilated_pit",
        "uses_telecom": True,
        "information_assets": ["tv", "phone", "tv"],
    }

    def head_body() -> dict[str, Any]:
        return {
            "full_name": "Nguyễn Văn Đức",
            "sex": "male",
            "date_of_birth": "1968-04-30",
            "personal_id": unique_personal_id(date(1968, 4, 30)),
            "relation_to_head": "head",
            "joined_on": "1990-01-01",
            "ethnicity": "Kinh",
            "education_level": "lower_secondary",
            "employment": "self_employed",
            "health_insurance": True,
            "disability": "none",
            "labour_capacity": True,
        }

    def child_body() -> dict[str, Any]:
        return {
            "full_name": "Nguyễn Thị Hoa",
            "sex": "female",
            "date_of_birth": "2012-09-02",
            # Encodes a boy: both doors keep the record with the same warning.
            "personal_id": unique_personal_id(date(2012, 9, 2), Sex.MALE),
            "relation_to_head": "child",
            "joined_on": "2012-09-02",
            "attending_school": True,
        }

    by_rest = await rest_ok(client.post("/api/v1/households", json=household_body), 201)
    rest_head = await rest_ok(
        client.post(f"/api/v1/households/{by_rest['id']}/members", json=head_body()), 201
    )
    rest_child = await rest_ok(
        client.post(f"/api/v1/households/{by_rest['id']}/members", json=child_body()), 201
    )

    by_graphql = (
        await graphql_data(
            client,
            CREATE_HOUSEHOLD,
            {"input": graphql_input(household_body, HouseholdCreate)},
        )
    )["createHousehold"]
    graphql_head = (
        await graphql_data(
            client,
            ADD_MEMBER,
            {"id": by_graphql["id"], "input": graphql_input(head_body(), MemberCreate)},
        )
    )["addMember"]
    await graphql_data(
        client,
        ADD_MEMBER,
        {"id": by_graphql["id"], "input": graphql_input(child_body(), MemberCreate)},
    )
    # What each door answered to the create, in one shape.
    assert set(as_rest(HouseholdPublic, by_graphql)) == set(by_rest)
    assert set(as_rest(MemberPublic, graphql_head)) == set(rest_head)

    # Each record read through both doors is the same record, to the last field.
    for household_id in (by_rest["id"], by_graphql["id"]):
        through_rest = await rest_ok(client.get(f"/api/v1/households/{household_id}"), 200)
        members_rest = await rest_ok(client.get(f"/api/v1/households/{household_id}/members"), 200)
        through_graphql = (await graphql_data(client, HOUSEHOLD, {"id": household_id}))["household"]
        members_graphql = through_graphql.pop("members")
        assert instants(as_rest(HouseholdPublic, through_graphql), *TIMESTAMPS) == instants(
            through_rest, *TIMESTAMPS
        )
        assert [instants(as_rest(MemberPublic, m), *TIMESTAMPS) for m in members_graphql] == [
            instants(m, *TIMESTAMPS) for m in members_rest
        ]

    # The records created through different doors differ only in identity and timestamps.
    rest_household = await rest_ok(client.get(f"/api/v1/households/{by_rest['id']}"), 200)
    graphql_household = await rest_ok(client.get(f"/api/v1/households/{by_graphql['id']}"), 200)
    identity = {"id", "head_member_id", *TIMESTAMPS}
    assert {k: v for k, v in graphql_household.items() if k not in identity} == {
        k: v for k, v in rest_household.items() if k not in identity
    }
    assert rest_household["information_assets"] == ["phone", "tv"]
    assert rest_household["version"] == 2
    assert rest_household["head_member_id"] == rest_head["id"]
    assert graphql_household["head_member_id"] == graphql_head["id"]

    rest_members = await rest_ok(client.get(f"/api/v1/households/{by_rest['id']}/members"), 200)
    graphql_members = await rest_ok(
        client.get(f"/api/v1/households/{by_graphql['id']}/members"), 200
    )
    identity = {"id", "household_id", "personal_id", *TIMESTAMPS}
    assert [{k: v for k, v in m.items() if k not in identity} for m in graphql_members] == [
        {k: v for k, v in m.items() if k not in identity} for m in rest_members
    ]
    assert [m["id"] for m in rest_members] == [rest_head["id"], rest_child["id"]]
    assert [m["relation_to_head"] for m in graphql_members] == ["head", "child"]
    assert rest_members[0]["ethnicity"] == "Kinh"
    assert graphql_members[1]["warnings"] == ["personal_id encodes sex male, record says female"]


# --- the same failures, the same codes -----------------------------------------------------


@dataclass(frozen=True)
class World:
    """What every failing case starts from."""

    village: str
    commune: str
    household: HouseholdPublic  # at version 2, with a head holding `personal_id`
    head_id: uuid.UUID
    personal_id: str
    departed_id: uuid.UUID
    other: HouseholdPublic
    key: str  # an Idempotency-Key no one has used


async def arrange(services: Services) -> World:
    villages = await current_villages(services)
    village = villages[1]
    assert village.parent_code is not None
    household = await make_household(services, village.code, address="Cũ")
    pid = unique_personal_id(date(1980, 5, 17))
    head = await make_member(
        services, household.id, personal_id=pid, relation_to_head=Relation.HEAD
    )
    departed = await make_member(services, household.id, joined_on=date(2000, 1, 1))
    await services.members.leave(
        departed.id, MemberLeave(reason=LeaveReason.MOVED_OUT, occurred_on=date(2020, 1, 1))
    )
    current = await services.households.get(household.id)
    updated = await services.households.update(
        household.id, HouseholdUpdate(address="Mới", version=current.version)
    )
    other = await make_household(services, villages[2].code)
    return World(
        village=village.code,
        commune=village.parent_code,
        household=updated,
        head_id=head.id,
        personal_id=pid,
        departed_id=departed.id,
        other=other,
        key=uuid.uuid4().hex,
    )


RestCall = Callable[[httpx.AsyncClient, World], Awaitable[httpx.Response]]
GraphQLCall = Callable[[World], tuple[str, dict[str, Any]]]
NOBODY = "00000000-0000-4000-8000-000000000000"
FORGED_CURSOR = "bm90LWEtY3Vyc29y"
MEMBER = {"full_name": "Phạm Văn Dũng", "sex": "male", "date_of_birth": "1985-01-01"}
GQL_MEMBER = {"fullName": "Phạm Văn Dũng", "sex": "MALE", "dateOfBirth": "1985-01-01"}


@dataclass(frozen=True)
class Case:
    code: str
    rest: RestCall
    graphql: GraphQLCall
    same: tuple[str, ...] = ()  # problem members that must match GraphQL's extensions
    problem_codes: tuple[str, ...] | None = None  # codes of `errors`, for validation
    graphql_first: GraphQLCall | None = None  # a request that must succeed before the failure


def stale(world: World) -> int:
    return world.household.version - 1


async def reuse_key(client: httpx.AsyncClient, world: World) -> httpx.Response:
    headers = {"Idempotency-Key": "rest-" + world.key}
    body = {"village_code": world.village, "address": "A"}
    first = await client.post("/api/v1/households", json=body, headers=headers)
    assert first.status_code == 201
    return await client.post("/api/v1/households", json={**body, "address": "B"}, headers=headers)


UPDATE = "mutation($id: UUID!, $input: HouseholdPatch!) { updateHousehold(id: $id, input: $input) { id } }"  # noqa: E501
CREATE = "mutation($input: HouseholdInput!, $key: String) { createHousehold(input: $input, idempotencyKey: $key) { id } }"  # noqa: E501
ADD = "mutation($id: UUID!, $input: MemberInput!) { addMember(householdId: $id, input: $input) { id } }"  # noqa: E501
DELETE = "mutation($id: UUID!, $v: Int) { deleteHousehold(id: $id, expectedVersion: $v) { id } }"
LIST = "query($first: Int!, $after: String) { households(first: $first, after: $after) { nodes { id } } }"  # noqa: E501

CASES: dict[str, Case] = {
    "stale-version": Case(
        "version_conflict",
        lambda c, w: c.patch(
            f"/api/v1/households/{w.household.id}", json={"address": "X", "version": stale(w)}
        ),
        lambda w: (
            UPDATE,
            {"id": str(w.household.id), "input": {"address": "X", "version": stale(w)}},
        ),
        same=("current_version",),
    ),
    "stale-delete": Case(
        "version_conflict",
        lambda c, w: c.delete(
            f"/api/v1/households/{w.household.id}", headers={"If-Match": f'"{stale(w)}"'}
        ),
        lambda w: (
            DELETE,
            {"id": str(w.household.id), "v": stale(w)},
        ),
        same=("current_version",),
    ),
    "duplicate-personal-id": Case(
        "duplicate_personal_id",
        lambda c, w: c.post(
            f"/api/v1/households/{w.other.id}/members",
            json={**MEMBER, "relation_to_head": "child", "personal_id": w.personal_id},
        ),
        lambda w: (
            ADD,
            {
                "id": str(w.other.id),
                "input": {**GQL_MEMBER, "relationToHead": "CHILD", "personalId": w.personal_id},
            },
        ),
        same=("existing_member_id", "existing_household_id"),
    ),
    "second-head": Case(
        "conflict",
        lambda c, w: c.post(
            f"/api/v1/households/{w.household.id}/members",
            json={**MEMBER, "relation_to_head": "head"},
        ),
        lambda w: (
            ADD,
            {"id": str(w.household.id), "input": {**GQL_MEMBER, "relationToHead": "HEAD"}},
        ),
        same=("head_member_id",),
    ),
    "leave-twice": Case(
        "conflict",
        lambda c, w: c.post(
            f"/api/v1/members/{w.departed_id}/leave",
            json={"reason": "moved_out", "occurred_on": "2021-01-01"},
        ),
        lambda w: (
            "mutation($id: UUID!, $input: MemberLeaveInput!) { leaveHousehold(memberId: $id, input: $input) { id } }",  # noqa: E501
            {
                "id": str(w.departed_id),
                "input": {"reason": "MOVED_OUT", "occurredOn": "2021-01-01"},
            },
        ),
    ),
    "unknown-village": Case(
        "validation_failed",
        lambda c, w: c.post(
            "/api/v1/households", json={"village_code": "99999-99", "address": "x"}
        ),
        lambda w: (CREATE, {"input": {"villageCode": "99999-99", "address": "x"}}),
        problem_codes=("unknown_unit",),
    ),
    "commune-is-not-a-village": Case(
        "validation_failed",
        lambda c, w: c.post("/api/v1/households", json={"village_code": w.commune, "address": "x"}),
        lambda w: (CREATE, {"input": {"villageCode": w.commune, "address": "x"}}),
        problem_codes=("not_a_village",),
    ),
    "negative-floor-area": Case(
        "validation_failed",
        lambda c, w: c.post(
            "/api/v1/households",
            json={"village_code": w.village, "address": "x", "floor_area_m2": -1},
        ),
        lambda w: (
            CREATE,
            {"input": {"villageCode": w.village, "address": "x", "floorAreaM2": -1}},
        ),
        problem_codes=("greater_than_equal",),
    ),
    "head-change-to-a-former-member": Case(
        "validation_failed",
        lambda c, w: c.post(
            f"/api/v1/households/{w.household.id}/head",
            json={"member_id": str(w.departed_id), "occurred_on": "2024-01-01"},
        ),
        lambda w: (
            "mutation($id: UUID!, $input: HeadChangeInput!) { changeHead(householdId: $id, input: $input) { id } }",  # noqa: E501
            {
                "id": str(w.household.id),
                "input": {"memberId": str(w.departed_id), "occurredOn": "2024-01-01"},
            },
        ),
        problem_codes=("not_a_member",),
    ),
    "idempotency-key-reused": Case(
        "idempotency_key_reused",
        reuse_key,
        lambda w: (CREATE, {"input": {"villageCode": w.village, "address": "B"}, "key": w.key}),
        graphql_first=lambda w: (
            CREATE,
            {"input": {"villageCode": w.village, "address": "A"}, "key": w.key},
        ),
    ),
    "household-not-found": Case(
        "not_found",
        lambda c, w: c.get(f"/api/v1/households/{NOBODY}"),
        lambda w: ("query($id: UUID!) { household(id: $id) { id } }", {"id": NOBODY}),
    ),
    "member-not-found": Case(
        "not_found",
        lambda c, w: c.patch(f"/api/v1/members/{NOBODY}", json={"full_name": "X"}),
        lambda w: (
            'mutation($id: UUID!) { updateMember(id: $id, input: {fullName: "X"}) { id } }',
            {"id": NOBODY},
        ),
    ),
    "unit-not-found": Case(
        "not_found",
        lambda c, w: c.get("/api/v1/units/00000"),
        lambda w: ('{ unit(code: "00000") { code } }', {}),
    ),
    "invalid-household-cursor": Case(
        "invalid_cursor",
        lambda c, w: c.get("/api/v1/households", params={"after": FORGED_CURSOR}),
        lambda w: (LIST, {"first": 5, "after": FORGED_CURSOR}),
    ),
    "invalid-unit-cursor": Case(
        "invalid_cursor",
        lambda c, w: c.get("/api/v1/units", params={"after": FORGED_CURSOR}),
        lambda w: (
            "query($after: String) { units(after: $after) { nodes { code } } }",
            {"after": FORGED_CURSOR},
        ),
    ),
    "page-too-large": Case(
        "validation_failed",
        lambda c, w: c.get("/api/v1/households", params={"limit": 201}),
        lambda w: (LIST, {"first": 201}),
    ),
}


@pytest.mark.parametrize("name", list(CASES))
async def test_same_failure_same_code(
    client: httpx.AsyncClient, services: Services, name: str
) -> None:
    case = CASES[name]
    world = await arrange(services)

    problem = await case.rest(client, world)
    assert problem.headers["content-type"] == "application/problem+json", problem.text
    body = problem.json()

    if case.graphql_first is not None:
        await graphql_data(client, *case.graphql_first(world))
    query, variables = case.graphql(world)
    answer = await graphql(client, query, variables)
    assert answer.get("data") is None, answer
    [error] = answer["errors"]
    extensions = error["extensions"]

    assert body["code"] == case.code
    assert extensions["code"] == body["code"]
    for member in case.same:
        assert member in body, body
        assert extensions[member] == body[member]
    if case.problem_codes is not None:
        assert tuple(e["code"] for e in body["errors"]) == case.problem_codes
        assert tuple(e["code"] for e in extensions["errors"]) == case.problem_codes

    # Neither attempt changed the record the failures aimed at.
    after = await rest_ok(client.get(f"/api/v1/households/{world.household.id}"), 200)
    assert (after["version"], after["address"]) == (world.household.version, "Mới")
