"""Sync pull: pages of changes in commit order (upserts, tombstones, drops), scope changes
carried by the cursor, snapshots, digests and the sync log."""

import hashlib
import itertools
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from api.domain.access import Role
from api.domain.households.models import HouseholdUpdate
from api.domain.pagination import encode_cursor
from api.domain.services import Services
from tests.builders import (
    assess,
    make_household,
    make_member,
    ok,
    open_campaign,
    refusal,
    survey,
    token_headers,
)

Json = dict[str, Any]
PULL = "/api/v1/sync/pull"
SNAPSHOT = "/api/v1/sync/snapshot"
DIGEST = "/api/v1/sync/digest"
SESSIONS = "/api/v1/sync/sessions"


async def pull(
    client: httpx.AsyncClient,
    cursor: str | None = None,
    limit: int = 500,
    headers: dict[str, str] | None = None,
) -> Json:
    params: dict[str, str | int] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
    return ok(await client.get(PULL, params=params, headers=headers or {}))


async def held(client: httpx.AsyncClient, unit: str) -> dict[str, int]:
    """Households of the unit already in the shared database: id → version."""
    found: dict[str, int] = {}
    params: dict[str, str | int] = {"unit": unit, "limit": 200}
    while True:
        page = ok(await client.get("/api/v1/households", params=params))
        found |= {h["id"]: h["version"] for h in page["items"]}
        if not page["has_more"]:
            return found
        params["after"] = page["next_cursor"]


async def baseline(
    client: httpx.AsyncClient, services: Services, headers: dict[str, str] | None = None
) -> str:
    """Where the change log ends before a test writes: the database is shared with suites that
    commit for real (Schemathesis), so tests count only what comes after."""
    await services.session.flush()
    _, cursor, _ = await drain(client, None, 1000, headers)
    return cursor


async def drain(
    client: httpx.AsyncClient,
    cursor: str | None = None,
    limit: int = 500,
    headers: dict[str, str] | None = None,
) -> tuple[list[Json], str, list[Json]]:
    """Every change after `cursor`, the cursor where they end, and the pages."""
    changes: list[Json] = []
    pages: list[Json] = []
    while True:
        page = await pull(client, cursor, limit, headers)
        pages.append(page)
        changes += page["changes"]
        cursor = page["cursor"]
        if not page["has_more"]:
            return changes, page["cursor"], pages


def listing(response: httpx.Response) -> list[Json]:
    assert response.status_code == 200, response.text
    found: list[Json] = response.json()
    return found


def summary(changes: list[Json]) -> list[tuple[str, str, str, int]]:
    return [(c["entity"], c["id"], c["op"], c["version"]) for c in changes]


def bucket_hash(versions: dict[str, int]) -> str:
    lines = "".join(f"{i}:{v}\n" for i, v in sorted(versions.items()))
    return hashlib.sha256(lines.encode()).hexdigest()


def covers(area: str, path: str) -> bool:
    return area == "" or path == area or path.startswith(area + "/")


async def test_pages_deliver_every_record_once_at_its_current_version(
    client: httpx.AsyncClient, services: Services
) -> None:
    start = await baseline(client, services)
    households = [await make_household(services, v) for v in ("13384-01", "13384-02", "13393-01")]
    members = [await make_member(services, h.id) for h in households for _ in range(2)]
    expected = {("household", str(h.id)) for h in households} | {
        ("member", str(m.id)) for m in members
    }

    changes, cursor, pages = await drain(client, start, limit=2)
    assert [len(p["changes"]) for p in pages] == [2, 2, 2, 2, 1]
    assert [p["has_more"] for p in pages] == [True] * 4 + [False]
    assert all(p["scope"] is None for p in pages)
    assert len(changes) == len(expected) == 9
    assert {(c["entity"], c["id"]) for c in changes} == expected
    seqs = [c["seq"] for c in changes]
    assert all(a < b for a, b in itertools.pairwise(seqs))
    for c in changes:
        assert (c["op"], c["version"]) == ("upsert", 1)
        path = "households" if c["entity"] == "household" else "members"
        assert c["record"] == ok(await client.get(f"/api/v1/{path}/{c['id']}"))

    # Nothing new: nothing comes, and the cursor stays where it was.
    again = await pull(client, cursor)
    assert (again["changes"], again["has_more"], again["cursor"]) == ([], False, cursor)

    # Two changes to one household and one to a member come as one change each, the latest.
    hid, mid = households[0].id, members[0].id
    ok(await client.patch(f"/api/v1/households/{hid}", json={"address": "Số 8", "version": 1}))
    ok(await client.patch(f"/api/v1/households/{hid}", json={"floor_area_m2": 41, "version": 2}))
    ok(await client.patch(f"/api/v1/members/{mid}", json={"full_name": "Lê Thị Thu"}))
    changes, cursor, _ = await drain(client, cursor)
    assert summary(changes) == [
        ("household", str(hid), "upsert", 3),
        ("member", str(mid), "upsert", 2),
    ]
    household, member = (c["record"] for c in changes)
    assert (household["address"], household["floor_area_m2"], household["version"]) == (
        "Số 8",
        41,
        3,
    )
    assert (member["full_name"], member["version"]) == ("Lê Thị Thu", 2)
    assert (await pull(client, cursor))["changes"] == []


async def test_deletes_come_as_tombstones(client: httpx.AsyncClient, services: Services) -> None:
    h = await make_household(services, "13384-01")
    m1, m2 = [await make_member(services, h.id) for _ in range(2)]
    _, cursor, _ = await drain(client)

    assert (await client.delete(f"/api/v1/members/{m1.id}")).status_code == 204
    changes, cursor, _ = await drain(client, cursor)
    assert summary(changes) == [("member", str(m1.id), "delete", 2)]
    assert changes[0]["record"] is None

    # Created and deleted within one page: only the tombstone.
    m3 = await make_member(services, h.id)
    assert (await client.delete(f"/api/v1/members/{m3.id}")).status_code == 204
    assert (await client.delete(f"/api/v1/households/{h.id}")).status_code == 204
    changes, _, _ = await drain(client, cursor)
    assert summary(changes) == [
        ("member", str(m3.id), "delete", 2),
        ("member", str(m2.id), "delete", 2),
        ("household", str(h.id), "delete", 2),
    ]
    assert all(c["record"] is None for c in changes)


async def test_a_household_leaving_the_area_is_dropped_with_its_members(
    anonymous_app: FastAPI, anonymous_client: httpx.AsyncClient, services: Services
) -> None:
    c = anonymous_client
    here, _ = await token_headers(anonymous_app, services, Role.REVIEWER, ["13384"])
    there, _ = await token_headers(anonymous_app, services, Role.REVIEWER, ["13393"])
    start = await baseline(c, services, here)
    start_there = await baseline(c, services, there)
    moving = await make_household(services, "13384-01")
    member = await make_member(services, moving.id)
    staying = await make_household(services, "13384-02")
    changes, cursor, _ = await drain(c, start, headers=here)
    assert {(x["id"], x["op"]) for x in changes} == {
        (str(moving.id), "upsert"),
        (str(member.id), "upsert"),
        (str(staying.id), "upsert"),
    }

    await services.households.update(moving.id, HouseholdUpdate(village_code="13393-01"))

    changes, cursor, _ = await drain(c, cursor, headers=here)
    assert summary(changes) == [
        ("household", str(moving.id), "drop", 2),
        ("member", str(member.id), "drop", 2),
    ]
    assert all(x["record"] is None for x in changes)
    assert (await pull(c, cursor, headers=here))["changes"] == []
    refusal(await c.get(f"/api/v1/households/{moving.id}", headers=here), 404, "not_found")

    # The new area's reviewer gets the records (members moved first), never a drop.
    arrived, _, _ = await drain(c, start_there, headers=there)
    assert summary(arrived) == [
        ("member", str(member.id), "upsert", 2),
        ("household", str(moving.id), "upsert", 2),
    ]
    assert arrived[1]["record"]["unit_path"].startswith("37/13393/")
    assert arrived[0]["record"]["unit_path"] == arrived[1]["record"]["unit_path"]


async def test_a_cursor_presented_by_a_reassigned_user_says_what_to_drop_and_fetch(
    anonymous_app: FastAPI, anonymous_client: httpx.AsyncClient, services: Services
) -> None:
    c, app = anonymous_client, anonymous_app
    first, _ = await token_headers(app, services, Role.REVIEWER, ["13384"])
    second, _ = await token_headers(app, services, Role.REVIEWER, ["13393"])
    both, _ = await token_headers(app, services, Role.REVIEWER, ["13384", "13393"])
    village, _ = await token_headers(app, services, Role.REVIEWER, ["13384-01"])
    before = await make_household(services, "13393-01")
    _, issued, _ = await drain(c, headers=first)
    after = await make_household(services, "13393-01")

    page = await pull(c, issued, headers=second)
    assert page["scope"] == {"dropped_areas": ["37/13384"], "added_areas": ["37/13393"]}
    # Changes continue from the cursor; what came before is for the snapshot of added areas.
    assert summary(page["changes"]) == [("household", str(after.id), "upsert", 1)]
    assert str(before.id) not in {x["id"] for x in page["changes"]}
    assert (await pull(c, page["cursor"], headers=second))["scope"] is None

    widened = await pull(c, issued, headers=both)
    assert widened["scope"] == {"dropped_areas": [], "added_areas": ["37/13393"]}
    assert (await pull(c, issued, headers=first))["scope"] is None
    _, village_cursor, _ = await drain(c, headers=village)
    commune = await pull(c, village_cursor, headers=first)
    assert commune["scope"] == {"dropped_areas": [], "added_areas": ["37/13384"]}


async def test_narrowing_the_area_does_not_leave_the_device_without_its_records(
    anonymous_app: FastAPI, anonymous_client: httpx.AsyncClient, services: Services
) -> None:
    """A reviewer of commune 13384 is narrowed to its village 13384-01. The device must end up
    holding the village: it drops what the scope says, then snapshots what it says to add."""
    c, app = anonymous_client, anonymous_app
    commune, _ = await token_headers(app, services, Role.REVIEWER, ["13384"])
    village, _ = await token_headers(app, services, Role.REVIEWER, ["13384-01"])
    await make_household(services, "13384-01")
    _, issued, _ = await drain(c, headers=commune)

    scope = (await pull(c, issued, headers=village))["scope"]
    assert scope is not None
    kept = "37/13384/13384-01"
    dropped = any(covers(area, kept) for area in scope["dropped_areas"])
    fetched = any(covers(area, kept) for area in scope["added_areas"])
    assert fetched or not dropped, f"the village is dropped and never fetched again: {scope}"


async def test_a_snapshot_in_pages_then_pull_from_its_cursor(
    client: httpx.AsyncClient, services: Services
) -> None:
    before = await held(client, "13384")
    campaign = await open_campaign(client, 2022, "13384")
    assessed = await assess(client, services, campaign, survey(1_000_000))
    villages = ("13384-01", "13384-02", "13384-01", "13384-02")
    households = [await make_household(services, v) for v in villages]
    members = {
        h.id: [await make_member(services, h.id) for _ in range(i)]
        for i, h in enumerate(households)
    }
    elsewhere = await make_household(services, "13393-01")
    gone = await make_household(services, "13384-01")
    assert (await client.delete(f"/api/v1/households/{gone.id}")).status_code == 204

    pages: list[Json] = []
    params: dict[str, str | int] = {"unit": "13384", "limit": 2}
    late = None
    while True:
        page = ok(await client.get(SNAPSHOT, params=params))
        pages.append(page)
        if late is None:  # created once the snapshot has started
            late = await make_household(services, "13384-02")
        if not page["has_more"]:
            assert page["next"] is None
            break
        params["after"] = page["next"]
    assert all(len(p["households"]) <= 2 for p in pages)
    assert len({p["cursor"] for p in pages}) == 1
    assert campaign["id"] in [x["id"] for x in pages[0]["campaigns"]]
    assert all(p["campaigns"] == [] for p in pages[1:])

    got = [h for p in pages for h in p["households"]]
    ids = [h["household"]["id"] for h in got]
    wanted = {str(h.id) for h in households} | {assessed["household_id"]}
    assert wanted <= set(ids) <= wanted | {str(late.id)} | set(before)
    assert len(ids) == len(set(ids))
    assert not {str(elsewhere.id), str(gone.id)} & set(ids)
    for entry in got:
        hid = entry["household"]["id"]
        assert entry["household"] == ok(await client.get(f"/api/v1/households/{hid}"))
        # A phone gets former members too (who left, who died): the household's history.
        listed = listing(
            await client.get(f"/api/v1/households/{hid}/members", params={"include_former": "true"})
        )
        assert sorted(entry["members"], key=lambda m: str(m["id"])) == sorted(
            listed, key=lambda m: str(m["id"])
        )
    by_id = {h["household"]["id"]: h for h in got}
    for h in households:
        assert len(by_id[str(h.id)]["members"]) == len(members[h.id])
        assert by_id[str(h.id)]["assessments"] == []
    (assessment,) = by_id[assessed["household_id"]]["assessments"]
    assert (assessment["id"], assessment["state"]) == (assessed["id"], "draft")

    changes, _, _ = await drain(client, pages[0]["cursor"])
    assert summary(changes) == [("household", str(late.id), "upsert", 1)]


async def test_digest_buckets_count_and_hash_what_the_unit_holds(
    client: httpx.AsyncClient, services: Services
) -> None:
    before = await held(client, "13384")
    count = ok(await client.get(DIGEST, params={"unit": "13384", "entity": "member"}))
    members_before = sum(b["count"] for b in count["buckets"])
    villages = ["13384-01", "13384-02"] * 4
    households = [await make_household(services, v) for v in villages]
    await make_household(services, "13393-01")
    gone = await make_household(services, "13384-01")
    assert (await client.delete(f"/api/v1/households/{gone.id}")).status_code == 204
    for h in households[:3]:
        await make_member(services, h.id)

    digest = ok(await client.get(DIGEST, params={"unit": "13384"}))
    assert (digest["entity"], digest["unit"], digest["versions"]) == ("household", "13384", None)
    assert [b["bucket"] for b in digest["buckets"]] == list("0123456789abcdef")
    assert sum(b["count"] for b in digest["buckets"]) == len(households) + len(before)
    mine = {**before, **{str(h.id): 1 for h in households}}
    for b in digest["buckets"]:
        one = ok(await client.get(DIGEST, params={"unit": "13384", "bucket": b["bucket"]}))
        assert one["versions"] == {i: v for i, v in mine.items() if i[0] == b["bucket"]}
        assert len(one["versions"]) == b["count"]
        assert b["hash"] == bucket_hash(one["versions"])
    members = ok(await client.get(DIGEST, params={"unit": "13384", "entity": "member"}))
    assert sum(b["count"] for b in members["buckets"]) == members_before + 3

    changed = households[5].id
    ok(await client.patch(f"/api/v1/households/{changed}", json={"address": "Số 99"}))
    later = ok(await client.get(DIGEST, params={"unit": "13384"}))
    differ = [
        b["bucket"]
        for b, a in zip(digest["buckets"], later["buckets"], strict=True)
        if b["hash"] != a["hash"]
    ]
    assert differ == [str(changed)[0]]
    assert [b["count"] for b in later["buckets"]] == [b["count"] for b in digest["buckets"]]
    one = ok(await client.get(DIGEST, params={"unit": "13384", "bucket": str(changed)[0]}))
    assert one["versions"][str(changed)] == 2
    refusal(
        await client.get(DIGEST, params={"unit": "13384", "bucket": "g"}),
        422,
        "validation_failed",
    )


async def test_the_sync_log_records_pushes_and_pulls_for_the_area(
    anonymous_app: FastAPI, anonymous_client: httpx.AsyncClient, services: Services
) -> None:
    c, app = anonymous_client, anonymous_app
    reviewer, subject = await token_headers(app, services, Role.REVIEWER, ["13384"])
    officer, _ = await token_headers(app, services, Role.COMMUNE_OFFICER, ["13384"])
    neighbour, _ = await token_headers(app, services, Role.COMMUNE_OFFICER, ["13393"])
    colleague, _ = await token_headers(app, services, Role.REVIEWER, ["13384"])
    start = await baseline(c, services, colleague)  # the same area, another user's log
    device = {**reviewer, "X-Device-Id": "phone-1", "X-App-Version": "2.3.0"}
    hid = str(uuid.uuid4())
    body = {
        "batch_id": f"b-{uuid.uuid4()}",
        "items": [
            {
                "op_id": "op-1",
                "op": "create",
                "entity": "household",
                "id": hid,
                "data": {"village_code": "13384-01", "address": "Số 5"},
            }
        ],
    }
    pushed = await c.post("/api/v1/sync/push", json=body, headers=device)
    assert ok(pushed)["counts"] == {"applied": 1}
    pulled = await c.get(PULL, params={"cursor": start}, headers=device)
    page = ok(pulled)
    assert summary(page["changes"]) == [("household", hid, "upsert", 1)]

    log = listing(await c.get(SESSIONS, params={"actor": subject}, headers=officer))
    assert [e["kind"] for e in log] == ["pull", "push"]
    for e in log:
        assert (e["actor"], e["device_id"], e["app_version"]) == (subject, "phone-1", "2.3.0")
        assert (e["unit_path"], e["status_code"]) == ("37/13384", 200)
        assert e["bytes_out"] > 0
    pull_entry, push_entry = log
    assert pull_entry["counts"] == {"changes": 1}
    assert (pull_entry["cursor_in"], pull_entry["cursor_out"]) == (start, page["cursor"])
    assert pull_entry["bytes_out"] == len(pulled.content)
    assert push_entry["counts"] == {"applied": 1}
    assert push_entry["bytes_in"] == len(pushed.request.content)
    by_device = listing(await c.get(SESSIONS, params={"device_id": "phone-1"}, headers=officer))
    assert [e["id"] for e in by_device] == [e["id"] for e in log]

    refusal(await c.get(SESSIONS, headers=reviewer), 403, "forbidden")
    assert listing(await c.get(SESSIONS, params={"actor": subject}, headers=neighbour)) == []
    assert listing(await c.get(SESSIONS, params={"device_id": "phone-1"}, headers=neighbour)) == []


async def test_cursors_not_issued_by_the_service_are_refused(client: httpx.AsyncClient) -> None:
    feed = ok(await client.get("/api/v1/changes"))["next_cursor"]
    for bad in (
        "not-a-cursor",
        feed,
        encode_cursor("pull", [-1, [""]]),
        encode_cursor("pull", [True, [""]]),
        encode_cursor("pull", [2**63, [""]]),
        encode_cursor("pull", [0, "37"]),
        encode_cursor("pull", [0]),
    ):
        refusal(await client.get(PULL, params={"cursor": bad}), 400, "invalid_cursor")
    for bad in ("not-a-cursor", encode_cursor("snap", [0, "13384", "garbage"])):
        response = await client.get(SNAPSHOT, params={"unit": "13384", "after": bad})
        refusal(response, 400, "invalid_cursor")


@pytest.mark.parametrize("forgery", ["other_unit", "negative_seq"])
async def test_a_snapshot_refuses_a_page_cursor_it_did_not_issue_for_that_unit(
    client: httpx.AsyncClient, services: Services, forgery: str
) -> None:
    """The `next` cursor carries the unit and the change-log position; the snapshot must not
    continue another unit from it, nor hand out a pull cursor that pull refuses."""
    for village in ("13393-01", "13393-01", "13384-01", "13384-01"):
        await make_household(services, village)
    first = ok(await client.get(SNAPSHOT, params={"unit": "13384", "limit": 1}))
    if forgery == "other_unit":
        params = {"unit": "13393", "after": first["next"]}
    else:
        params = {"unit": "13384", "after": encode_cursor("snap", [-1, "13384", ""])}
    refusal(await client.get(SNAPSHOT, params=params), 400, "invalid_cursor")


async def test_the_conflict_queue_withholds_personal_data_from_supervisors(
    anonymous_app: FastAPI, anonymous_client: httpx.AsyncClient, services: Services
) -> None:
    c = anonymous_client
    reviewer, _ = await token_headers(anonymous_app, services, Role.REVIEWER, ["13384"])
    officer, _ = await token_headers(anonymous_app, services, Role.COMMUNE_OFFICER, ["13384"])
    front, _ = await token_headers(anonymous_app, services, Role.SUPERVISOR, ["13384"])
    household = await make_household(services, "13384-01", phone="0911000111")
    await services.households.update(household.id, HouseholdUpdate(phone="0922000222"))
    stale = {
        "op_id": f"op-{uuid.uuid4()}",
        "op": "update",
        "entity": "household",
        "id": str(household.id),
        "base_version": 1,
        "data": {"phone": "0933000333", "address": "Số 4"},
    }
    pushed = ok(
        await c.post(
            "/api/v1/sync/push", json={"batch_id": "pd", "items": [stale]}, headers=reviewer
        )
    )
    assert pushed["items"][0]["outcome"] == "conflict"
    seen = {}
    for who, headers in (("officer", officer), ("front", front)):
        (item,) = [
            i
            for i in listing(await c.get("/api/v1/sync/items", headers=headers))
            if i["entity_id"] == str(household.id)
        ]
        seen[who] = item
    assert seen["officer"]["payload"]["phone"] == "0933000333"
    assert seen["officer"]["result"]["conflicts"]["phone"] == {
        "mine": "0933000333",
        "theirs": "0922000222",
    }
    assert seen["front"]["payload"] == {"phone": None, "address": "Số 4"}
    assert seen["front"]["result"]["conflicts"]["phone"] == {"mine": None, "theirs": None}
