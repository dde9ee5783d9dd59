"""Nothing crosses an area's border, whichever way it is asked for; personal fields are masked
alike through REST and GraphQL; partner reads and all writes are in an audit trail that no
API can change."""

import itertools
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy.exc import SAWarning

from api.domain.access import Role
from api.domain.households.member_models import MemberPublic
from api.domain.households.models import HouseholdPublic
from api.domain.identity.shapes import PartnerCreate, UserCreate
from api.domain.services import Services
from tests.builders import make_household, make_member

PASSWORD = "correct horse battery staple"
_serial = itertools.count(1)
MEMBER_SENSITIVE = ["disability", "ethnicity", "health_insurance", "personal_id"]
PERSONAL_QUERY = """query($h: UUID!, $m: UUID!, $q: String!) {
  household(id: $h) { id phone redacted members { id personalId ethnicity healthInsurance
    disability redacted } }
  member(id: $m) { id fullName personalId ethnicity healthInsurance disability redacted
    household { id phone redacted } }
  households(first: 50, filter: {q: $q}) { nodes { id phone redacted } }
}"""


async def _headers(
    client: httpx.AsyncClient, services: Services, role: Role, codes: list[str]
) -> dict[str, str]:
    """A real account and a real sign-in."""
    username = f"scope-{role.value.replace('_', '-')}-{next(_serial)}"
    await services.identity.create_user(
        UserCreate(
            username=username, full_name=username, password=PASSWORD, role=role, area_codes=codes
        )
    )
    response = await client.post(
        "/api/v1/auth/token", data={"username": username, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def _partner(
    client: httpx.AsyncClient, services: Services, agency: str
) -> tuple[str, dict[str, str]]:
    client_id = f"scope-{agency.replace('_', '-')}-{next(_serial)}"
    secret = "partner secret for scope tests"
    await services.identity.create_partner(
        PartnerCreate(client_id=client_id, name=agency, agency=agency, area_codes=["37"]),
        secret=secret,
    )
    response = await client.post(
        "/api/v1/auth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    assert response.status_code == 200, response.text
    return client_id, {"Authorization": f"Bearer {response.json()['access_token']}"}


async def _graphql(
    client: httpx.AsyncClient, headers: dict[str, Any], query: str, **variables: Any
) -> dict[str, Any]:
    response = await client.post(
        "/graphql", headers=headers, json={"query": query, "variables": variables}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _snake(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            "".join(f"_{c.lower()}" if c.isupper() else c for c in k): _snake(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_snake(v) for v in value]
    return value


def _unique(name: str) -> str:
    """A member name no other test's (possibly committed) record bears: searching for it
    isolates this test's households."""
    return f"{name} {uuid.uuid4().hex[:8]}"


async def _every_household(
    client: httpx.AsyncClient, headers: dict[str, str], **params: str
) -> list[dict[str, Any]]:
    """Every page of a household listing."""
    items: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        query = {**params, "limit": "200", **({"after": after} if after else {})}
        response = await client.get("/api/v1/households", headers=headers, params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["items"]
        if not page["has_more"]:
            return items
        after = page["next_cursor"]


async def _feed_end(services: Services) -> str:
    """Where the change feed ends now (other tests may have committed entries of their own)."""
    page = await services.changes.page(None, 200)
    while page.has_more:
        page = await services.changes.page(page.next_cursor, 200)
    return page.next_cursor


def _problem(response: httpx.Response) -> dict[str, Any]:
    assert response.headers["content-type"] == "application/problem+json", response.text
    body: dict[str, Any] = response.json()
    return body


# ---- scope -----------------------------------------------------------------------------------


async def test_another_areas_records_are_not_found_by_id(
    anonymous_client: httpx.AsyncClient, services: Services
) -> None:
    theirs = await make_household(services, "13393-01", address="Số 9 Đanh Xá")
    their_member = await make_member(services, theirs.id)
    officer = await _headers(anonymous_client, services, Role.COMMUNE_OFFICER, ["13384"])
    nowhere = uuid.uuid4()

    for path in (
        "/api/v1/households/{}",
        "/api/v1/households/{}/members",
        "/api/v1/households/{}/membership-events",
        "/api/v1/members/{}",
    ):
        record = their_member.id if path.startswith("/api/v1/members") else theirs.id
        hidden = await anonymous_client.get(path.format(record), headers=officer)
        absent = await anonymous_client.get(path.format(nowhere), headers=officer)
        assert (hidden.status_code, absent.status_code) == (404, 404), path
        # A record outside the area and one that never existed get the same answer.
        shown = {k: v for k, v in _problem(hidden).items() if k not in ("request_id", "instance")}
        never = {k: v for k, v in _problem(absent).items() if k not in ("request_id", "instance")}
        assert shown == {**never, "detail": never["detail"].replace(str(nowhere), str(record))}
        assert "13393" not in hidden.text
        assert "Đanh Xá" not in hidden.text


async def test_lists_and_filters_show_nothing_of_another_area(
    anonymous_client: httpx.AsyncClient, services: Services
) -> None:
    mine = await make_household(services, "13384-01")
    theirs = await make_household(services, "13393-01")
    secret_name = _unique("Trần Thị Bí Mật")
    their_member = await make_member(services, theirs.id, full_name=secret_name)
    await make_member(services, mine.id)
    officer = await _headers(anonymous_client, services, Role.COMMUNE_OFFICER, ["13384"])

    async def ids(**params: str) -> dict[str, Any]:
        response = await anonymous_client.get("/api/v1/households", headers=officer, params=params)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    listed = await _every_household(anonymous_client, officer)
    assert str(mine.id) in {h["id"] for h in listed}
    assert str(theirs.id) not in {h["id"] for h in listed}
    assert all(h["unit_path"].startswith("37/13384/") for h in listed)
    empty: dict[str, Any] = {"items": [], "next_cursor": None, "has_more": False}
    # Asking for their commune gives the answer an empty commune gives: no count, no error.
    assert await ids(unit="13393") == empty
    assert await ids(unit="13402") == empty
    assert await ids(unit="13393-01") == empty
    assert await ids(q=secret_name) == empty
    assert their_member.personal_id is not None
    assert await ids(q=their_member.personal_id) == empty

    body = await _graphql(
        anonymous_client,
        officer,
        """query($f: HouseholdFilterInput) { households(filter: $f, first: 200) {
            nodes { id } pageInfo { hasNextPage endCursor } } }""",
        f={"unit": "13393"},
    )
    assert body == {
        "data": {"households": {"nodes": [], "pageInfo": {"hasNextPage": False, "endCursor": None}}}
    }


async def test_a_cursor_from_another_listing_only_moves_the_position(
    anonymous_client: httpx.AsyncClient, services: Services
) -> None:
    their_name = _unique("Lê Văn Bên Kia")
    mine1 = await make_household(services, "13384-01")
    theirs1 = await make_household(services, "13393-01")
    mine2 = await make_household(services, "13384-02")
    theirs2 = await make_household(services, "13393-02")
    mine3 = await make_household(services, "13384-03")
    for household in (theirs1, theirs2):
        await make_member(services, household.id, full_name=their_name)
    officer = await _headers(anonymous_client, services, Role.COMMUNE_OFFICER, ["13384"])
    other = await _headers(anonymous_client, services, Role.COMMUNE_OFFICER, ["13393"])

    # The other officer lists their own households; the page ends at theirs1.
    their_page = await anonymous_client.get(
        "/api/v1/households", headers=other, params={"q": their_name, "limit": "1"}
    )
    assert [h["id"] for h in their_page.json()["items"]] == [str(theirs1.id)]
    cursor = their_page.json()["next_cursor"]
    assert cursor

    page = await anonymous_client.get(
        "/api/v1/households", headers=officer, params={"after": cursor, "limit": "200"}
    )
    assert page.status_code == 200, page.text
    assert [h["id"] for h in page.json()["items"]] == [str(mine2.id), str(mine3.id)]
    body = await _graphql(
        anonymous_client,
        officer,
        "query($after: String) { households(after: $after, first: 200) { nodes { id } } }",
        after=cursor,
    )
    assert [n["id"] for n in body["data"]["households"]["nodes"]] == [str(mine2.id), str(mine3.id)]
    assert str(mine1.id) not in page.text


async def test_graphql_aliases_and_nested_fields_reveal_nothing(
    anonymous_client: httpx.AsyncClient, services: Services
) -> None:
    name = _unique("Trần Thị Bí Mật")
    mine = await make_household(services, "13384-01")
    my_member = await make_member(services, mine.id, full_name=name)
    theirs = await make_household(services, "13393-01", address="Số 9 Đanh Xá")
    their_member = await make_member(services, theirs.id, full_name=name)
    officer = await _headers(anonymous_client, services, Role.COMMUNE_OFFICER, ["13384"])

    aliased = await _graphql(
        anonymous_client,
        officer,
        """query($a: UUID!, $b: UUID!) {
            a: household(id: $a) { id address } b: household(id: $b) { id address } }""",
        a=str(mine.id),
        b=str(theirs.id),
    )
    assert aliased["data"] is None  # root fields are non-null: one miss empties the answer
    assert [(e["path"], e["extensions"]["code"]) for e in aliased["errors"]] == [
        (["b"], "not_found")
    ]
    nested = await _graphql(
        anonymous_client,
        officer,
        """query($m: UUID!) { m: member(id: $m) { fullName household { id address } } }""",
        m=str(their_member.id),
    )
    assert nested["data"] is None
    assert [(e["path"], e["extensions"]["code"]) for e in nested["errors"]] == [
        (["m"], "not_found")
    ]
    for answer in (aliased, nested):
        text = str(answer)
        assert "Đanh Xá" not in text
        assert name not in text
        assert "13393" not in text

    # Walking from own records leads only to own records, though both members bear the name.
    walk = await _graphql(
        anonymous_client,
        officer,
        """query($q: String!) { households(first: 200, filter: {q: $q}) { nodes { id unitPath
              members(includeFormer: true) { id unitPath household { id } } } } }""",
        q=name,
    )
    nodes = walk["data"]["households"]["nodes"]
    assert [n["id"] for n in nodes] == [str(mine.id)]
    assert nodes[0]["members"] == [
        {
            "id": str(my_member.id),
            "unitPath": "37/13384/13384-01",
            "household": {"id": str(mine.id)},
        }
    ]


async def test_the_change_feed_shows_nothing_of_another_area(
    anonymous_client: httpx.AsyncClient, services: Services
) -> None:
    start = await _feed_end(services)
    mine = await make_household(services, "13384-01")
    theirs = await make_household(services, "13393-01")
    their_member = await make_member(services, theirs.id)
    officer = await _headers(anonymous_client, services, Role.COMMUNE_OFFICER, ["13384"])
    admin = await _headers(anonymous_client, services, Role.ADMIN, [])
    # A later change to their household, made by someone who may.
    changed = await anonymous_client.patch(
        f"/api/v1/households/{theirs.id}", headers=admin, json={"address": "Số mới"}
    )
    assert changed.status_code == 200

    feed = {"limit": "200", "after": start}
    rest = (await anonymous_client.get("/api/v1/changes", headers=officer, params=feed)).json()
    graph = await _graphql(
        anonymous_client,
        officer,
        "query($a: String) { changes(first: 200, after: $a) { items { entityId unitPath } } }",
        a=start,
    )
    entries = rest["items"]
    assert {e["entity_id"] for e in entries} >= {str(mine.id)}
    assert all(e["unit_path"].startswith("37/13384") for e in entries), entries
    assert not {str(theirs.id), str(their_member.id)} & {e["entity_id"] for e in entries}
    assert [(e["entity_id"], e["unit_path"]) for e in entries] == [
        (e["entityId"], e["unitPath"]) for e in graph["data"]["changes"]["items"]
    ]
    everything = (await anonymous_client.get("/api/v1/changes", headers=admin, params=feed)).json()
    assert {str(theirs.id), str(their_member.id)} <= {e["entity_id"] for e in everything["items"]}


async def test_a_duplicate_personal_id_elsewhere_does_not_reveal_the_record(
    anonymous_client: httpx.AsyncClient, services: Services
) -> None:
    theirs = await make_household(services, "13393-01")
    holder = await make_member(services, theirs.id)
    mine = await make_household(services, "13384-01")
    neighbour = await make_member(services, mine.id)
    own = await make_member(services, mine.id, personal_id=None)
    reviewer = await _headers(anonymous_client, services, Role.REVIEWER, ["13384"])
    assert holder.personal_id is not None
    person = {
        "full_name": "Trùng Số",
        "sex": "male",
        "date_of_birth": "1980-05-17",
        "relation_to_head": "child",
    }

    added = await anonymous_client.post(
        f"/api/v1/households/{mine.id}/members",
        headers=reviewer,
        json={**person, "personal_id": holder.personal_id},
    )
    patched = await anonymous_client.patch(
        f"/api/v1/members/{own.id}", headers=reviewer, json={"personal_id": holder.personal_id}
    )
    for response in (added, patched):
        assert response.status_code == 409, response.text
        problem = _problem(response)
        assert problem["code"] == "duplicate_personal_id"
        assert "existing_member_id" not in problem
        assert "existing_household_id" not in problem
        assert str(holder.id) not in response.text
        assert str(theirs.id) not in response.text
        assert "13393" not in response.text

    graph = await _graphql(
        anonymous_client,
        reviewer,
        """mutation($h: UUID!, $pid: String!) { addMember(householdId: $h, input: {
            fullName: "Trùng Số", sex: MALE, dateOfBirth: "1980-05-17", personalId: $pid,
            relationToHead: CHILD }) { id } }""",
        h=str(mine.id),
        pid=holder.personal_id,
    )
    (error,) = graph["errors"]
    assert error["extensions"]["code"] == "duplicate_personal_id"
    assert str(holder.id) not in str(graph)
    assert str(theirs.id) not in str(graph)

    # Within the area the other record is named, so that the officer can resolve it.
    assert neighbour.personal_id is not None
    same_area = await anonymous_client.post(
        f"/api/v1/households/{mine.id}/members",
        headers=reviewer,
        json={**person, "personal_id": neighbour.personal_id},
    )
    assert same_area.status_code == 409
    assert same_area.json()["existing_member_id"] == str(neighbour.id)


# ---- personal data ---------------------------------------------------------------------------


async def _person(services: Services) -> tuple[HouseholdPublic, MemberPublic]:
    household = await make_household(services, "13384-01", phone="0912345678")
    member = await make_member(
        services,
        household.id,
        full_name=_unique("Đinh Thị Hoa"),
        ethnicity="Mường",
        health_insurance=True,
        disability="mild",
    )
    return household, member


def _rest_view(household: dict[str, Any], member: dict[str, Any]) -> dict[str, Any]:
    fields = ["personal_id", "ethnicity", "health_insurance", "disability", "redacted"]
    return {
        "phone": household["phone"],
        "household_redacted": household["redacted"],
        **{f: member[f] for f in fields},
    }


async def _both_doors(
    client: httpx.AsyncClient,
    headers: dict[str, Any],
    household: HouseholdPublic,
    member: MemberPublic,
) -> list[dict[str, Any]]:
    """The personal fields of one household and member, as every door and path shows them."""
    h, m = str(household.id), str(member.id)
    got = {
        "household": await client.get(f"/api/v1/households/{h}", headers=headers),
        "households": await client.get(
            "/api/v1/households", headers=headers, params={"q": member.full_name}
        ),
        "members": await client.get(f"/api/v1/households/{h}/members", headers=headers),
        "member": await client.get(f"/api/v1/members/{m}", headers=headers),
    }
    assert all(r.status_code == 200 for r in got.values()), {k: r.text for k, r in got.items()}
    (listed,) = [x for x in got["households"].json()["items"] if x["id"] == h]
    (in_list,) = got["members"].json()
    views = [
        _rest_view(got["household"].json(), got["member"].json()),
        _rest_view(listed, in_list),
    ]
    graph = await _graphql(client, headers, PERSONAL_QUERY, h=h, m=m, q=member.full_name)
    assert "errors" not in graph, graph
    data = _snake(graph["data"])
    (graph_listed,) = [x for x in data["households"]["nodes"] if x["id"] == h]
    views += [
        _rest_view(data["household"], data["household"]["members"][0]),
        _rest_view(data["member"]["household"], data["member"]),
        _rest_view(graph_listed, data["member"]),
    ]
    return views


async def test_a_supervisor_sees_personal_fields_masked_through_both_doors(
    anonymous_client: httpx.AsyncClient, services: Services
) -> None:
    household, member = await _person(services)
    supervisor = await _headers(anonymous_client, services, Role.SUPERVISOR, ["37"])
    masked = {
        "phone": None,
        "household_redacted": ["phone"],
        "personal_id": None,
        "ethnicity": None,
        "health_insurance": None,
        "disability": None,
        "redacted": MEMBER_SENSITIVE,
    }
    views = await _both_doors(anonymous_client, supervisor, household, member)
    assert views == [masked] * 5
    shown = (await anonymous_client.get(f"/api/v1/members/{member.id}", headers=supervisor)).json()
    assert (shown["full_name"], shown["date_of_birth"]) == (member.full_name, "1980-05-17")

    officer = await _headers(anonymous_client, services, Role.COMMUNE_OFFICER, ["13384"])
    full: dict[str, Any] = {
        "phone": "0912345678",
        "household_redacted": [],
        "personal_id": member.personal_id,
        "ethnicity": "Mường",
        "health_insurance": True,
        "disability": "mild",
        "redacted": [],
    }
    views = await _both_doors(anonymous_client, officer, household, member)
    # GraphQL spells enum values by name.
    assert views == [full] * 2 + [{**full, "disability": "MILD"}] * 3


async def test_a_masked_field_cannot_be_searched_by_those_it_is_masked_from(
    anonymous_client: httpx.AsyncClient, services: Services
) -> None:
    """A supervisor does not see personal IDs, so searching by one must not tell a used ID
    from an unused one (or it confirms whose household a known ID belongs to)."""
    household, member = await _person(services)
    assert member.personal_id is not None
    unused = member.personal_id[:-6] + "999999"
    supervisor = await _headers(anonymous_client, services, Role.SUPERVISOR, ["37"])
    officer = await _headers(anonymous_client, services, Role.COMMUNE_OFFICER, ["13384"])

    async def search(headers: dict[str, str], q: str) -> tuple[int, Any]:
        response = await anonymous_client.get(
            "/api/v1/households", headers=headers, params={"q": q}
        )
        body = response.json()
        body.pop("request_id", None)
        body.pop("detail", None)  # may quote the ID that was sent
        return response.status_code, body

    async def graph(q: str) -> Any:
        body = await _graphql(
            anonymous_client,
            supervisor,
            "query($q: String!) { households(filter: {q: $q}) { nodes { id } } }",
            q=q,
        )
        return body.get("data"), [e["extensions"]["code"] for e in body.get("errors", [])]

    # Someone who sees personal IDs finds the household by one: the search works.
    status, found = await search(officer, member.personal_id)
    assert (status, [h["id"] for h in found["items"]]) == (200, [str(household.id)])
    used = (await search(supervisor, member.personal_id), await graph(member.personal_id))
    assert used == (await search(supervisor, unused), await graph(unused))


@pytest.mark.parametrize(
    ("agency", "visible"),
    [
        ("social_insurance", {"personal_id", "health_insurance"}),
        ("social_policy_bank", {"personal_id", "phone"}),
        ("health", {"personal_id", "health_insurance", "disability"}),
    ],
)
async def test_a_partner_sees_only_the_fields_its_agency_needs(
    anonymous_client: httpx.AsyncClient, services: Services, agency: str, visible: set[str]
) -> None:
    household, member = await _person(services)
    client_id, token = await _partner(anonymous_client, services, agency)
    headers = {**token, "X-Purpose": "xac minh ho so"}
    values: dict[str, Any] = {
        "phone": "0912345678",
        "personal_id": member.personal_id,
        "ethnicity": "Mường",
        "health_insurance": True,
        "disability": "mild",
    }
    hidden_member = sorted(set(MEMBER_SENSITIVE) - visible)
    expected = {
        **{k: v if k in visible else None for k, v in values.items()},
        "household_redacted": [] if "phone" in visible else ["phone"],
        "redacted": hidden_member,
    }
    views = await _both_doors(anonymous_client, headers, household, member)
    graph_expected = {**expected, "disability": "MILD" if "disability" in visible else None}
    assert views == [expected] * 2 + [graph_expected] * 3
    # Every record shown was logged: 5 households and 4 members over the two doors.
    admin = await _headers(anonymous_client, services, Role.ADMIN, [])
    reads = (
        await anonymous_client.get(
            "/api/v1/audit/reads", headers=admin, params={"actor": f"partner:{client_id}"}
        )
    ).json()
    assert sorted((r["entity_type"], r["entity_id"]) for r in reads) == sorted(
        [("household", str(household.id))] * 5 + [("member", str(member.id))] * 4
    )


async def test_a_partner_must_state_its_purpose(
    anonymous_client: httpx.AsyncClient, services: Services
) -> None:
    household, member = await _person(services)
    client_id, token = await _partner(anonymous_client, services, "social_insurance")
    for headers in (token, {**token, "X-Purpose": "   "}):
        for path in (
            f"/api/v1/households/{household.id}",
            "/api/v1/households",
            f"/api/v1/members/{member.id}",
            f"/api/v1/households/{household.id}/members",
        ):
            response = await anonymous_client.get(path, headers=headers)
            assert response.status_code == 400, (path, response.text)
            assert _problem(response)["code"] == "purpose_required"
        graph = await _graphql(
            anonymous_client,
            headers,
            "query($m: UUID!) { member(id: $m) { id } }",
            m=str(member.id),
        )
        assert graph["data"] is None
        assert graph["errors"][0]["extensions"]["code"] == "purpose_required"
    # Reference data and the change feed hold no personal data and need no purpose.
    assert (await anonymous_client.get("/api/v1/units?limit=1", headers=token)).status_code == 200
    assert (await anonymous_client.get("/api/v1/changes?limit=1", headers=token)).status_code == 200
    admin = await _headers(anonymous_client, services, Role.ADMIN, [])
    reads = await anonymous_client.get(
        "/api/v1/audit/reads", headers=admin, params={"actor": f"partner:{client_id}"}
    )
    assert reads.json() == []  # nothing was shown, so nothing was logged


async def test_partner_reads_are_logged_with_actor_purpose_and_records(
    anonymous_client: httpx.AsyncClient, services: Services
) -> None:
    household, member = await _person(services)
    client_id, token = await _partner(anonymous_client, services, "social_insurance")
    purpose = "Cấp thẻ BHYT cho hộ nghèo"
    # Header values travel as bytes: the purpose is Vietnamese, sent as UTF-8.
    headers: dict[str, Any] = {**token, "X-Purpose": purpose.encode()}
    rest = await anonymous_client.get(f"/api/v1/households/{household.id}", headers=headers)
    assert rest.status_code == 200
    graph = await _graphql(
        anonymous_client,
        headers,
        "query($m: UUID!) { member(id: $m) { id household { id } } }",
        m=str(member.id),
    )
    assert "errors" not in graph

    actor = f"partner:{client_id}"
    expected = sorted(
        [
            ("household", str(household.id)),
            ("member", str(member.id)),
            ("household", str(household.id)),
        ]
    )
    for role, codes in ((Role.ADMIN, []), (Role.SUPERVISOR, ["37"])):
        auditor = await _headers(anonymous_client, services, role, codes)
        response = await anonymous_client.get(
            "/api/v1/audit/reads", headers=auditor, params={"actor": actor}
        )
        assert response.status_code == 200, response.text
        reads = response.json()
        assert sorted((r["entity_type"], r["entity_id"]) for r in reads) == expected
        for entry in reads:
            assert (entry["actor"], entry["purpose"], entry["agency"]) == (
                actor,
                purpose,
                "social_insurance",
            )
            assert entry["unit_path"] == "37/13384/13384-01"
            assert entry["read_at"]


async def test_writes_are_audited_with_old_and_new_values_and_the_actor(
    anonymous_client: httpx.AsyncClient, services: Services
) -> None:
    household = await make_household(services, "13384-01", address="Số 1", phone="0911111111")
    reviewer = await _headers(anonymous_client, services, Role.REVIEWER, ["13384"])
    me = (await anonymous_client.get("/api/v1/auth/me", headers=reviewer)).json()
    rest = await anonymous_client.patch(
        f"/api/v1/households/{household.id}",
        headers=reviewer,
        json={"address": "Số 2", "phone": "0922222222"},
    )
    assert rest.status_code == 200, rest.text
    graph = await _graphql(
        anonymous_client,
        reviewer,
        'mutation($id: UUID!) { updateHousehold(id: $id, input: {address: "Số 3"}) { version } }',
        id=str(household.id),
    )
    assert graph["data"]["updateHousehold"]["version"] == 3

    admin = await _headers(anonymous_client, services, Role.ADMIN, [])
    writes = (
        await anonymous_client.get(
            "/api/v1/audit/writes", headers=admin, params={"entity_id": str(household.id)}
        )
    ).json()
    assert [(w["operation"], w["version"], w["actor"]) for w in writes] == [
        ("create", 1, "system"),
        ("update", 2, me["subject"]),
        ("update", 3, me["subject"]),
    ]
    assert writes[0]["diff"]["address"] == [None, "Số 1"]
    assert writes[1]["diff"] == {"address": ["Số 1", "Số 2"], "phone": ["0911111111", "0922222222"]}
    assert writes[2]["diff"] == {"address": ["Số 2", "Số 3"]}
    assert all(w["entity_type"] == "household" for w in writes)
    assert all(w["unit_path"] == "37/13384/13384-01" for w in writes)


async def test_the_audit_trail_does_not_show_masked_fields_to_those_who_may_not_see_them(
    anonymous_client: httpx.AsyncClient, services: Services
) -> None:
    """A supervisor reads the audit trail but not personal data: the values of masked fields
    must not come out of the trail either (the change feed, for the same reason, names only
    the changed fields)."""
    household, member = await _person(services)
    assert member.personal_id is not None
    secrets = (member.personal_id, "Mường", "0912345678", '"mild"')
    supervisor = await _headers(anonymous_client, services, Role.SUPERVISOR, ["37"])
    admin = await _headers(anonymous_client, services, Role.ADMIN, [])
    leaks, unmasked = [], ""
    for record in (household.id, member.id):
        params = {"entity_id": str(record)}
        seen = await anonymous_client.get("/api/v1/audit/writes", headers=supervisor, params=params)
        full = await anonymous_client.get("/api/v1/audit/writes", headers=admin, params=params)
        assert (seen.status_code, full.status_code) == (200, 200), seen.text
        assert len(seen.json()) == len(full.json()) == 1  # the same entries, fewer values
        leaks += [f"{s} of {record}" for s in secrets if s in seen.text]
        unmasked += full.text
    assert leaks == [], f"a supervisor reads masked values in /api/v1/audit/writes: {leaks}"
    # Someone who may read personal data sees them there.
    assert all(s in unmasked for s in secrets)


async def test_concurrent_graphql_fields_log_every_partner_read_safely(
    anonymous_client: httpx.AsyncClient, services: Services, recwarn: pytest.WarningsRecorder
) -> None:
    """GraphQL resolves sibling fields at the same time, on one session."""
    household, member = await _person(services)
    client_id, token = await _partner(anonymous_client, services, "social_insurance")
    graph = await _graphql(
        anonymous_client,
        {**token, "X-Purpose": "doi soat"},
        """query($h: UUID!, $m: UUID!, $q: String!) { a: household(id: $h) { id }
            b: member(id: $m) { id }
            c: households(first: 10, filter: {q: $q}) { nodes { id } } }""",
        h=str(household.id),
        m=str(member.id),
        q=member.full_name,
    )
    assert "errors" not in graph, graph
    admin = await _headers(anonymous_client, services, Role.ADMIN, [])
    reads = (
        await anonymous_client.get(
            "/api/v1/audit/reads", headers=admin, params={"actor": f"partner:{client_id}"}
        )
    ).json()
    assert sorted((r["entity_type"], r["entity_id"]) for r in reads) == [
        ("household", str(household.id)),
        ("household", str(household.id)),
        ("member", str(member.id)),
    ]
    # SQLAlchemy warns when a coroutine adds to the session while another one's flush runs.
    misuse = [str(w.message) for w in recwarn if issubclass(w.category, SAWarning)]
    assert misuse == [], misuse


async def test_no_api_changes_or_deletes_audit_entries(
    anonymous_client: httpx.AsyncClient, services: Services
) -> None:
    _, member = await _person(services)
    _, token = await _partner(anonymous_client, services, "social_insurance")
    shown = await anonymous_client.get(
        f"/api/v1/members/{member.id}", headers={**token, "X-Purpose": "kiem tra"}
    )
    assert shown.status_code == 200
    admin = await _headers(anonymous_client, services, Role.ADMIN, [])
    paths = ("/api/v1/audit/writes", "/api/v1/audit/reads")
    before = [(await anonymous_client.get(p, headers=admin)).json() for p in paths]
    assert all(before)

    for method, path in itertools.product(("PUT", "PATCH", "DELETE", "POST"), paths):
        response = await anonymous_client.request(method, path, headers=admin, json=[])
        assert response.status_code == 405, (method, path, response.text)
        assert _problem(response)["code"] == "method_not_allowed"
        assert response.headers["allow"] == "GET"
    after = [(await anonymous_client.get(p, headers=admin)).json() for p in paths]
    assert after == before

    graph = await _graphql(
        anonymous_client, admin, "{ __schema { mutationType { fields { name } } } }"
    )
    mutations = {f["name"] for f in graph["data"]["__schema"]["mutationType"]["fields"]}
    assert mutations == {
        "createHousehold",
        "updateHousehold",
        "deleteHousehold",
        "addMember",
        "updateMember",
        "leaveHousehold",
        "changeHead",
        "deleteMember",
        "createCampaign",
        "createAssessment",
        "updateAssessment",
        "transitionAssessment",
        "transitionAssessments",
        "resolveSyncItem",
        "createPlan",
        "updatePlan",
        "addPlanTarget",
        "updatePlanTarget",
        "addPlanTask",
        "postTaskUpdate",
    }
