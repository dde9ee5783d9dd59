"""The change feed through REST: one entry per write, in commit order, nothing for failures."""

from typing import Any

import httpx

from api.domain.services import Services
from tests.builders import current_villages


async def _drain(client: httpx.AsyncClient, after: str | None) -> tuple[list[dict[str, Any]], str]:
    entries: list[dict[str, Any]] = []
    while True:
        params: dict[str, str | int] = {"limit": 200}
        if after:
            params["after"] = after
        page = (await client.get("/api/v1/changes", params=params)).json()
        entries += page["items"]
        after = page["next_cursor"]
        if not page["has_more"]:
            return entries, after


async def test_every_write_appends_its_entries_in_order(
    client: httpx.AsyncClient, services: Services
) -> None:
    _, cursor = await _drain(client, None)
    village = (await current_villages(services))[0]
    household = (
        await client.post(
            "/api/v1/households", json={"village_code": village.code, "address": "Số 1"}
        )
    ).json()
    member = (
        await client.post(
            f"/api/v1/households/{household['id']}/members",
            json={
                "full_name": "Lê Văn Tám",
                "sex": "male",
                "date_of_birth": "1970-01-01",
                "personal_id": "035070000321",
                "relation_to_head": "head",
            },
        )
    ).json()
    await client.patch(f"/api/v1/households/{household['id']}", json={"floor_area_m2": 20})
    await client.patch(f"/api/v1/members/{member['id']}", json={"health_insurance": True})
    await client.delete(f"/api/v1/households/{household['id']}")

    entries, _ = await _drain(client, cursor)
    seen = [(e["entity_type"], e["entity_id"], e["operation"], e["version"]) for e in entries]
    hh, mm = household["id"], member["id"]
    assert seen == [
        ("household", hh, "create", 1),
        ("member", mm, "create", 1),
        ("household", hh, "membership", 2),  # became the head
        ("household", hh, "update", 3),
        ("member", mm, "update", 2),
        ("member", mm, "delete", 3),
        ("household", hh, "delete", 4),
    ]
    assert all(e["unit_path"] == village.path for e in entries)
    assert entries[3]["changed_fields"] == ["floor_area_m2"]
    assert entries[4]["changed_fields"] == ["health_insurance"]
    # Names only: no value of the record travels in the feed.
    assert "035070000321" not in str(entries)
    seqs = [e["seq"] for e in entries]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))


async def test_failed_and_empty_writes_append_nothing(
    client: httpx.AsyncClient, services: Services
) -> None:
    village = (await current_villages(services))[0]
    household = (
        await client.post(
            "/api/v1/households", json={"village_code": village.code, "address": "Số 2"}
        )
    ).json()
    _, cursor = await _drain(client, None)

    invalid = await client.post("/api/v1/households", json={"village_code": village.code})
    stale = await client.patch(
        f"/api/v1/households/{household['id']}", json={"address": "x"}, headers={"If-Match": '"9"'}
    )
    same = await client.patch(f"/api/v1/households/{household['id']}", json={"address": "Số 2"})
    assert (invalid.status_code, stale.status_code, same.status_code) == (422, 412, 200)
    assert same.json()["version"] == 1

    entries, again = await _drain(client, cursor)
    assert entries == []
    assert again == cursor  # an empty page keeps the reader where it was


async def test_forged_cursors_are_refused(client: httpx.AsyncClient) -> None:
    for cursor in ["not-a-cursor", "WyJoaCIsMV0", "WyJjaGciLC0xXQ", "WyJjaGciLHRydWVd"]:
        response = await client.get("/api/v1/changes", params={"after": cursor})
        assert response.status_code == 400, cursor
        assert response.json()["code"] == "invalid_cursor"
