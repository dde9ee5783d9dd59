"""Input that is valid JSON but that no column can hold, refused as 422 naming the field at
fault rather than reaching the database (PostgreSQL refuses it with an error, which was a 500;
SQLite often stored it and failed later, when it was read back or answered as JSON)."""

import json
import uuid
from typing import Any

import httpx
import pytest

from api.domain.base import MAX_NESTING
from api.domain.services import Services
from tests.builders import fields, make_household, make_member, ok, refusal

Json = dict[str, Any]
# Names whose search keys are longer than the name: "İ" lower-cases to two characters, and
# "北" folds to "bei ".
LONG_KEYED_NAMES = {"dotted_capital_i": "İ" * 120, "han": "北" * 120}


def raw_json(text: str) -> dict[str, Any]:
    return {"content": text.encode(), "headers": {"content-type": "application/json"}}


def push(data: Json, **item: Any) -> Json:
    op = {"op_id": f"op-{uuid.uuid4()}", "op": "create", "entity": "household"}
    return {
        "batch_id": f"b-{uuid.uuid4()}",
        "items": [{**op, "id": str(uuid.uuid4()), **item, "data": data}],
    }


# --- search keys of names ---------------------------------------------------------------------


@pytest.mark.parametrize("name", list(LONG_KEYED_NAMES))
async def test_a_name_whose_search_keys_outgrow_their_column_is_refused(
    client: httpx.AsyncClient, services: Services, name: str
) -> None:
    household = await make_household(services)
    member = await make_member(services, household.id)
    full_name = LONG_KEYED_NAMES[name]
    added = await client.post(
        f"/api/v1/households/{household.id}/members",
        json={
            "full_name": full_name,
            "sex": "male",
            "date_of_birth": "1990-01-01",
            "relation_to_head": "child",
        },
    )
    assert fields(refusal(added, 422, "validation_failed")) == [
        ("body.full_name", "search_key_too_long")
    ]
    renamed = await client.patch(f"/api/v1/members/{member.id}", json={"full_name": full_name})
    assert fields(refusal(renamed, 422, "validation_failed")) == [
        ("body.full_name", "search_key_too_long")
    ]
    assert ok(await client.get(f"/api/v1/members/{member.id}"))["full_name"] == member.full_name


# --- text Unicode cannot encode ---------------------------------------------------------------


async def test_a_lone_surrogate_is_refused_naming_the_field(
    client: httpx.AsyncClient, services: Services
) -> None:
    household = await make_household(services)
    # json.dumps escapes it as \ud800, which json.loads turns back into a lone surrogate.
    body = json.dumps({"village_code": household.village_code, "address": "Số \ud800"})
    created = await client.post("/api/v1/households", **raw_json(body))
    assert fields(refusal(created, 422, "validation_failed")) == [
        ("body.address", "string_unicode")
    ]
    pushed = await client.post(
        "/api/v1/sync/push",
        **raw_json(json.dumps(push({"village_code": household.village_code, "address": "\udfff"}))),
    )
    assert fields(refusal(pushed, 422, "validation_failed")) == [
        ("body.items.0.data.address", "string_unicode")
    ]
    # In a key, too: the key is what is named.
    patched = await client.patch(f"/api/v1/households/{household.id}", **raw_json('{"\\ud800": 1}'))
    assert fields(refusal(patched, 422, "validation_failed")) == [
        ("body.\\ud800", "string_unicode")
    ]
    assert ok(await client.get(f"/api/v1/households/{household.id}"))["version"] == 1


async def test_a_pair_of_surrogates_is_one_character_and_accepted(
    client: httpx.AsyncClient, services: Services
) -> None:
    household = await make_household(services)
    body = json.dumps({"village_code": household.village_code, "address": "Nhà 🏠"})
    assert "\\ud83c\\udfe0" in body
    created = ok(await client.post("/api/v1/households", **raw_json(body)), 201)
    assert created["address"] == "Nhà 🏠"


async def test_graphql_refuses_a_lone_surrogate_in_an_input_and_an_argument(
    client: httpx.AsyncClient, services: Services
) -> None:
    # Refused with the body, as a NUL is: a search argument has no pydantic shape to refuse it.
    household = await make_household(services)
    mutation = (
        "mutation($id: UUID!, $a: String!) { updateHousehold(id: $id, input: {address: $a})"
        " { address } }"
    )
    body = json.dumps({"query": mutation, "variables": {"id": str(household.id), "a": "\ud800"}})
    answer = await client.post("/graphql", **raw_json(body))
    assert fields(refusal(answer, 422, "validation_failed")) == [
        ("body.variables.a", "string_unicode")
    ]
    search = "query($q: String) { units(q: $q) { edges { cursor } } }"
    body = json.dumps({"query": search, "variables": {"q": "H\ud800"}})
    answer = await client.post("/graphql", **raw_json(body))
    assert fields(refusal(answer, 422, "validation_failed")) == [
        ("body.variables.q", "string_unicode")
    ]
    # Written as a GraphQL escape in the query itself, it is a syntax error.
    literal = await client.post(
        "/graphql", json={"query": '{ units(q: "\\ud800") { edges { cursor } } }'}
    )
    [error] = ok(literal)["errors"]
    assert error["extensions"]["code"] == "graphql_invalid", error


# --- numbers JSON cannot carry ----------------------------------------------------------------


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400"])
async def test_a_number_that_is_not_finite_is_refused_naming_the_field(
    client: httpx.AsyncClient, services: Services, number: str
) -> None:
    household = await make_household(services)
    base = json.dumps(push({"village_code": household.village_code, "address": "So 1"}))
    for name in ("floor_area_m2", "not_a_field"):
        body = base.replace('"address": "So 1"', f'"address": "So 1", "{name}": {number}')
        pushed = await client.post("/api/v1/sync/push", **raw_json(body))
        assert fields(refusal(pushed, 422, "validation_failed")) == [
            (f"body.items.0.data.{name}", "non_finite_number")
        ]
    patched = await client.patch(
        f"/api/v1/households/{household.id}", **raw_json(f'{{"floor_area_m2": {number}}}')
    )
    assert fields(refusal(patched, 422, "validation_failed")) == [
        ("body.floor_area_m2", "non_finite_number")
    ]
    # Nothing was kept of the refused batches (a rejected item keeps its payload).
    assert (await client.get("/api/v1/sync/items")).json() == []


# --- nesting ----------------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [MAX_NESTING + 1, 500, 900])
async def test_json_nested_too_deeply_is_refused_naming_where(
    client: httpx.AsyncClient, services: Services, depth: int
) -> None:
    household = await make_household(services)
    nested = "[" * depth + "]" * depth
    # Where the nesting passes the limit, counting the body as the first level.
    where = "zz" + ".0" * (MAX_NESTING - 1)
    created = await client.post(
        "/api/v1/households",
        **raw_json(
            f'{{"village_code": "{household.village_code}", "address": "x", "zz": {nested}}}'
        ),
    )
    assert fields(refusal(created, 422, "validation_failed")) == [(f"body.{where}", "too_deep")]
    base = json.dumps(push({"village_code": household.village_code, "address": "x"}))
    body = base.replace('"address": "x"', f'"address": "x", "zz": {nested}')
    pushed = await client.post("/api/v1/sync/push", **raw_json(body))
    # The batch, the items, an item and its data are four levels.
    where = "items.0.data.zz" + ".0" * (MAX_NESTING - 4)
    assert fields(refusal(pushed, 422, "validation_failed")) == [(f"body.{where}", "too_deep")]


async def test_nesting_as_deep_as_the_limit_is_not_refused_for_its_depth(
    client: httpx.AsyncClient, services: Services
) -> None:
    household = await make_household(services)
    nested = "[" * (MAX_NESTING - 1) + "]" * (MAX_NESTING - 1)
    patched = await client.patch(
        f"/api/v1/households/{household.id}", **raw_json(f'{{"zz": {nested}}}')
    )
    assert fields(refusal(patched, 422, "validation_failed")) == [("body.zz", "extra_forbidden")]


async def test_a_deep_body_with_an_idempotency_key_is_refused_not_a_500(
    client: httpx.AsyncClient,
) -> None:
    # json.loads gives up on this with RecursionError, not ValueError.
    nested = "[" * 100_000 + "]" * 100_000
    created = await client.post(
        "/api/v1/households",
        content=nested.encode(),
        headers={"content-type": "application/json", "Idempotency-Key": str(uuid.uuid4())},
    )
    assert created.status_code in (400, 422), created.text
    assert created.headers["content-type"] == "application/problem+json"


# --- headers ----------------------------------------------------------------------------------


@pytest.mark.parametrize("header", ["X-Device-Id", "X-App-Version", "Idempotency-Key"])
async def test_a_nul_character_in_a_header_is_refused_naming_it(
    client: httpx.AsyncClient, services: Services, header: str
) -> None:
    household = await make_household(services)
    pushed = await client.post(
        "/api/v1/sync/push",
        json=push({"village_code": household.village_code, "address": "Số 2"}),
        headers={header: "a\x00b"},
    )
    assert fields(refusal(pushed, 422, "validation_failed")) == [
        (f"header.{header.lower()}", "nul_character")
    ]


# --- columns that cannot be null --------------------------------------------------------------


@pytest.mark.parametrize("name", ["full_name", "sex", "date_of_birth", "relation_to_head"])
async def test_a_required_member_fact_may_be_changed_but_not_cleared(
    client: httpx.AsyncClient, services: Services, name: str
) -> None:
    household = await make_household(services)
    member = await make_member(services, household.id)
    patched = await client.patch(f"/api/v1/members/{member.id}", json={name: None})
    assert fields(refusal(patched, 422, "validation_failed")) == [(f"body.{name}", "value_error")]
    pushed = await client.post(
        "/api/v1/sync/push",
        json=push({name: None}, op="update", entity="member", id=str(member.id), base_version=1),
    )
    [item] = ok(pushed)["items"]
    assert item["outcome"] == "rejected", item
    assert fields(item["problem"]) == [(f"items.0.data.{name}", "value_error")]
    assert ok(await client.get(f"/api/v1/members/{member.id}"))["version"] == member.version
