"""Sync push: per-item answers, exactly once, modes, limits, and field-level conflicts."""

import gzip
import json
import uuid
from typing import Any

import httpx
from fastapi import FastAPI

from api.domain.access import Role
from api.domain.services import Services
from tests.builders import make_household, ok, refusal, token_headers

Json = dict[str, Any]
VILLAGE = "13384-01"


def household(hid: uuid.UUID, op_id: str | None = None, **data: Any) -> Json:
    return {
        "op_id": op_id or f"op-{uuid.uuid4()}",
        "op": "create",
        "entity": "household",
        "id": str(hid),
        "data": {"village_code": VILLAGE, "address": "Số 5, Quế Lâm", **data},
    }


def member(mid: uuid.UUID, hid: uuid.UUID, **data: Any) -> Json:
    return {
        "op_id": f"op-{uuid.uuid4()}",
        "op": "create",
        "entity": "member",
        "id": str(mid),
        "data": {
            "household_id": str(hid),
            "full_name": "Trần Thị Hoa",
            "sex": "female",
            "date_of_birth": "1979-03-02",
            "relation_to_head": "head",
            **data,
        },
    }


def listing(response: httpx.Response) -> list[Json]:
    assert response.status_code == 200, response.text
    found: list[Json] = response.json()
    return found


async def push(client: httpx.AsyncClient, items: list[Json], **extra: Any) -> Json:
    body = {"batch_id": f"b-{uuid.uuid4()}", "items": items, **extra}
    return ok(await client.post("/api/v1/sync/push", json=body))


async def test_a_batch_answers_item_by_item_and_keeps_what_failed(
    client: httpx.AsyncClient,
) -> None:
    hid, m1, m2, m3 = (uuid.uuid4() for _ in range(4))
    items = [
        household(hid, phone="0912345678", poverty_status="poor"),
        member(m1, hid),
        member(m2, hid, full_name="Trần Văn Nam", sex="male", relation_to_head="child"),
        member(m3, hid, sex="unknown"),
    ]
    body = {"batch_id": "kb-2026-001", "items": items}
    first = ok(await client.post("/api/v1/sync/push", json=body))
    outcomes = [(i["index"], i["outcome"], i["version"]) for i in first["items"]]
    assert outcomes == [
        (0, "applied", 1),
        (1, "applied", 1),
        (2, "applied", 1),
        (3, "rejected", None),
    ]
    assert first["items"][0]["ignored_fields"] == ["poverty_status"]
    problem = first["items"][3]["problem"]
    assert (problem["code"], problem["index"]) == ("validation_failed", 3)
    assert [e["path"] for e in problem["errors"]] == ["items.3.data.sex"]
    assert first["counts"] == {"applied": 3, "rejected": 1}
    saved = ok(await client.get(f"/api/v1/households/{hid}"))
    assert (saved["phone"], saved["poverty_status"]) == ("0912345678", None)
    members = listing(await client.get(f"/api/v1/households/{hid}/members"))
    assert sorted(m["full_name"] for m in members) == ["Trần Thị Hoa", "Trần Văn Nam"]

    # The response was lost: the same batch again answers the same and writes nothing.
    again = ok(await client.post("/api/v1/sync/push", json=body))
    assert again == first
    assert len(listing(await client.get(f"/api/v1/households/{hid}/members"))) == 2

    # One operation carried again in another batch: a duplicate, with its first answer.
    later = await push(client, [items[1]])
    (dup,) = later["items"]
    assert (dup["outcome"], dup["version"]) == ("duplicate", 1)
    assert dup["duplicate_of"] == {"batch_id": "kb-2026-001", "index": 1, "outcome": "applied"}

    kept = listing(await client.get("/api/v1/sync/items", params={"outcome": "rejected"}))
    mine = [k for k in kept if k["batch_id"] == "kb-2026-001"]
    assert len(mine) == 1
    assert (mine[0]["position"], mine[0]["payload"]["sex"], mine[0]["state"]) == (
        3,
        "unknown",
        "open",
    )


async def test_all_or_nothing_and_dry_run_write_nothing(client: httpx.AsyncClient) -> None:
    hid = uuid.uuid4()
    bad = member(uuid.uuid4(), hid, date_of_birth="not a date")
    result = await push(client, [household(hid), bad], mode="all_or_nothing")
    assert result["committed"] is False
    assert [i["outcome"] for i in result["items"]] == ["not_applied", "rejected"]
    refusal(await client.get(f"/api/v1/households/{hid}"), 404, "not_found")

    dry = await push(client, [household(hid)], dry_run=True)
    assert (dry["committed"], dry["items"][0]["outcome"]) == (False, "applied")
    refusal(await client.get(f"/api/v1/households/{hid}"), 404, "not_found")
    real = await push(client, [household(hid)])
    assert (real["committed"], real["items"][0]["outcome"]) == (True, "applied")


async def test_an_old_base_merges_untouched_fields_and_keeps_conflicts(
    client: httpx.AsyncClient,
) -> None:
    hid = uuid.uuid4()
    await push(client, [household(hid, floor_area_m2=30)])
    ok(await client.patch(f"/api/v1/households/{hid}", json={"address": "Số 9", "version": 1}))

    def update(**data: Any) -> Json:
        return {
            "op_id": f"op-{uuid.uuid4()}",
            "op": "update",
            "entity": "household",
            "id": str(hid),
            "base_version": 1,
            "data": data,
        }

    merged = (await push(client, [update(floor_area_m2=42)]))["items"][0]
    assert (merged["outcome"], merged["version"]) == ("merged", 3)
    current = ok(await client.get(f"/api/v1/households/{hid}"))
    assert (current["address"], current["floor_area_m2"]) == ("Số 9", 42)

    clash = (await push(client, [update(address="Số 7", uses_telecom=True)]))["items"][0]
    assert clash["outcome"] == "conflict"
    assert clash["conflicts"] == {"address": {"mine": "Số 7", "theirs": "Số 9"}}
    assert ok(await client.get(f"/api/v1/households/{hid}"))["version"] == 3  # nothing applied
    listed = listing(await client.get("/api/v1/sync/items", params={"outcome": "conflict"}))
    (item,) = [i for i in listed if i["entity_id"] == str(hid)]
    assert item["payload"] == {"address": "Số 7", "uses_telecom": True}

    resolved = ok(
        await client.post(
            f"/api/v1/sync/items/{item['id']}/resolve", json={"resolution": "take_mine"}
        )
    )
    assert (resolved["state"], resolved["resolution"]["version"]) == ("resolved", 4)
    current = ok(await client.get(f"/api/v1/households/{hid}"))
    assert (current["address"], current["uses_telecom"], current["version"]) == ("Số 7", True, 4)
    again = await client.post(
        f"/api/v1/sync/items/{item['id']}/resolve", json={"resolution": "take_theirs"}
    )
    refusal(again, 422, "validation_failed")


async def test_limits_and_gzip(client: httpx.AsyncClient) -> None:
    hid = uuid.uuid4()
    raw = json.dumps({"batch_id": "gz-1", "items": [household(hid)]}).encode()
    response = await client.post(
        "/api/v1/sync/push",
        content=gzip.compress(raw),
        headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
    )
    assert ok(response)["items"][0]["outcome"] == "applied"
    many = [household(uuid.uuid4()) for _ in range(5001)]
    too_many = refusal(
        await client.post("/api/v1/sync/push", json={"batch_id": "big", "items": many}),
        413,
        "batch_too_large",
    )
    assert (too_many["max_items"], too_many["batches_needed"]) == (5000, 2)
    bomb = gzip.compress(b"[" + b" " * (17 * 1024 * 1024) + b"]")
    refusal(
        await client.post(
            "/api/v1/sync/push",
            content=bomb,
            headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
        ),
        413,
        "payload_too_large",
    )
    refusal(
        await client.post(
            "/api/v1/sync/push",
            content=b"not gzip",
            headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
        ),
        422,
        "validation_failed",
    )


async def test_conflicts_are_listed_and_resolved_through_graphql(client: httpx.AsyncClient) -> None:
    hid = uuid.uuid4()
    await push(client, [household(hid)])
    ok(await client.patch(f"/api/v1/households/{hid}", json={"address": "Số 2", "version": 1}))
    stale = {
        "op_id": f"op-{uuid.uuid4()}",
        "op": "update",
        "entity": "household",
        "id": str(hid),
        "base_version": 1,
        "data": {"address": "Số 3"},
    }
    conflict = (await push(client, [stale]))["items"][0]
    assert conflict["outcome"] == "conflict"
    listed = ok(
        await client.post(
            "/graphql",
            json={"query": "{ syncItems(outcome: CONFLICT) { id entityId payload result } }"},
        )
    )["data"]["syncItems"]
    (item,) = [i for i in listed if i["entityId"] == str(hid)]
    assert item["payload"] == {"address": "Số 3"}
    assert item["result"]["conflicts"]["address"] == {"mine": "Số 3", "theirs": "Số 2"}
    mutation = """mutation($id: UUID!) { resolveSyncItem(id: $id, input: {resolution: NEW_VALUES,
        values: {address: "Số 2–3"}, note: "agreed with the reviewer"}) { state resolution } }"""
    done = ok(
        await client.post("/graphql", json={"query": mutation, "variables": {"id": item["id"]}})
    )
    assert done["data"]["resolveSyncItem"]["state"] == "RESOLVED"
    assert ok(await client.get(f"/api/v1/households/{hid}"))["address"] == "Số 2–3"


async def test_odd_item_data_is_rejected_with_the_field_never_a_500(
    client: httpx.AsyncClient,
) -> None:
    hid = uuid.uuid4()
    odd = [
        member(uuid.uuid4(), hid, household_id="not-a-uuid"),
        {**member(uuid.uuid4(), hid), "data": {"full_name": "Không Hộ"}},
        {"op_id": "u-1", "op": "update", "entity": "household", "id": str(hid), "data": {}},
        {
            "op_id": "u-2",
            "op": "update",
            "entity": "member",
            "id": str(uuid.uuid4()),
            "base_version": 1,
            "data": {"sex": 5},
        },
    ]
    result = await push(client, odd)
    problems = [(i["outcome"], i["problem"]["code"]) for i in result["items"]]
    assert problems == [
        ("rejected", "validation_failed"),
        ("rejected", "validation_failed"),
        ("rejected", "not_found"),
        ("rejected", "not_found"),
    ]
    assert [e["path"] for e in result["items"][0]["problem"]["errors"]] == [
        "items.0.data.household_id"
    ]
    assert [e["path"] for e in result["items"][1]["problem"]["errors"]] == [
        "items.1.data.household_id"
    ]


async def test_refused_sync_requests_are_in_the_sync_log(client: httpx.AsyncClient) -> None:
    device = {"X-Device-Id": f"phone-{uuid.uuid4()}", "X-App-Version": "0.9.1"}
    refused = await client.get("/api/v1/sync/pull", params={"cursor": "garbage"}, headers=device)
    refusal(refused, 400, "invalid_cursor")
    many = [household(uuid.uuid4()) for _ in range(5001)]
    refusal(
        await client.post(
            "/api/v1/sync/push", json={"batch_id": "too-big", "items": many}, headers=device
        ),
        413,
        "batch_too_large",
    )
    log = listing(
        await client.get("/api/v1/sync/sessions", params={"device_id": device["X-Device-Id"]})
    )
    assert [(e["kind"], e["status_code"], e["counts"]) for e in log] == [
        ("push", 413, {"refused": 1}),
        ("pull", 400, {"refused": 1}),
    ]
    assert all(e["app_version"] == "0.9.1" for e in log)
    assert log[1]["cursor_in"] == "garbage"


async def test_rejected_creates_are_filed_under_their_area_for_its_officers(
    anonymous_app: FastAPI, anonymous_client: httpx.AsyncClient, services: Services
) -> None:
    c = anonymous_client
    reviewer, _ = await token_headers(anonymous_app, services, Role.REVIEWER, ["13384"])
    officer, _ = await token_headers(anonymous_app, services, Role.COMMUNE_OFFICER, ["13384"])
    neighbour, _ = await token_headers(anonymous_app, services, Role.COMMUNE_OFFICER, ["13393"])
    home = await make_household(services, "13384-01")
    items = [
        household(uuid.uuid4(), village_code="13384-02", floor_area_m2=-4),
        member(uuid.uuid4(), home.id, date_of_birth="not a date"),
        member(uuid.uuid4(), uuid.uuid4()),  # a household the server does not know
        household(uuid.uuid4(), village_code="13393-01"),  # outside the pusher's area
    ]
    body = {"batch_id": f"b-{uuid.uuid4()}", "items": items}
    pushed = ok(await c.post("/api/v1/sync/push", json=body, headers=reviewer))
    assert [i["outcome"] for i in pushed["items"]] == ["rejected"] * 4

    async def queue(headers: dict[str, str]) -> dict[str, str]:
        params = {"outcome": "rejected"}
        found = listing(await c.get("/api/v1/sync/items", params=params, headers=headers))
        return {i["op_id"]: i["unit_path"] for i in found if i["batch_id"] == body["batch_id"]}

    assert await queue(officer) == {
        items[0]["op_id"]: "37/13384/13384-02",
        items[1]["op_id"]: "37/13384/13384-01",
        items[2]["op_id"]: "37/13384",
        items[3]["op_id"]: "37/13384",
    }
    assert await queue(neighbour) == {}


async def test_a_resolution_sent_again_gets_its_first_answer(client: httpx.AsyncClient) -> None:
    """A phone that lost the answer to its resolution sends it again: with the same
    Idempotency-Key, or without one but with the same resolution, it gets the first answer;
    a different resolution of a settled item is still refused."""
    hid = uuid.uuid4()
    await push(client, [household(hid)])
    ok(await client.patch(f"/api/v1/households/{hid}", json={"address": "Số 2", "version": 1}))
    stale = {
        "op_id": f"op-{uuid.uuid4()}",
        "op": "update",
        "entity": "household",
        "id": str(hid),
        "base_version": 1,
        "data": {"address": "Số 3"},
    }
    conflict = (await push(client, [stale]))["items"][0]
    assert conflict["outcome"] == "conflict"
    path = f"/api/v1/sync/items/{conflict['conflict_id']}/resolve"
    body = {"resolution": "take_mine", "note": "đã hỏi hộ"}
    keyed = {"Idempotency-Key": f"resolve-{hid}"}
    first = ok(await client.post(path, json=body, headers=keyed))
    assert (first["state"], first["resolution"]["version"]) == ("resolved", 3)
    assert ok(await client.post(path, json=body, headers=keyed)) == first
    assert ok(await client.post(path, json=body)) == first
    current = ok(await client.get(f"/api/v1/households/{hid}"))
    assert (current["address"], current["version"]) == ("Số 3", 3)  # applied once
    refusal(await client.post(path, json={"resolution": "take_theirs"}), 422, "validation_failed")
    refusal(
        await client.post(path, json={"resolution": "take_theirs"}, headers=keyed),
        422,
        "idempotency_key_reused",
    )


async def test_a_base_version_beyond_the_stored_range_is_refused_by_name(
    client: httpx.AsyncClient,
) -> None:
    hid = uuid.uuid4()
    huge = {**household(hid), "base_version": 2**43 + 1}
    body = {"batch_id": f"b-{uuid.uuid4()}", "items": [household(uuid.uuid4()), huge]}
    problem = refusal(await client.post("/api/v1/sync/push", json=body), 422, "validation_failed")
    assert [e["path"] for e in problem["errors"]] == ["body.items.1.base_version"]
    assert (await client.get(f"/api/v1/households/{hid}")).status_code == 404
