"""Every door that checks a personal ID for duplicates (REST, GraphQL, sync push, its dry run)
counts the check against the caller's hourly allowance, and a check that finds a person outside
the caller's area is in the audit trail of that person's area; the answer names nobody."""

import uuid
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from api.config import Settings
from api.deps import get_session
from api.domain.access import Role
from api.domain.services import Services
from api.main import create_app
from tests.builders import (
    make_household,
    make_member,
    ok,
    token_headers,
    unique_personal_id,
    whole_country,
)
from tests.conftest import DATABASE_URL, serve

Json = dict[str, Any]
ALLOWANCE = 3
LIMITED = "personal_id_check_limit"
PERSON = {
    "full_name": "Trùng Số",
    "sex": "male",
    "date_of_birth": "1980-05-17",
    "relation_to_head": "child",
}
ADD_MEMBER = """mutation($h: UUID!, $pid: String) { addMember(householdId: $h, input: {
  fullName: "Trùng Số", sex: MALE, dateOfBirth: "1980-05-17", personalId: $pid,
  relationToHead: CHILD }) { id } }"""


@pytest.fixture
async def limited(session: AsyncSession) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The app with an allowance of three checks an hour, on the test's transaction."""
    app = create_app(Settings(database_url=DATABASE_URL, personal_id_checks_per_hour=ALLOWANCE))

    async def test_session() -> AsyncIterator[AsyncSession]:
        yield session

    app.dependency_overrides[get_session] = test_session
    async with serve(app) as client:
        yield app, client


def _member_item(household_id: uuid.UUID, personal_id: str | None) -> Json:
    return {
        "op_id": f"op-{uuid.uuid4()}",
        "op": "create",
        "entity": "member",
        "id": str(uuid.uuid4()),
        "data": {"household_id": str(household_id), **PERSON, "personal_id": personal_id},
    }


async def _push(
    client: httpx.AsyncClient, headers: dict[str, str], items: list[Json], dry_run: bool
) -> Json:
    body = {"batch_id": f"b-{uuid.uuid4()}", "dry_run": dry_run, "items": items}
    return ok(await client.post("/api/v1/sync/push", json=body, headers=headers))


def _fresh_id() -> str:
    return unique_personal_id(date(1980, 5, 17))


async def test_checks_past_the_hourly_allowance_are_refused_at_every_door(
    limited: tuple[FastAPI, httpx.AsyncClient], services: Services
) -> None:
    app, c = limited
    household = await make_household(services, "13384-01")
    reviewer, subject = await token_headers(app, services, Role.REVIEWER, ["13384"])
    colleague, _ = await token_headers(app, services, Role.REVIEWER, ["13384"])
    officer, _ = await token_headers(app, services, Role.COMMUNE_OFFICER, ["13384"])
    await services.session.commit()  # the sign-ins outlive the dry run's rollback

    # A dry run stores nothing, but its checks count: two of five are refused.
    items = [_member_item(household.id, _fresh_id()) for _ in range(ALLOWANCE + 2)]
    dry = await _push(c, reviewer, items, dry_run=True)
    assert [i["outcome"] for i in dry["items"]] == ["applied"] * ALLOWANCE + ["rejected"] * 2
    assert {i["problem"]["code"] for i in dry["items"][ALLOWANCE:]} == {LIMITED}
    sessions = await c.get("/api/v1/sync/sessions", headers=officer, params={"actor": subject})
    log: list[Json] = sessions.json()
    assert [(e["kind"], e["counts"]) for e in log] == [
        ("dry_run", {"applied": ALLOWANCE, "rejected": 2})
    ]

    # The allowance is spent for every door now.
    rest = await c.post(
        f"/api/v1/households/{household.id}/members",
        headers=reviewer,
        json={**PERSON, "personal_id": _fresh_id()},
    )
    assert rest.status_code == 429, rest.text
    assert rest.json()["code"] == LIMITED
    assert 0 < int(rest.headers["retry-after"]) <= 3600
    graph = ok(
        await c.post(
            "/graphql",
            headers=reviewer,
            json={"query": ADD_MEMBER, "variables": {"h": str(household.id), "pid": _fresh_id()}},
        )
    )
    assert graph["errors"][0]["extensions"]["code"] == LIMITED
    pushed = await _push(c, reviewer, [_member_item(household.id, _fresh_id())], dry_run=False)
    assert (pushed["items"][0]["outcome"], pushed["items"][0]["problem"]["code"]) == (
        "rejected",
        LIMITED,
    )
    # Retrying the refused item from the conflict queue checks again, and is refused too.
    queue = await c.get("/api/v1/sync/items", headers=reviewer, params={"outcome": "rejected"})
    (kept,) = [i for i in queue.json() if i["op_id"] == pushed["items"][0]["op_id"]]
    retried = await c.post(
        f"/api/v1/sync/items/{kept['id']}/resolve",
        headers=reviewer,
        json={"resolution": "take_mine"},
    )
    assert (retried.status_code, retried.json()["code"]) == (429, LIMITED), retried.text
    # No personal ID, no check; another user has an allowance of their own.
    ok(
        await c.post(f"/api/v1/households/{household.id}/members", headers=reviewer, json=PERSON),
        201,
    )
    ok(
        await c.post(
            f"/api/v1/households/{household.id}/members",
            headers=colleague,
            json={**PERSON, "personal_id": _fresh_id()},
        ),
        201,
    )


async def test_a_check_that_finds_someone_outside_the_area_is_audited_in_that_area(
    anonymous_app: FastAPI, anonymous_client: httpx.AsyncClient, services: Services
) -> None:
    c = anonymous_client
    theirs = await make_household(services, "13393-01")
    holder = await make_member(services, theirs.id)
    assert holder.personal_id is not None
    mine = await make_household(services, "13384-01")
    neighbour = await make_member(services, mine.id)
    reviewer, subject = await token_headers(anonymous_app, services, Role.REVIEWER, ["13384"])
    there, _ = await token_headers(anonymous_app, services, Role.SUPERVISOR, ["13393"])
    here, _ = await token_headers(anonymous_app, services, Role.SUPERVISOR, ["13384"])
    admin = await whole_country(anonymous_app, services, Role.ADMIN)
    await services.session.commit()  # the sign-ins outlive the dry run's rollback

    async def audited(headers: dict[str, str]) -> list[Json]:
        response = await c.get(
            "/api/v1/audit/reads", headers=headers, params={"entity_id": str(holder.id)}
        )
        assert response.status_code == 200, response.text
        found: list[Json] = response.json()
        return found

    answers: list[str] = []
    dry = await _push(c, reviewer, [_member_item(mine.id, holder.personal_id)], dry_run=True)
    (item,) = dry["items"]
    assert (item["outcome"], item["problem"]["code"]) == ("rejected", "duplicate_personal_id")
    answers.append(str(item["problem"]))
    rest = await c.post(
        f"/api/v1/households/{mine.id}/members",
        headers=reviewer,
        json={**PERSON, "personal_id": holder.personal_id},
    )
    assert rest.status_code == 409, rest.text
    answers.append(rest.text)
    graph = ok(
        await c.post(
            "/graphql",
            headers=reviewer,
            json={
                "query": ADD_MEMBER,
                "variables": {"h": str(mine.id), "pid": holder.personal_id},
            },
        )
    )
    assert graph["errors"][0]["extensions"]["code"] == "duplicate_personal_id"
    answers.append(str(graph))
    for answer in answers:
        for secret in (holder.personal_id, str(holder.id), str(theirs.id), "13393"):
            assert secret not in answer, (secret, answer)

    # Three checks found the person: three rows where that person lives, none elsewhere.
    rows = await audited(there)
    assert [(r["actor"], r["entity_type"], r["unit_path"]) for r in rows] == [
        (subject, "personal_id_check", "37/13393/13393-01")
    ] * 3
    assert await audited(here) == []
    assert len(await audited(admin)) == 3

    # A duplicate within the caller's own area is named, and is no cross-area look-up.
    same = await c.post(
        f"/api/v1/households/{mine.id}/members",
        headers=reviewer,
        json={**PERSON, "personal_id": neighbour.personal_id},
    )
    assert same.status_code == 409
    assert same.json()["existing_member_id"] == str(neighbour.id)
    response = await c.get(
        "/api/v1/audit/reads", headers=admin, params={"entity_id": str(neighbour.id)}
    )
    assert response.json() == []
