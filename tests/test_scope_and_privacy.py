"""Nothing leaks across areas, personal fields are masked the same way through both doors,
partner reads are logged with their purpose, and the audit trail cannot be changed."""

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from api.config import Settings
from api.deps import get_session
from api.domain.access import Role
from api.domain.base import utcnow
from api.domain.identity.models import LoginThrottle
from api.domain.services import Services
from api.main import create_app
from tests.builders import make_household, make_member
from tests.conftest import serve
from tests.identity import PASSWORD, bearer, make_partner, make_user, partner_token, sign_in


async def _as(
    client: httpx.AsyncClient, services: Services, role: Role, areas: list[str]
) -> dict[str, str]:
    return bearer((await sign_in(client, await make_user(services, role, areas)))["access_token"])


async def test_another_communes_households_cannot_be_reached(
    anonymous_client: httpx.AsyncClient, services: Services
) -> None:
    mine = await make_household(services, "13384-01")
    theirs = await make_household(services, "13393-01")
    await make_household(services, "13393-02")
    their_member = await make_member(services, theirs.id)
    officer = await _as(anonymous_client, services, Role.COMMUNE_OFFICER, ["13384"])
    other = await _as(anonymous_client, services, Role.COMMUNE_OFFICER, ["13393"])
    c = anonymous_client

    assert (await c.get(f"/api/v1/households/{theirs.id}", headers=officer)).status_code == 404
    assert (await c.get(f"/api/v1/members/{their_member.id}", headers=officer)).status_code == 404
    listed = (await c.get("/api/v1/households?limit=200", headers=officer)).json()["items"]
    assert all(h["unit_path"].startswith("37/13384/") for h in listed)
    assert str(mine.id) in {h["id"] for h in listed}
    filtered = await c.get("/api/v1/households?unit=13393", headers=officer)
    assert filtered.status_code == 200
    assert filtered.json() == {"items": [], "next_cursor": None, "has_more": False}

    # A cursor taken from another commune's listing only moves the position.
    their_page = (await c.get("/api/v1/households?limit=1", headers=other)).json()
    assert their_page["next_cursor"]
    with_cursor = (
        await c.get(
            "/api/v1/households", headers=officer, params={"after": their_page["next_cursor"]}
        )
    ).json()
    assert all(h["unit_path"].startswith("37/13384/") for h in with_cursor["items"])

    query = """query($a: UUID!, $b: UUID!, $m: UUID!) {
        a: household(id: $a) { id } b: household(id: $b) { id }
        m: member(id: $m) { household { id } } }"""
    body = (
        await c.post(
            "/graphql",
            headers=officer,
            json={
                "query": query,
                "variables": {"a": str(mine.id), "b": str(theirs.id), "m": str(their_member.id)},
            },
        )
    ).json()
    # Root fields are non-null: one miss nulls the whole answer, so nothing from 13393 shows.
    assert body.get("data") is None
    assert {e["extensions"]["code"] for e in body["errors"]} == {"not_found"}
    alone = (
        await c.post(
            "/graphql",
            headers=officer,
            json={
                "query": "query($m: UUID!) { member(id: $m) { household { id } } }",
                "variables": {"m": str(their_member.id)},
            },
        )
    ).json()
    assert alone.get("data") is None, alone
    assert alone["errors"][0]["extensions"]["code"] == "not_found"

    feed = (await c.get("/api/v1/changes?limit=200", headers=officer)).json()["items"]
    assert all(e["unit_path"].startswith("37/13384") for e in feed)


async def test_duplicate_personal_id_elsewhere_is_not_named(
    anonymous_client: httpx.AsyncClient, services: Services
) -> None:
    theirs = await make_household(services, "13393-01")
    holder = await make_member(services, theirs.id)
    mine = await make_household(services, "13384-01")
    reviewer = await _as(anonymous_client, services, Role.REVIEWER, ["13384"])
    response = await anonymous_client.post(
        f"/api/v1/households/{mine.id}/members",
        headers=reviewer,
        json={
            "full_name": "Trùng Số",
            "sex": "male",
            "date_of_birth": "1980-05-17",
            "personal_id": holder.personal_id,
            "relation_to_head": "child",
        },
    )
    assert response.status_code == 409
    problem = response.json()
    assert problem["code"] == "duplicate_personal_id"
    assert "existing_member_id" not in problem
    assert str(holder.id) not in response.text
    assert str(theirs.id) not in response.text


SENSITIVE_MEMBER = ["disability", "ethnicity", "health_insurance", "personal_id"]


async def _person(services: Services) -> tuple[str, str]:
    household = await make_household(services, "13384-01", phone="0912345678")
    member = await make_member(
        services, household.id, ethnicity="Mường", health_insurance=True, disability="mild"
    )
    return str(household.id), str(member.id)


async def test_supervisor_sees_personal_fields_masked_through_both_doors(
    anonymous_client: httpx.AsyncClient, services: Services
) -> None:
    household_id, member_id = await _person(services)
    supervisor = await _as(anonymous_client, services, Role.SUPERVISOR, ["37"])
    household = (
        await anonymous_client.get(f"/api/v1/households/{household_id}", headers=supervisor)
    ).json()
    assert (household["phone"], household["redacted"]) == (None, ["phone"])
    member = (await anonymous_client.get(f"/api/v1/members/{member_id}", headers=supervisor)).json()
    assert member["redacted"] == SENSITIVE_MEMBER
    assert all(member[f] is None for f in SENSITIVE_MEMBER)
    assert member["full_name"] == "Nguyễn Văn An"
    query = """query($id: UUID!) { member(id: $id) { personalId ethnicity healthInsurance
        disability redacted household { phone redacted } } }"""
    graph = (
        await anonymous_client.post(
            "/graphql", headers=supervisor, json={"query": query, "variables": {"id": member_id}}
        )
    ).json()["data"]["member"]
    assert graph == {
        "personalId": None,
        "ethnicity": None,
        "healthInsurance": None,
        "disability": None,
        "redacted": SENSITIVE_MEMBER,
        "household": {"phone": None, "redacted": ["phone"]},
    }
    officer = await _as(anonymous_client, services, Role.COMMUNE_OFFICER, ["13384"])
    full = (await anonymous_client.get(f"/api/v1/members/{member_id}", headers=officer)).json()
    assert (full["ethnicity"], full["redacted"]) == ("Mường", [])


async def test_partner_sees_what_its_purpose_needs_and_every_read_is_logged(
    anonymous_client: httpx.AsyncClient, services: Services
) -> None:
    household_id, member_id = await _person(services)
    token = await partner_token(anonymous_client, await make_partner(services, "social_insurance"))
    refused = await anonymous_client.get(f"/api/v1/members/{member_id}", headers=bearer(token))
    assert refused.status_code == 400
    assert refused.json()["code"] == "purpose_required"
    # Header values travel as bytes; the purpose is Vietnamese text in UTF-8.
    purpose: dict[str, Any] = {**bearer(token), "X-Purpose": "Cấp thẻ BHYT".encode()}
    member = (await anonymous_client.get(f"/api/v1/members/{member_id}", headers=purpose)).json()
    assert member["personal_id"] is not None
    assert member["health_insurance"] is True
    assert member["redacted"] == ["disability", "ethnicity"]
    writes_denied = await anonymous_client.patch(
        f"/api/v1/households/{household_id}", headers=purpose, json={"address": "x"}
    )
    assert writes_denied.status_code == 403

    admin = await _as(anonymous_client, services, Role.ADMIN, [])
    reads = (
        await anonymous_client.get(
            "/api/v1/audit/reads", headers=admin, params={"entity_id": member_id}
        )
    ).json()
    assert [(r["entity_type"], r["purpose"], r["agency"]) for r in reads] == [
        ("member", "Cấp thẻ BHYT", "social_insurance")
    ]
    assert reads[0]["actor"].startswith("partner:")
    writes = (
        await anonymous_client.get(
            "/api/v1/audit/writes", headers=admin, params={"entity_id": member_id}
        )
    ).json()
    assert writes[0]["operation"] == "create"
    assert writes[0]["diff"]["ethnicity"] == [None, "Mường"]
    for method in ("PUT", "PATCH", "DELETE", "POST"):
        for path in ("/api/v1/audit/reads", "/api/v1/audit/writes"):
            response = await anonymous_client.request(method, path, headers=admin)
            assert response.status_code == 405, (method, path)


@pytest.fixture
async def strict_client(
    settings: Settings, session: AsyncSession
) -> AsyncIterator[httpx.AsyncClient]:
    """The app with a tight login policy and no slow-down, on the test's transaction."""
    app: FastAPI = create_app(
        settings.model_copy(
            update={
                "login_max_failures": 3,
                "login_max_failures_per_address": 6,
                "login_slowdown_after": 100,
                "login_lock_minutes": 1,
            }
        )
    )

    async def test_session() -> AsyncIterator[AsyncSession]:
        yield session

    app.dependency_overrides[get_session] = test_session
    async with serve(app) as client:
        yield client


async def _attempt(client: httpx.AsyncClient, username: str, password: str) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/auth/token", data={"username": username, "password": password}
    )
    return {
        "status": response.status_code,
        **response.json(),
        "retry": response.headers.get("retry-after"),
    }


async def test_lockout_engages_and_releases(
    strict_client: httpx.AsyncClient, services: Services
) -> None:
    username = await make_user(services, Role.REVIEWER, ["13384"])
    for _ in range(3):
        assert (await _attempt(strict_client, username, "wrong password"))["code"] == (
            "invalid_grant"
        )
    locked = await _attempt(strict_client, username, PASSWORD)
    assert (locked["status"], locked["code"]) == (429, "account_locked")
    assert 0 < int(locked["retry"]) <= 60
    await services.session.execute(
        update(LoginThrottle)
        .where(LoginThrottle.key == f"user:{username}")  # type: ignore[arg-type]
        .values(locked_until=utcnow() - timedelta(seconds=1))
    )
    released = await _attempt(strict_client, username, PASSWORD)
    assert released["status"] == 200


async def test_unknown_names_look_like_wrong_passwords(
    strict_client: httpx.AsyncClient, services: Services
) -> None:
    username = await make_user(services, Role.REVIEWER, ["13384"])
    known = await _attempt(strict_client, username, "wrong password")
    unknown = await _attempt(strict_client, "nobody-here", "wrong password")
    for answer in (known, unknown):
        answer.pop("request_id")
    assert known == unknown
    for _ in range(2):
        await _attempt(strict_client, "nobody-here", "wrong password")
    assert (await _attempt(strict_client, "nobody-here", "x"))["code"] == "account_locked"


async def test_one_address_trying_many_names_is_locked(
    strict_client: httpx.AsyncClient, services: Services
) -> None:
    username = await make_user(services, Role.REVIEWER, ["13384"])
    for n in range(6):
        await _attempt(strict_client, f"guess-{n}", "wrong password")
    blocked = await _attempt(strict_client, username, PASSWORD)
    assert (blocked["status"], blocked["code"]) == (429, "account_locked")
