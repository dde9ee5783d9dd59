"""The GraphQL door (/graphql): units, households and members, every mutation, and the error
codes clients rely on. Unit expectations are derived from the reference file itself."""

import uuid
from datetime import date
from typing import Any

import httpx
import pytest

from api.domain.households.member_models import LeaveReason, MemberLeave, Relation, Sex
from api.domain.households.models import Household, PovertyStatus
from api.domain.services import Services
from api.domain.units.loader import UnitFile, UnitRecord, read_file
from tests.builders import current_villages, make_household, make_member, unique_personal_id

DATA: UnitFile = read_file()
UNITS: dict[str, UnitRecord] = {u.code: u for u in DATA.units}
LEVELS = ("province", "district", "commune", "village")
BEFORE = date(2025, 6, 15)  # the hierarchy before the 1 July 2025 reorganisation
TODAY = date.today()


# --- the reference file, read independently of the service --------------------------------


def exists_on(code: str, day: date) -> bool:
    unit = UNITS[code]
    return unit.valid_from <= day and (unit.valid_to is None or day <= unit.valid_to)


def children_on(code: str, day: date) -> list[str]:
    return sorted(
        u.code
        for u in DATA.units
        if exists_on(u.code, day)
        and any(
            p.code == code and p.valid_from <= day and (p.valid_to is None or day <= p.valid_to)
            for p in u.parents
        )
    )


def subtree_on(code: str, day: date) -> list[str]:
    below: list[str] = []
    frontier = [code]
    while frontier:
        frontier = [child for parent in frontier for child in children_on(parent, day)]
        below += frontier
    return [code, *sorted(below, key=lambda c: (LEVELS.index(UNITS[c].level), c))]


def latest_parent(code: str) -> str | None:
    parents = UNITS[code].parents
    return max(parents, key=lambda p: p.valid_from).code if parents else None


def path_of(code: str) -> str:
    parent = latest_parent(code)
    return code if parent is None else f"{path_of(parent)}/{code}"


def holders(code: str, day: date) -> list[str]:
    """The units holding `code`'s territory on `day`, following mergers."""
    if exists_on(code, day):
        return [code]
    found: set[str] = set()
    for s in DATA.successions:
        if s.predecessor == code and UNITS[s.successor].valid_from <= day:
            found.update(holders(s.successor, day))
    return sorted(found)


def merged_commune() -> str:
    """A commune that ended on 2025-06-30, merged into one that still exists."""
    return next(
        s.predecessor
        for s in DATA.successions
        if UNITS[s.predecessor].level == "commune"
        and UNITS[s.predecessor].valid_to == date(2025, 6, 30)
        and UNITS[s.successor].valid_to is None
        and children_on(s.predecessor, BEFORE)
    )


# --- transport --------------------------------------------------------------------------------


async def run(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    response = await client.post("/graphql", json={"query": query, "variables": variables or {}})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def data(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    body = await run(client, query, variables)
    assert "errors" not in body, body["errors"]
    result: dict[str, Any] = body["data"]
    return result


async def error(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The single error of a request whose root field failed (so `data` is null)."""
    body = await run(client, query, variables)
    assert body.get("data") is None, body
    assert len(body["errors"]) == 1, body["errors"]
    found: dict[str, Any] = body["errors"][0]
    return found


HOUSEHOLD = """
  id villageCode address phone floorAreaM2 waterSource informationAssets unitPath
  headMemberId povertyStatus version createdAt updatedAt
"""
MEMBER = """
  id householdId fullName sex dateOfBirth personalId relationToHead membershipStatus
  joinedOn leftOn version warnings
"""
GET_HOUSEHOLD = f"query($id: UUID!) {{ household(id: $id) {{ {HOUSEHOLD} }} }}"
GET_MEMBER = f"query($id: UUID!) {{ member(id: $id) {{ {MEMBER} }} }}"
HOUSEHOLDS = """
query($filter: HouseholdFilterInput, $first: Int!, $after: String) {
  households(filter: $filter, first: $first, after: $after) {
    edges { cursor node { id villageCode unitPath address } }
    pageInfo { hasNextPage endCursor }
  }
}"""
CREATE_HOUSEHOLD = f"""
mutation($input: HouseholdInput!, $key: String) {{
  createHousehold(input: $input, idempotencyKey: $key) {{ {HOUSEHOLD} }}
}}"""
UPDATE_HOUSEHOLD = f"""
mutation($id: UUID!, $input: HouseholdPatch!) {{
  updateHousehold(id: $id, input: $input) {{ {HOUSEHOLD} }}
}}"""
ADD_MEMBER = f"""
mutation($household: UUID!, $input: MemberInput!, $key: String) {{
  addMember(householdId: $household, input: $input, idempotencyKey: $key) {{ {MEMBER} }}
}}"""


async def list_households(
    client: httpx.AsyncClient, flt: dict[str, Any], page_size: int = 50
) -> list[dict[str, Any]]:
    """Every household the filter returns, following cursors."""
    found: list[dict[str, Any]] = []
    after = None
    for _page in range(200):
        page = (
            await data(client, HOUSEHOLDS, {"filter": flt, "first": page_size, "after": after})
        )["households"]
        assert len(page["edges"]) <= page_size
        found += [e["node"] for e in page["edges"]]
        info = page["pageInfo"]
        if not info["hasNextPage"]:
            assert info["endCursor"] is None
            return found
        assert len(page["edges"]) == page_size
        assert info["endCursor"] == page["edges"][-1]["cursor"]
        after = info["endCursor"]
    raise AssertionError("the household list never ended")


def ids(nodes: list[dict[str, Any]]) -> list[str]:
    return [n["id"] for n in nodes]


def token() -> str:
    """A word no other record's name contains: it makes a name search exact."""
    return "Zq" + uuid.uuid4().hex[:10]


# --- administrative units ----------------------------------------------------------------------

UNITS_PAGE = """
query($first: Int!, $after: String, $level: UnitLevel) {
  units(first: $first, after: $after, level: $level) {
    edges { cursor node { code name level unitType validFrom validTo parentCode path } }
    nodes { code }
    pageInfo { hasNextPage endCursor }
  }
}"""


async def test_units_connection_pages_with_after(client: httpx.AsyncClient) -> None:
    seen: list[dict[str, Any]] = []
    cursors: list[str] = []
    after = None
    pages = 0
    while True:
        page = (await data(client, UNITS_PAGE, {"first": 20, "after": after}))["units"]
        pages += 1
        edges = page["edges"]
        assert [n["code"] for n in page["nodes"]] == [e["node"]["code"] for e in edges]
        seen += [e["node"] for e in edges]
        cursors += [e["cursor"] for e in edges]
        info = page["pageInfo"]
        if not info["hasNextPage"]:
            assert info["endCursor"] is None
            break
        assert len(edges) == 20
        assert info["endCursor"] == edges[-1]["cursor"]
        after = info["endCursor"]
    assert [u["code"] for u in seen] == sorted(UNITS)
    assert pages == -(-len(UNITS) // 20)
    assert len(set(cursors)) == len(cursors)
    by_code = {u["code"]: u for u in seen}
    for code, unit in UNITS.items():
        assert by_code[code] == {
            "code": code,
            "name": unit.name,
            "level": unit.level.name,
            "unitType": unit.unit_type.name,
            "validFrom": unit.valid_from.isoformat(),
            "validTo": unit.valid_to.isoformat() if unit.valid_to else None,
            "parentCode": latest_parent(code),
            "path": path_of(code),
        }

    # Any edge's cursor resumes right after that edge.
    resumed = (await data(client, UNITS_PAGE, {"first": 3, "after": cursors[4]}))["units"]
    assert [n["code"] for n in resumed["nodes"]] == [u["code"] for u in seen[5:8]]
    assert resumed["pageInfo"] == {"hasNextPage": True, "endCursor": cursors[7]}

    villages = (await data(client, UNITS_PAGE, {"first": 200, "level": "VILLAGE"}))["units"]
    assert [n["code"] for n in villages["nodes"]] == sorted(
        u.code for u in DATA.units if u.level == "village"
    )
    assert villages["pageInfo"] == {"hasNextPage": False, "endCursor": None}


UNIT = """
query($code: String!, $day: Date!) {
  unit(code: $code) {
    code name level validTo parentCode path urban
    parent { code name parent { code } }
    before: children(asOf: $day) { code level parentCode }
    today: children { code }
    successors { code validTo }
    successorsThen: successors(asOf: $day) { code }
    lineage { successors { code kind effective } parents { parentCode validFrom validTo } }
  }
}"""


async def test_unit_with_parent_children_and_successors(client: httpx.AsyncClient) -> None:
    old = merged_commune()
    unit = (await data(client, UNIT, {"code": old, "day": BEFORE.isoformat()}))["unit"]
    record = UNITS[old]
    parent = latest_parent(old)
    assert parent is not None
    assert unit["code"] == old
    assert unit["name"] == record.name
    assert unit["level"] == "COMMUNE"
    assert unit["validTo"] == "2025-06-30"
    assert unit["parentCode"] == parent
    assert unit["path"] == path_of(old)
    assert unit["parent"] == {
        "code": parent,
        "name": UNITS[parent].name,
        "parent": None if latest_parent(parent) is None else {"code": latest_parent(parent)},
    }
    villages_then = children_on(old, BEFORE)
    assert villages_then
    assert [c["code"] for c in unit["before"]] == villages_then
    assert {c["level"] for c in unit["before"]} == {"VILLAGE"}
    assert unit["today"] == []  # the commune no longer exists, so nothing is under it
    expected_holders = holders(old, TODAY)
    assert expected_holders
    assert [s["code"] for s in unit["successors"]] == expected_holders
    assert all(s["validTo"] is None for s in unit["successors"])
    assert unit["successorsThen"] == [{"code": old}]
    assert unit["lineage"]["successors"] == [
        {"code": s.successor, "kind": s.kind.name, "effective": s.effective.isoformat()}
        for s in sorted(DATA.successions, key=lambda s: s.successor)
        if s.predecessor == old
    ]

    # The commune that holds the territory today: its own successor, with villages under it.
    [successor] = [s for s in DATA.successions if s.predecessor == old]
    current = (await data(client, UNIT, {"code": successor.successor, "day": BEFORE.isoformat()}))[
        "unit"
    ]
    assert current["successors"] == [{"code": successor.successor, "validTo": None}]
    assert [c["code"] for c in current["today"]] == children_on(successor.successor, TODAY)
    assert set(villages_then) <= {c["code"] for c in current["today"]}
    assert current["parent"]["code"] == latest_parent(successor.successor)


SUBTREE = """
query($code: String!, $day: Date) {
  unitSubtree(code: $code, asOf: $day) { code level parentCode }
}"""


async def test_unit_subtree_on_a_day(client: httpx.AsyncClient) -> None:
    district = next(u.code for u in DATA.units if u.level == "district")
    then = await data(client, SUBTREE, {"code": district, "day": BEFORE.isoformat()})
    assert [u["code"] for u in then["unitSubtree"]] == subtree_on(district, BEFORE)
    assert {u["level"] for u in then["unitSubtree"]} == {"DISTRICT", "COMMUNE", "VILLAGE"}

    province = next(u.code for u in DATA.units if u.level == "province" and u.valid_to is None)
    now = await data(client, SUBTREE, {"code": province, "day": None})
    assert [u["code"] for u in now["unitSubtree"]] == subtree_on(province, TODAY)
    assert district not in {u["code"] for u in now["unitSubtree"]}


# --- households and members: queries ----------------------------------------------------------


async def test_households_filtered_by_unit_subtree(
    client: httpx.AsyncClient, services: Services
) -> None:
    old = merged_commune()
    old_villages = children_on(old, BEFORE)
    commune = latest_parent(old_villages[0])  # the commune those villages belong to today
    assert commune is not None
    newcomer = next(v for v in children_on(commune, TODAY) if v not in old_villages)
    elsewhere = next(v.code for v in await current_villages(services) if v.parent_code != commune)
    in_old = await make_household(services, old_villages[0])
    in_new = await make_household(services, newcomer)
    away = await make_household(services, elsewhere)
    mine = {str(h.id) for h in (in_old, in_new, away)}

    async def found(unit: str) -> list[dict[str, Any]]:
        return await list_households(client, {"unit": unit})

    by_commune = await found(commune)
    assert [i for i in ids(by_commune) if i in mine] == [str(in_old.id), str(in_new.id)]
    assert all(h["unitPath"].startswith(path_of(commune) + "/") for h in by_commune)

    by_village = await found(newcomer)
    assert [i for i in ids(by_village) if i in mine] == [str(in_new.id)]
    assert {h["villageCode"] for h in by_village} == {newcomer}

    # A unit that no longer exists: the villages that were under it on its last day.
    by_old = await found(old)
    assert [i for i in ids(by_old) if i in mine] == [str(in_old.id)]
    assert {h["villageCode"] for h in by_old} <= set(old_villages)

    province = path_of(commune).split("/")[0]
    everything = await found(province)
    assert [i for i in ids(everything) if i in mine] == [
        str(in_old.id),
        str(in_new.id),
        str(away.id),
    ]

    missing = await error(client, HOUSEHOLDS, {"filter": {"unit": "99999"}, "first": 10})
    assert missing["extensions"]["code"] == "not_found"


async def test_households_search_with_and_without_diacritics(
    client: httpx.AsyncClient, services: Services
) -> None:
    word = token()
    first = await make_household(services)
    second = await make_household(services)
    pid = unique_personal_id(date(1960, 1, 1), Sex.FEMALE)
    await make_member(
        services,
        first.id,
        full_name=f"Đặng Thị Hường {word}",
        sex=Sex.FEMALE,
        date_of_birth=date(1960, 1, 1),
        personal_id=pid,
    )
    await make_member(services, second.id, full_name=f"Đặng Thị Hương {word}", personal_id=None)

    async def found(q: str) -> list[str]:
        return ids(await list_households(client, {"q": q}))

    both = [str(first.id), str(second.id)]
    assert await found(f"dang thi huong {word}") == both
    assert await found(f"DANG   THI HUONG {word.upper()}") == both
    assert await found(f"Hường {word}") == [str(first.id)]
    assert await found(f"HƯƠNG {word}") == [str(second.id)]
    assert await found(pid) == [str(first.id)]
    assert await found(f"Hưởng {word}") == []
    assert await found("100%_" + word) == []


async def test_households_filtered_by_status_and_paged(
    client: httpx.AsyncClient, services: Services
) -> None:
    word = token()
    statuses = [
        PovertyStatus.POOR,
        PovertyStatus.NEAR_POOR,
        None,
        PovertyStatus.POOR,
        PovertyStatus.NOT_POOR,
    ]
    made: list[tuple[str, PovertyStatus | None]] = []
    for status in statuses:
        household = await make_household(services)
        await make_member(services, household.id, full_name=f"Lò Văn {word}")
        # Statuses come from recognising a review, which has no API yet: set them directly.
        row = await services.session.get(Household, household.id)
        assert row is not None
        row.poverty_status = status
        made.append((str(household.id), status))
    await services.session.flush()

    everyone = await list_households(client, {"q": word}, page_size=2)
    assert ids(everyone) == [i for i, _ in made]

    poor = await list_households(client, {"q": word, "status": ["POOR", "NEAR_POOR"]})
    wanted = {PovertyStatus.POOR, PovertyStatus.NEAR_POOR}
    assert ids(poor) == [i for i, s in made if s in wanted]
    statuses_seen = await data(
        client,
        "query($f: HouseholdFilterInput) { households(filter: $f) { nodes { povertyStatus } } }",
        {"f": {"q": word, "status": ["NOT_POOR"]}},
    )
    assert statuses_seen["households"]["nodes"] == [{"povertyStatus": "NOT_POOR"}]


HOUSEHOLD_TREE = f"""
query($id: UUID!) {{
  household(id: $id) {{
    {HOUSEHOLD}
    members {{ {MEMBER} }}
    everyone: members(includeFormer: true) {{ id membershipStatus }}
    village {{ code name level parentCode }}
    commune {{ code name level }}
    membershipEvents {{ kind memberId occurredOn note actor }}
  }}
}}"""


async def test_household_with_members_village_commune_and_history(
    client: httpx.AsyncClient, services: Services
) -> None:
    village = (await current_villages(services))[-1]
    assert village.parent_code is not None
    household = await make_household(
        services, village.code, address="Xóm Chùa, số 3", floor_area_m2=28.5
    )
    head = await make_member(
        services,
        household.id,
        full_name="Hoàng Văn Chiến",
        relation_to_head=Relation.HEAD,
        joined_on=date(2001, 1, 1),
        date_of_birth=date(1975, 2, 3),
    )
    child = await make_member(
        services,
        household.id,
        full_name="Hoàng Thị Mai",
        sex=Sex.FEMALE,
        joined_on=date(2005, 1, 1),
        date_of_birth=date(2005, 1, 1),
    )
    moved = await make_member(services, household.id, joined_on=date(2010, 1, 1))
    await services.members.leave(
        moved.id, MemberLeave(reason=LeaveReason.MOVED_OUT, occurred_on=date(2020, 1, 1))
    )

    found = (await data(client, HOUSEHOLD_TREE, {"id": str(household.id)}))["household"]
    assert found["id"] == str(household.id)
    assert found["address"] == "Xóm Chùa, số 3"
    assert found["floorAreaM2"] == 28.5
    assert found["unitPath"] == village.path
    assert found["headMemberId"] == str(head.id)
    assert found["version"] == 2  # naming the head bumped it
    assert [m["id"] for m in found["members"]] == [str(head.id), str(child.id)]
    assert found["members"][1] == {
        "id": str(child.id),
        "householdId": str(household.id),
        "fullName": "Hoàng Thị Mai",
        "sex": "FEMALE",
        "dateOfBirth": "2005-01-01",
        "personalId": child.personal_id,
        "relationToHead": "CHILD",
        "membershipStatus": "ACTIVE",
        "joinedOn": "2005-01-01",
        "leftOn": None,
        "version": 1,
        "warnings": [],
    }
    assert found["everyone"] == [
        {"id": str(head.id), "membershipStatus": "ACTIVE"},
        {"id": str(child.id), "membershipStatus": "ACTIVE"},
        {"id": str(moved.id), "membershipStatus": "LEFT"},
    ]
    assert found["village"] == {
        "code": village.code,
        "name": village.name,
        "level": "VILLAGE",
        "parentCode": village.parent_code,
    }
    assert found["commune"] == {
        "code": village.parent_code,
        "name": UNITS[village.parent_code].name,
        "level": "COMMUNE",
    }
    assert [(e["kind"], e["memberId"], e["occurredOn"]) for e in found["membershipEvents"]] == [
        ("JOINED", str(head.id), "2001-01-01"),
        ("BECAME_HEAD", str(head.id), "2001-01-01"),
        ("JOINED", str(child.id), "2005-01-01"),
        ("JOINED", str(moved.id), "2010-01-01"),
        ("LEFT", str(moved.id), "2020-01-01"),
    ]
    assert found["membershipEvents"][-1]["note"] == "moved_out"
    assert {e["actor"] for e in found["membershipEvents"]} == {"system"}


async def test_member_resolves_its_household(client: httpx.AsyncClient, services: Services) -> None:
    household = await make_household(services, address="Đội 4")
    member = await make_member(services, household.id, full_name="Vũ Văn Hải")
    query = """
    query($id: UUID!) {
      member(id: $id) {
        id fullName
        household { id address village { code } members { id fullName } }
      }
    }"""
    found = (await data(client, query, {"id": str(member.id)}))["member"]
    assert found == {
        "id": str(member.id),
        "fullName": "Vũ Văn Hải",
        "household": {
            "id": str(household.id),
            "address": "Đội 4",
            "village": {"code": household.village_code},
            "members": [{"id": str(member.id), "fullName": "Vũ Văn Hải"}],
        },
    }
    plain = (await data(client, GET_MEMBER, {"id": str(member.id)}))["member"]
    assert plain["personalId"] == member.personal_id
    assert plain["dateOfBirth"] == member.date_of_birth.isoformat()


# --- mutations ---------------------------------------------------------------------------------


async def test_create_household_and_replay_with_idempotency_key(
    client: httpx.AsyncClient, services: Services
) -> None:
    village = (await current_villages(services))[0]
    address = f"Thôn Đông, số {token()}"
    payload = {
        "villageCode": village.code,
        "address": address,
        "floorAreaM2": 32.5,
        "informationAssets": ["TV", "PHONE", "TV"],
        "waterSource": "PIPED",
    }
    key = "retry-" + uuid.uuid4().hex
    first = (await data(client, CREATE_HOUSEHOLD, {"input": payload, "key": key}))[
        "createHousehold"
    ]
    assert first["villageCode"] == village.code
    assert first["address"] == address
    assert first["floorAreaM2"] == 32.5
    assert first["waterSource"] == "PIPED"
    assert first["informationAssets"] == ["PHONE", "TV"]
    assert first["unitPath"] == village.path
    assert first["headMemberId"] is None
    assert first["povertyStatus"] is None
    assert first["version"] == 1
    uuid.UUID(first["id"])

    again = (await data(client, CREATE_HOUSEHOLD, {"input": payload, "key": key}))[
        "createHousehold"
    ]
    assert again == first
    in_village = await list_households(client, {"unit": village.code}, page_size=200)
    assert [h["id"] for h in in_village if h["address"] == address] == [first["id"]]
    stored = (await data(client, GET_HOUSEHOLD, {"id": first["id"]}))["household"]
    assert stored == first

    reused = await error(
        client, CREATE_HOUSEHOLD, {"input": {**payload, "address": "Khác"}, "key": key}
    )
    assert reused["extensions"]["code"] == "idempotency_key_reused"
    assert reused["path"] == ["createHousehold"]

    chosen = str(uuid.uuid4())
    offline = (
        await data(client, CREATE_HOUSEHOLD, {"input": {**payload, "id": chosen}, "key": None})
    )["createHousehold"]
    assert offline["id"] == chosen
    duplicate = await error(client, CREATE_HOUSEHOLD, {"input": {**payload, "id": chosen}})
    assert duplicate["extensions"]["code"] == "conflict"
    assert duplicate["extensions"]["existing_id"] == chosen


async def test_update_household_and_stale_version_changes_nothing(
    client: httpx.AsyncClient, services: Services
) -> None:
    household = await make_household(services, address="Cũ", phone="0912345678")
    hid = str(household.id)
    updated = (
        await data(client, UPDATE_HOUSEHOLD, {"id": hid, "input": {"address": "Mới", "version": 1}})
    )["updateHousehold"]
    assert (updated["address"], updated["version"], updated["phone"]) == ("Mới", 2, "0912345678")

    stale = await error(
        client, UPDATE_HOUSEHOLD, {"id": hid, "input": {"address": "Khác", "version": 1}}
    )
    assert stale["extensions"]["code"] == "version_conflict"
    assert stale["extensions"]["current_version"] == 2
    assert stale["path"] == ["updateHousehold"]
    current = (await data(client, GET_HOUSEHOLD, {"id": hid}))["household"]
    assert current == updated

    # Fields left out stay as they are; a nullable field sent as null is cleared.
    patched = (
        await data(
            client,
            UPDATE_HOUSEHOLD,
            {"id": hid, "input": {"floorAreaM2": 40, "phone": None, "latrineType": "BIOGAS"}},
        )
    )["updateHousehold"]
    assert (patched["address"], patched["floorAreaM2"], patched["phone"]) == ("Mới", 40, None)
    assert patched["version"] == 3


async def test_delete_household(client: httpx.AsyncClient, services: Services) -> None:
    household = await make_household(services)
    member = await make_member(services, household.id)
    hid = str(household.id)
    delete = (
        "mutation($id: UUID!, $v: Int) { deleteHousehold(id: $id, expectedVersion: $v) { id } }"
    )

    stale = await error(client, delete, {"id": hid, "v": 7})
    assert stale["extensions"]["code"] == "version_conflict"
    assert stale["extensions"]["current_version"] == 1
    assert (await data(client, GET_HOUSEHOLD, {"id": hid}))["household"]["version"] == 1

    assert (await data(client, delete, {"id": hid, "v": 1})) == {"deleteHousehold": {"id": hid}}
    gone = await error(client, GET_HOUSEHOLD, {"id": hid})
    assert gone["extensions"]["code"] == "not_found"
    member_gone = await error(client, GET_MEMBER, {"id": str(member.id)})
    assert member_gone["extensions"]["code"] == "not_found"
    twice = await error(client, delete, {"id": hid, "v": None})
    assert twice["extensions"]["code"] == "not_found"
    listed = await list_households(client, {"unit": household.village_code}, page_size=200)
    assert hid not in ids(listed)


async def test_member_mutations(client: httpx.AsyncClient, services: Services) -> None:
    household = await make_household(services)
    hid = str(household.id)
    head_pid = unique_personal_id(date(1970, 3, 1))
    head = (
        await data(
            client,
            ADD_MEMBER,
            {
                "household": hid,
                "input": {
                    "fullName": "Trần Văn Bình",
                    "sex": "MALE",
                    "dateOfBirth": "1970-03-01",
                    "personalId": head_pid,
                    "relationToHead": "HEAD",
                    "joinedOn": "1995-01-01",
                    "educationLevel": "PRIMARY",
                },
            },
        )
    )["addMember"]
    assert head["householdId"] == hid
    assert (head["fullName"], head["personalId"], head["relationToHead"]) == (
        "Trần Văn Bình",
        head_pid,
        "HEAD",
    )
    assert (head["membershipStatus"], head["joinedOn"], head["version"]) == (
        "ACTIVE",
        "1995-01-01",
        1,
    )
    assert head["warnings"] == []
    spouse = (
        await data(
            client,
            ADD_MEMBER,
            {
                "household": hid,
                "input": {
                    "fullName": "Lê Thị Cúc",
                    "sex": "FEMALE",
                    "dateOfBirth": "1972-08-09",
                    "relationToHead": "SPOUSE",
                    "joinedOn": "1996-01-01",
                },
                "key": "spouse-" + uuid.uuid4().hex,
            },
        )
    )["addMember"]
    child = (
        await data(
            client,
            ADD_MEMBER,
            {
                "household": hid,
                "input": {
                    "fullName": "Trần Văn Con",
                    "sex": "MALE",
                    "dateOfBirth": "1999-01-01",
                    # Encodes a woman born in 2099: kept, with warnings.
                    "personalId": "035399123456",
                    "relationToHead": "CHILD",
                    "joinedOn": "1999-01-01",
                },
            },
        )
    )["addMember"]
    assert child["warnings"] == [
        "personal_id encodes birth year 2099, date_of_birth says 1999",
        "personal_id encodes sex female, record says male",
    ]
    assert (await data(client, GET_HOUSEHOLD, {"id": hid}))["household"]["headMemberId"] == head[
        "id"
    ]

    update_member = f"""
    mutation($id: UUID!, $input: MemberPatch!) {{
      updateMember(id: $id, input: $input) {{ {MEMBER} }}
    }}"""
    renamed = (
        await data(
            client,
            update_member,
            {"id": spouse["id"], "input": {"fullName": "Lê Thị Cúc Hoa", "version": 1}},
        )
    )["updateMember"]
    assert (renamed["fullName"], renamed["version"], renamed["dateOfBirth"]) == (
        "Lê Thị Cúc Hoa",
        2,
        "1972-08-09",
    )
    stale = await error(
        client, update_member, {"id": spouse["id"], "input": {"fullName": "X", "version": 1}}
    )
    assert stale["extensions"]["code"] == "version_conflict"
    assert stale["extensions"]["current_version"] == 2
    promote = await error(
        client, update_member, {"id": spouse["id"], "input": {"relationToHead": "HEAD"}}
    )
    assert promote["extensions"]["code"] == "validation_failed"
    assert [e["code"] for e in promote["extensions"]["errors"]] == ["head_change_required"]
    assert (await data(client, GET_MEMBER, {"id": spouse["id"]}))["member"] == renamed

    leave = f"""
    mutation($id: UUID!, $input: MemberLeaveInput!) {{
      leaveHousehold(memberId: $id, input: $input) {{ {MEMBER} }}
    }}"""
    died = (
        await data(
            client,
            leave,
            {"id": head["id"], "input": {"reason": "DIED", "occurredOn": "2024-02-01"}},
        )
    )["leaveHousehold"]
    assert (died["membershipStatus"], died["leftOn"], died["version"]) == (
        "DECEASED",
        "2024-02-01",
        2,
    )
    again = await error(
        client, leave, {"id": head["id"], "input": {"reason": "DIED", "occurredOn": "2024-02-01"}}
    )
    assert again["extensions"]["code"] == "conflict"
    headless = (await data(client, GET_HOUSEHOLD, {"id": hid}))["household"]
    assert headless["headMemberId"] is None

    change_head = f"""
    mutation($household: UUID!, $input: HeadChangeInput!) {{
      changeHead(householdId: $household, input: $input) {{ {HOUSEHOLD} }}
    }}"""
    new_head = (
        await data(
            client,
            change_head,
            {
                "household": hid,
                "input": {
                    "memberId": spouse["id"],
                    "occurredOn": "2024-02-10",
                    "version": headless["version"],
                },
            },
        )
    )["changeHead"]
    assert new_head["headMemberId"] == spouse["id"]
    assert new_head["version"] == headless["version"] + 1
    spouse_now = (await data(client, GET_MEMBER, {"id": spouse["id"]}))["member"]
    assert (spouse_now["relationToHead"], spouse_now["version"]) == ("HEAD", 3)
    not_member = await error(
        client,
        change_head,
        {"household": hid, "input": {"memberId": head["id"], "occurredOn": "2024-03-01"}},
    )
    assert not_member["extensions"]["code"] == "validation_failed"
    assert [e["code"] for e in not_member["extensions"]["errors"]] == ["not_a_member"]

    delete_member = (
        "mutation($id: UUID!, $v: Int) { deleteMember(id: $id, expectedVersion: $v) { id } }"
    )
    stale_delete = await error(client, delete_member, {"id": child["id"], "v": 5})
    assert stale_delete["extensions"]["code"] == "version_conflict"
    assert await data(client, delete_member, {"id": child["id"], "v": 1}) == {
        "deleteMember": {"id": child["id"]}
    }
    assert (await error(client, GET_MEMBER, {"id": child["id"]}))["extensions"][
        "code"
    ] == "not_found"

    history = """
    query($id: UUID!) {
      household(id: $id) {
        members { id relationToHead }
        everyone: members(includeFormer: true) { id membershipStatus }
        membershipEvents { kind memberId occurredOn }
      }
    }"""
    final = (await data(client, history, {"id": hid}))["household"]
    assert final["members"] == [{"id": spouse["id"], "relationToHead": "HEAD"}]
    assert final["everyone"] == [
        {"id": head["id"], "membershipStatus": "DECEASED"},
        {"id": spouse["id"], "membershipStatus": "ACTIVE"},
    ]
    assert [(e["kind"], e["memberId"]) for e in final["membershipEvents"]] == [
        ("JOINED", head["id"]),
        ("BECAME_HEAD", head["id"]),
        ("JOINED", spouse["id"]),
        ("JOINED", child["id"]),
        ("DIED", head["id"]),
        ("CEASED_HEAD", head["id"]),
        ("BECAME_HEAD", spouse["id"]),
    ]


# --- errors ------------------------------------------------------------------------------------

MEMBER_INPUT = {
    "fullName": "Phạm Văn Dũng",
    "sex": "MALE",
    "dateOfBirth": "1985-01-01",
    "relationToHead": "CHILD",
}


@pytest.mark.parametrize(
    ("operation", "variables", "problems"),
    [
        pytest.param(
            CREATE_HOUSEHOLD,
            {"input": {"address": "x", "floorAreaM2": -3, "phone": "call me"}},
            {
                ("input.floorAreaM2", "greater_than_equal"),
                ("input.phone", "string_pattern_mismatch"),
            },
            id="negative-floor-area-and-bad-phone",
        ),
        pytest.param(
            CREATE_HOUSEHOLD,
            {"input": {"villageCode": "99999-99", "address": "x"}},
            {("input.villageCode", "unknown_unit")},
            id="unknown-village",
        ),
        pytest.param(
            ADD_MEMBER,
            {"input": {**MEMBER_INPUT, "personalId": "12345"}},
            {("input.personalId", "string_pattern_mismatch")},
            id="bad-personal-id",
        ),
        pytest.param(
            ADD_MEMBER,
            {"input": {**MEMBER_INPUT, "dateOfBirth": "2999-01-01"}},
            {("input.dateOfBirth", "value_error")},
            id="birth-in-the-future",
        ),
        pytest.param(
            HOUSEHOLDS,
            {"filter": {"q": ""}, "first": 10},
            {("filter.q", "string_too_short")},
            id="empty-search",
        ),
    ],
)
async def test_validation_errors_name_each_graphql_field(
    client: httpx.AsyncClient,
    services: Services,
    operation: str,
    variables: dict[str, Any],
    problems: set[tuple[str, str]],
) -> None:
    """Paths name the field as the client wrote it: the argument, then the camelCase field."""
    household = await make_household(services)
    if operation == CREATE_HOUSEHOLD:
        variables = {"input": {"villageCode": household.village_code, **variables["input"]}}
    if operation == ADD_MEMBER:
        variables = {**variables, "household": str(household.id)}
    failed = await error(client, operation, variables)
    extensions = failed["extensions"]
    assert extensions["code"] == "validation_failed"
    assert {e["code"] for e in extensions["errors"]} == {code for _, code in problems}
    assert all(e["message"] for e in extensions["errors"])
    assert {(e["path"], e["code"]) for e in extensions["errors"]} == problems


async def test_refused_writes_write_nothing(client: httpx.AsyncClient, services: Services) -> None:
    household = await make_household(services)
    address = "Refused " + token()
    refused = await error(
        client,
        CREATE_HOUSEHOLD,
        {"input": {"villageCode": household.village_code, "address": address, "floorAreaM2": -1}},
    )
    assert refused["extensions"]["code"] == "validation_failed"
    listed = await list_households(client, {"unit": household.village_code}, page_size=200)
    assert address not in {h["address"] for h in listed}
    bad_member = await error(
        client,
        ADD_MEMBER,
        {"household": str(household.id), "input": {**MEMBER_INPUT, "personalId": "12345"}},
    )
    assert bad_member["extensions"]["code"] == "validation_failed"
    members = "query($id: UUID!) { household(id: $id) { members(includeFormer: true) { id } } }"
    assert (await data(client, members, {"id": str(household.id)}))["household"] == {"members": []}


NOBODY = "00000000-0000-4000-8000-000000000000"


@pytest.mark.parametrize(
    ("query", "variables", "root"),
    [
        pytest.param(GET_HOUSEHOLD, {"id": NOBODY}, "household", id="household"),
        pytest.param(GET_MEMBER, {"id": NOBODY}, "member", id="member"),
        pytest.param('{ unit(code: "00000") { code } }', {}, "unit", id="unit"),
        pytest.param(
            '{ unitSubtree(code: "00000") { code } }', {}, "unitSubtree", id="unit-subtree"
        ),
        pytest.param(
            UPDATE_HOUSEHOLD,
            {"id": NOBODY, "input": {"address": "x"}},
            "updateHousehold",
            id="update-household",
        ),
        pytest.param(
            ADD_MEMBER, {"household": NOBODY, "input": MEMBER_INPUT}, "addMember", id="add-member"
        ),
        pytest.param(
            "mutation($id: UUID!) { deleteMember(id: $id) { id } }",
            {"id": NOBODY},
            "deleteMember",
            id="delete-member",
        ),
    ],
)
async def test_missing_records_are_not_found(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any], root: str
) -> None:
    failed = await error(client, query, variables)
    assert failed["extensions"]["code"] == "not_found"
    assert failed["path"] == [root]
    assert failed["message"].startswith("no ")


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        pytest.param("query { households { ", {}, id="syntax-error"),
        pytest.param("{ households { nodes { nope } } }", {}, id="unknown-field"),
        pytest.param("{ units(sort: CODE) { nodes { code } } }", {}, id="unknown-argument"),
        pytest.param("{ household { id } }", {}, id="missing-argument"),
        pytest.param('{ household(id: "not-a-uuid") { id } }', {}, id="bad-literal"),
        pytest.param(GET_HOUSEHOLD, {}, id="missing-variable"),
        pytest.param(GET_HOUSEHOLD, {"id": "not-a-uuid"}, id="bad-uuid-variable"),
        pytest.param(UNITS_PAGE, {"first": 5, "level": "HAMLET"}, id="bad-enum-variable"),
        pytest.param(SUBTREE, {"code": "37", "day": "2025-13-45"}, id="bad-date-variable"),
        pytest.param(UNITS_PAGE, {"first": 2**40}, id="int-overflow-variable"),
    ],
)
async def test_invalid_queries_are_graphql_invalid(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any]
) -> None:
    body = await run(client, query, variables)
    assert body.get("data") is None
    assert body["errors"]
    codes = [e.get("extensions", {}).get("code") for e in body["errors"]]
    assert codes == ["graphql_invalid"] * len(codes), body["errors"]


async def test_first_above_200_is_refused(client: httpx.AsyncClient, services: Services) -> None:
    await make_household(services)
    for query, variables in (
        (HOUSEHOLDS, {"first": 201}),
        (UNITS_PAGE, {"first": 201}),
        (HOUSEHOLDS, {"first": 0}),
        (
            "query($first: Int!) { changes(first: $first) { hasMore } }",
            {"first": 201},
        ),
    ):
        refused = await error(client, query, variables)
        assert refused["extensions"]["code"] == "validation_failed"
        assert refused["extensions"]["errors"] == [
            {"path": "first", "message": "must be between 1 and 200", "code": "out_of_range"}
        ]
    largest = await data(client, HOUSEHOLDS, {"first": 200})
    assert 1 <= len(largest["households"]["edges"]) <= 200
    units = await data(client, UNITS_PAGE, {"first": 200})
    assert len(units["units"]["edges"]) == min(200, len(UNITS))


async def test_invalid_cursor_is_refused(client: httpx.AsyncClient) -> None:
    for query, variables in (
        (HOUSEHOLDS, {"first": 5, "after": "bm90LWEtY3Vyc29y"}),
        (UNITS_PAGE, {"first": 5, "after": "bm90LWEtY3Vyc29y"}),
    ):
        refused = await error(client, query, variables)
        assert refused["extensions"]["code"] == "invalid_cursor"
    # A units cursor is not a households cursor.
    unit_cursor = (await data(client, UNITS_PAGE, {"first": 1}))["units"]["pageInfo"]["endCursor"]
    wrong_kind = await error(client, HOUSEHOLDS, {"first": 5, "after": unit_cursor})
    assert wrong_kind["extensions"]["code"] == "invalid_cursor"
