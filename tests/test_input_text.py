"""Free text arrives as the keyboard sent it: decomposed Unicode (NFD) from some phones,
composed (NFC) from most. It is stored composed, so search, duplicate checks and exports do
not depend on the keyboard; and a field a body names that the shape does not have is an
error naming it, not silently ignored."""

import gzip
import json
import unicodedata
import uuid

import httpx

from api.domain.services import Services
from tests.builders import make_household

NAME = "Đặng Thị Hường"
ADDRESS = "Số 5, ngõ Quế Lâm"


def nfd(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    assert decomposed != text
    return decomposed


async def test_decomposed_text_is_stored_composed_and_found_either_way(
    client: httpx.AsyncClient, services: Services
) -> None:
    created = await client.post(
        "/api/v1/households", json={"village_code": "13384-01", "address": nfd(ADDRESS)}
    )
    assert created.status_code == 201, created.text
    household = created.json()
    assert household["address"] == ADDRESS
    member = await client.post(
        f"/api/v1/households/{household['id']}/members",
        json={
            "full_name": nfd(NAME),
            "sex": "female",
            "date_of_birth": "1960-01-01",
            "relation_to_head": "head",
        },
    )
    assert member.status_code == 201, member.text
    assert member.json()["full_name"] == NAME
    for q in (NAME, nfd(NAME), "Hường", nfd("Hường")):
        page = await client.get("/api/v1/households", params={"q": q, "limit": 200})
        assert household["id"] in {h["id"] for h in page.json()["items"]}, q
    gql = await client.post(
        "/graphql",
        json={
            "query": "mutation($id: UUID!, $a: String!) { updateHousehold(id: $id, "
            "input: {address: $a}) { address } }",
            "variables": {"id": household["id"], "a": nfd("Thôn Đồng Quế")},
        },
    )
    assert gql.json()["data"]["updateHousehold"]["address"] == "Thôn Đồng Quế", gql.text
    # A phone's gzipped batch is composed too.
    hid = uuid.uuid4()
    batch = {
        "batch_id": f"nfc-{hid}",
        "items": [
            {
                "op_id": f"op-{hid}",
                "op": "create",
                "entity": "household",
                "id": str(hid),
                "data": {"village_code": "13384-01", "address": nfd(ADDRESS)},
            }
        ],
    }
    pushed = await client.post(
        "/api/v1/sync/push",
        content=gzip.compress(json.dumps(batch).encode()),
        headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
    )
    assert pushed.json()["items"][0]["outcome"] == "applied", pushed.text
    assert (await client.get(f"/api/v1/households/{hid}")).json()["address"] == ADDRESS


async def test_an_unknown_field_is_an_error_that_names_it(
    client: httpx.AsyncClient, services: Services
) -> None:
    household = await make_household(services)
    misspelled = await client.patch(f"/api/v1/households/{household.id}", json={"floor_area": 40})
    assert misspelled.status_code == 422, misspelled.text
    (error,) = misspelled.json()["errors"]
    assert error["path"] == "body.floor_area"
    assert error["code"] == "extra_forbidden"
    unchanged = (await client.get(f"/api/v1/households/{household.id}")).json()
    assert unchanged["version"] == household.version
    created = await client.post(
        "/api/v1/households",
        json={"village_code": "13384-01", "address": "Số 9", "adress": "typo"},
    )
    assert created.status_code == 422
    assert [e["path"] for e in created.json()["errors"]] == ["body.adress"]
    # A device's batch: server-computed fields are ignored and listed, an unknown one rejects
    # that item alone.
    hid = uuid.uuid4()
    items = [
        {
            "op_id": f"op-{hid}",
            "op": "update",
            "entity": "household",
            "id": str(household.id),
            "base_version": household.version,
            "data": {"address": "Số 10", "poverty_status": "poor", "floor_area": 3},
        },
        {
            "op_id": f"op2-{hid}",
            "op": "update",
            "entity": "household",
            "id": str(household.id),
            "base_version": household.version,
            "data": {"address": "Số 11", "poverty_status": "poor"},
        },
    ]
    pushed = (
        await client.post("/api/v1/sync/push", json={"batch_id": f"u-{hid}", "items": items})
    ).json()
    first, second = pushed["items"]
    assert first["outcome"] == "rejected"
    assert [e["path"] for e in first["problem"]["errors"]] == ["items.0.data.floor_area"]
    assert (second["outcome"], second["ignored_fields"]) == ("applied", ["poverty_status"])
