"""Households and members through REST, on the real stack and database."""

import uuid
from datetime import date

import httpx

from api.domain.services import Services
from tests.builders import current_villages, make_household, unique_personal_id


async def _village(services: Services, index: int = 0) -> str:
    return (await current_villages(services))[index].code


async def test_create_read_update_delete_household(
    client: httpx.AsyncClient, services: Services
) -> None:
    village = await _village(services)
    created = await client.post(
        "/api/v1/households",
        json={
            "village_code": village,
            "address": "Thôn Đông, số 5",
            "floor_area_m2": 32.5,
            "information_assets": ["tv", "phone", "tv"],
            "water_source": "piped",
        },
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["version"] == 1
    assert body["information_assets"] == ["phone", "tv"]
    assert body["unit_path"].endswith("/" + village)
    assert created.headers["etag"] == '"1"'
    assert created.headers["location"] == f"/api/v1/households/{body['id']}"

    fetched = await client.get(f"/api/v1/households/{body['id']}")
    assert fetched.json() == body

    patched = await client.patch(
        f"/api/v1/households/{body['id']}", json={"floor_area_m2": 40}, headers={"If-Match": '"1"'}
    )
    assert patched.status_code == 200
    assert patched.json()["floor_area_m2"] == 40
    assert patched.json()["version"] == 2
    assert patched.headers["etag"] == '"2"'

    deleted = await client.delete(f"/api/v1/households/{body['id']}", headers={"If-Match": '"2"'})
    assert deleted.status_code == 204
    gone = await client.get(f"/api/v1/households/{body['id']}")
    assert gone.status_code == 404
    assert gone.json()["code"] == "not_found"


async def test_stale_if_match_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, services: Services
) -> None:
    household = await make_household(services, address="Cũ")
    first = await client.patch(
        f"/api/v1/households/{household.id}", json={"address": "Mới"}, headers={"If-Match": '"1"'}
    )
    assert first.status_code == 200
    stale = await client.patch(
        f"/api/v1/households/{household.id}", json={"address": "Khác"}, headers={"If-Match": '"1"'}
    )
    assert stale.status_code == 412
    assert stale.headers["content-type"] == "application/problem+json"
    assert stale.json()["code"] == "version_conflict"
    assert stale.json()["current_version"] == 2
    assert stale.headers["etag"] == '"2"'
    stale_body = await client.patch(
        f"/api/v1/households/{household.id}", json={"address": "Khác", "version": 1}
    )
    assert stale_body.status_code == 412
    stale_delete = await client.delete(
        f"/api/v1/households/{household.id}", headers={"If-Match": '"1"'}
    )
    assert stale_delete.status_code == 412
    current = (await client.get(f"/api/v1/households/{household.id}")).json()
    assert (current["address"], current["version"]) == ("Mới", 2)


async def test_idempotency_key_replays_first_answer(
    client: httpx.AsyncClient, services: Services
) -> None:
    village = await _village(services)
    payload = {"village_code": village, "address": "Số 9"}
    headers = {"Idempotency-Key": "retry-" + uuid.uuid4().hex}
    first = await client.post("/api/v1/households", json=payload, headers=headers)
    again = await client.post("/api/v1/households", json=payload, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    listed = await client.get("/api/v1/households", params={"unit": village, "limit": 200})
    assert [h["id"] for h in listed.json()["items"]].count(first.json()["id"]) == 1
    ids = {h["id"] for h in listed.json()["items"] if h["address"] == "Số 9"}
    assert ids == {first.json()["id"]}

    other_body = await client.post(
        "/api/v1/households", json={**payload, "address": "Số 10"}, headers=headers
    )
    assert other_body.status_code == 422
    assert other_body.json()["code"] == "idempotency_key_reused"


async def test_client_chosen_id_and_duplicate_id(
    client: httpx.AsyncClient, services: Services
) -> None:
    village = await _village(services)
    chosen = str(uuid.uuid4())
    payload = {"id": chosen, "village_code": village, "address": "Offline"}
    first = await client.post("/api/v1/households", json=payload)
    assert first.status_code == 201
    assert first.json()["id"] == chosen
    second = await client.post("/api/v1/households", json=payload)
    assert second.status_code == 409
    assert second.json()["code"] == "conflict"
    assert second.json()["existing_id"] == chosen


async def test_validation_errors_name_each_field(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/households",
        json={
            "village_code": "",
            "floor_area_m2": -3,
            "phone": "call me",
            "water_source": "river",
        },
    )
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "validation_failed"
    paths = {e["path"] for e in problem["errors"]}
    assert {
        "body.village_code",
        "body.address",
        "body.floor_area_m2",
        "body.phone",
        "body.water_source",
    } <= paths


async def test_unknown_or_non_village_unit_is_refused(
    client: httpx.AsyncClient, services: Services
) -> None:
    unknown = await client.post(
        "/api/v1/households", json={"village_code": "99999-99", "address": "x"}
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0] == {
        "path": "body.village_code",
        "message": "no administrative unit '99999-99'",
        "code": "unknown_unit",
    }
    village = (await current_villages(services))[0]
    assert village.parent_code is not None
    commune = await client.post(
        "/api/v1/households", json={"village_code": village.parent_code, "address": "x"}
    )
    assert commune.status_code == 422
    assert commune.json()["errors"][0]["code"] == "not_a_village"


async def test_patch_cannot_clear_required_fields(
    client: httpx.AsyncClient, services: Services
) -> None:
    household = await make_household(services)
    response = await client.patch(f"/api/v1/households/{household.id}", json={"address": None})
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "body.address"


async def test_members_lifecycle_and_history(client: httpx.AsyncClient, services: Services) -> None:
    household = await make_household(services)
    head_id = unique_personal_id(date(1970, 3, 1))
    head = await client.post(
        f"/api/v1/households/{household.id}/members",
        json={
            "full_name": "Trần Văn Bình",
            "sex": "male",
            "date_of_birth": "1970-03-01",
            "personal_id": head_id,
            "relation_to_head": "head",
            "joined_on": "1995-01-01",
        },
    )
    assert head.status_code == 201, head.text
    spouse = await client.post(
        f"/api/v1/households/{household.id}/members",
        json={
            "full_name": "Lê Thị Cúc",
            "sex": "female",
            "date_of_birth": "1972-08-09",
            "relation_to_head": "spouse",
            "joined_on": "1996-01-01",
        },
    )
    assert spouse.status_code == 201
    second_head = await client.post(
        f"/api/v1/households/{household.id}/members",
        json={
            "full_name": "Ai Đó",
            "sex": "male",
            "date_of_birth": "1990-01-01",
            "relation_to_head": "head",
        },
    )
    assert second_head.status_code == 409
    assert second_head.json()["head_member_id"] == head.json()["id"]

    hh = (await client.get(f"/api/v1/households/{household.id}")).json()
    assert hh["head_member_id"] == head.json()["id"]

    died = await client.post(
        f"/api/v1/members/{head.json()['id']}/leave",
        json={"reason": "died", "occurred_on": "2026-02-01"},
    )
    assert died.status_code == 200
    assert died.json()["membership_status"] == "deceased"
    assert (await client.get(f"/api/v1/households/{household.id}")).json()["head_member_id"] is None

    new_head = await client.post(
        f"/api/v1/households/{household.id}/head",
        json={"member_id": spouse.json()["id"], "occurred_on": "2026-02-10"},
    )
    assert new_head.status_code == 200
    assert new_head.json()["head_member_id"] == spouse.json()["id"]
    spouse_now = (await client.get(f"/api/v1/members/{spouse.json()['id']}")).json()
    assert spouse_now["relation_to_head"] == "head"

    active = (await client.get(f"/api/v1/households/{household.id}/members")).json()
    assert [m["id"] for m in active] == [spouse.json()["id"]]
    everyone = (
        await client.get(
            f"/api/v1/households/{household.id}/members", params={"include_former": True}
        )
    ).json()
    assert len(everyone) == 2

    events = (await client.get(f"/api/v1/households/{household.id}/membership-events")).json()
    assert [(e["kind"], e["member_id"]) for e in events] == [
        ("joined", head.json()["id"]),
        ("became_head", head.json()["id"]),
        ("joined", spouse.json()["id"]),
        ("died", head.json()["id"]),
        ("ceased_head", head.json()["id"]),
        ("became_head", spouse.json()["id"]),
    ]

    # The personal ID of a person who died may be recorded again (e.g. a data correction).
    again = await client.post(
        f"/api/v1/households/{household.id}/members",
        json={
            "full_name": "Trần Văn Bình",
            "sex": "male",
            "date_of_birth": "1970-03-01",
            "personal_id": head_id,
            "relation_to_head": "other_relative",
        },
    )
    assert again.status_code == 201


async def test_duplicate_active_personal_id_names_existing_record(
    client: httpx.AsyncClient, services: Services
) -> None:
    first_home = await make_household(services)
    second_home = await make_household(services)
    pid = unique_personal_id(date(1985, 1, 1))
    member = {
        "full_name": "Phạm Văn Dũng",
        "sex": "male",
        "date_of_birth": "1985-01-01",
        "personal_id": pid,
        "relation_to_head": "child",
    }
    first = await client.post(f"/api/v1/households/{first_home.id}/members", json=member)
    assert first.status_code == 201
    duplicate = await client.post(f"/api/v1/households/{second_home.id}/members", json=member)
    assert duplicate.status_code == 409
    problem = duplicate.json()
    assert problem["code"] == "duplicate_personal_id"
    assert problem["existing_member_id"] == first.json()["id"]
    assert problem["existing_household_id"] == str(first_home.id)


async def test_personal_id_shape_and_warnings(
    client: httpx.AsyncClient, services: Services
) -> None:
    household = await make_household(services)
    bad = await client.post(
        f"/api/v1/households/{household.id}/members",
        json={
            "full_name": "X",
            "sex": "male",
            "date_of_birth": "1980-01-01",
            "personal_id": "12345",
            "relation_to_head": "child",
        },
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["path"] == "body.personal_id"
    # Encodes a woman born in 1999; the record says a man born in 1980: kept, with warnings.
    mismatched = await client.post(
        f"/api/v1/households/{household.id}/members",
        json={
            "full_name": "Y",
            "sex": "male",
            "date_of_birth": "1980-01-01",
            "personal_id": "035199123456",
            "relation_to_head": "child",
        },
    )
    assert mismatched.status_code == 201
    assert mismatched.json()["warnings"] == [
        "personal_id encodes birth year 1999, date_of_birth says 1980",
        "personal_id encodes sex female, record says male",
    ]
    legacy = await client.post(
        f"/api/v1/households/{household.id}/members",
        json={
            "full_name": "Z",
            "sex": "female",
            "date_of_birth": "1950-01-01",
            "personal_id": "168123456",
            "relation_to_head": "parent",
        },
    )
    assert legacy.status_code == 201
    assert legacy.json()["warnings"] == []


async def test_search_with_and_without_diacritics(
    client: httpx.AsyncClient, services: Services
) -> None:
    household = await make_household(services)
    other = await make_household(services)
    await client.post(
        f"/api/v1/households/{household.id}/members",
        json={
            "full_name": "Đặng Thị Hường",
            "sex": "female",
            "date_of_birth": "1960-01-01",
            "personal_id": "035160777001",
            "relation_to_head": "head",
        },
    )
    await client.post(
        f"/api/v1/households/{other.id}/members",
        json={
            "full_name": "Đặng Thị Hương",
            "sex": "female",
            "date_of_birth": "1961-01-01",
            "relation_to_head": "head",
        },
    )

    async def found(q: str) -> set[str]:
        response = await client.get("/api/v1/households", params={"q": q, "limit": 200})
        assert response.status_code == 200
        return {h["id"] for h in response.json()["items"]} & {str(household.id), str(other.id)}

    assert await found("dang thi huong") == {str(household.id), str(other.id)}
    assert await found("Hường") == {str(household.id)}
    assert await found("HƯƠNG") == {str(other.id)}
    assert await found("035160777001") == {str(household.id)}
    assert await found("100%_") == set()


async def test_pagination_is_stable_and_capped(
    client: httpx.AsyncClient, services: Services
) -> None:
    village = await _village(services, 1)
    made = [str((await make_household(services, village)).id) for _ in range(7)]
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"unit": village, "limit": 3}
        if cursor:
            params["after"] = cursor
        page = (await client.get("/api/v1/households", params=params)).json()
        seen += [h["id"] for h in page["items"]]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            assert cursor is None
            break
    assert [i for i in seen if i in made] == made
    assert len(seen) == len(set(seen))
    too_big = await client.get("/api/v1/households", params={"limit": 201})
    assert too_big.status_code == 422
    assert too_big.json()["errors"][0]["path"] == "query.limit"
    forged = await client.get("/api/v1/households", params={"after": "bm90LWEtY3Vyc29y"})
    assert forged.status_code == 400
    assert forged.json()["code"] == "invalid_cursor"


async def test_move_household_moves_members(client: httpx.AsyncClient, services: Services) -> None:
    villages = await current_villages(services)
    household = await make_household(services, villages[0].code)
    member = await client.post(
        f"/api/v1/households/{household.id}/members",
        json={
            "full_name": "Bùi Văn Em",
            "sex": "male",
            "date_of_birth": "1990-01-01",
            "relation_to_head": "head",
        },
    )
    moved = await client.patch(
        f"/api/v1/households/{household.id}", json={"village_code": villages[-1].code}
    )
    assert moved.status_code == 200
    assert moved.json()["unit_path"] == villages[-1].path
    member_now = (await client.get(f"/api/v1/members/{member.json()['id']}")).json()
    assert member_now["unit_path"] == villages[-1].path
    assert member_now["version"] == member.json()["version"] + 1


async def test_unknown_route_and_method_are_problems(client: httpx.AsyncClient) -> None:
    missing = await client.get("/api/v1/nothing")
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"
    assert missing.headers["content-type"] == "application/problem+json"
    wrong = await client.put("/api/v1/households")
    assert wrong.status_code == 405
    assert wrong.json()["code"] == "method_not_allowed"
    assert "x-request-id" in wrong.headers
