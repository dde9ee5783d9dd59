"""What each caller may read is the same through every door of sync and the change feed: record
types its role may not read are left out of the snapshot, the pull, the digest and the feed
alike, and the pull still reaches the head of the log past them."""

import itertools
import typing
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from api.domain import access
from api.domain.access import Role
from api.domain.identity.shapes import PartnerCreate, UserCreate
from api.domain.kernel.entities import EntityType
from api.domain.services import Services
from api.domain.uow import UnitOfWork
from tests.builders import assess, ok, open_campaign, survey, token_headers, whole_country

Json = dict[str, Any]
PULL = "/api/v1/sync/pull"
SNAPSHOT = "/api/v1/sync/snapshot"
DIGEST = "/api/v1/sync/digest"
API = Path(__file__).resolve().parents[1] / "api"
_serial = itertools.count(1)


async def partner(
    client: httpx.AsyncClient, services: Services, agency: str = "social_insurance"
) -> tuple[str, dict[str, str]]:
    """A real partner client of province 37 (its token is checked against its row), with a
    purpose stated."""
    client_id = f"sync-{agency.replace('_', '-')}-{next(_serial)}"
    secret = "partner secret for sync tests"
    await services.identity.create_partner(
        PartnerCreate(client_id=client_id, name=agency, agency=agency, area_codes=["37"]),
        secret=secret,
    )
    response = await client.post(
        "/api/v1/auth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    token = ok(response)["access_token"]
    return client_id, {"Authorization": f"Bearer {token}", "X-Purpose": "doi soat ho ngheo"}


async def drain(
    client: httpx.AsyncClient, headers: dict[str, str], cursor: str | None = None
) -> tuple[list[Json], str]:
    """Every change after `cursor` and the cursor where the log ends for this caller."""
    changes: list[Json] = []
    while True:
        params: dict[str, Any] = {"limit": 1000, **({"cursor": cursor} if cursor else {})}
        page = ok(await client.get(PULL, params=params, headers=headers))
        changes += page["changes"]
        cursor = page["cursor"]
        if not page["has_more"]:
            return changes, page["cursor"]


async def snapshot(client: httpx.AsyncClient, headers: dict[str, str], unit: str) -> list[Json]:
    got: list[Json] = []
    params: dict[str, Any] = {"unit": unit, "limit": 500}
    while True:
        page = ok(await client.get(SNAPSHOT, params=params, headers=headers))
        got += page["households"]
        if not page["has_more"]:
            return got
        params["after"] = page["next"]


async def officer_by_default(app: FastAPI, client: httpx.AsyncClient, services: Services) -> None:
    """Requests without their own token go as an officer of commune 13384 (who opens campaigns
    and surveys)."""
    officer, _ = await token_headers(app, services, Role.COMMUNE_OFFICER, ["13384"])
    client.headers.update(officer)


async def test_a_partner_pulls_past_assessment_changes_and_the_snapshot_agrees(
    anonymous_app: FastAPI, anonymous_client: httpx.AsyncClient, services: Services
) -> None:
    client = anonymous_client
    await officer_by_default(anonymous_app, client, services)
    client_id, headers = await partner(anonymous_client, services)
    _, start = await drain(anonymous_client, headers)
    campaign = await open_campaign(client, 2022, "13384")
    assessed = await assess(client, services, campaign, survey(1_000_000))
    hid = assessed["household_id"]

    changes, cursor = await drain(anonymous_client, headers, start)
    assert {c["entity"] for c in changes} == {"household"}
    assert [c["id"] for c in changes] == [hid]
    # It reached the head: nothing more comes, and the cursor stays put.
    again = ok(await anonymous_client.get(PULL, params={"cursor": cursor}, headers=headers))
    assert (again["changes"], again["has_more"], again["cursor"]) == ([], False, cursor)

    admin = await whole_country(anonymous_app, services, Role.ADMIN)

    async def logged() -> list[str]:
        """The partner's reads of the household in the audit trail."""
        params = {"actor": f"partner:{client_id}", "entity_id": hid}
        response = await client.get("/api/v1/audit/reads", headers=admin, params=params)
        assert response.status_code == 200, response.text
        return [r["entity_type"] for r in response.json()]

    assert await logged() == ["household"]
    shot = {h["household"]["id"]: h for h in await snapshot(anonymous_client, headers, "13384")}
    assert await logged() == ["household", "household"]  # both doors log what they show
    assert all(h["assessments"] == [] for h in shot.values())
    assert shot[hid]["household"] == changes[0]["record"]
    first = ok(await client.get(SNAPSHOT, params={"unit": "13384", "limit": 1}, headers=headers))
    assert first["campaigns"] == []

    digest = ok(
        await anonymous_client.get(
            DIGEST, params={"unit": "13384", "entity": "assessment"}, headers=headers
        )
    )
    assert sum(b["count"] for b in digest["buckets"]) == 0
    everything = ok(
        await client.get(DIGEST, params={"unit": "13384", "entity": "assessment"}, headers=admin)
    )
    assert sum(b["count"] for b in everything["buckets"]) >= 1


async def test_a_supervisor_gets_the_same_assessment_from_snapshot_and_pull(
    anonymous_app: FastAPI, anonymous_client: httpx.AsyncClient, services: Services
) -> None:
    client = anonymous_client
    await officer_by_default(anonymous_app, client, services)
    front, _ = await token_headers(anonymous_app, services, Role.SUPERVISOR, ["13384"])
    _, start = await drain(anonymous_client, front)
    campaign = await open_campaign(client, 2022, "13384")
    assessed = await assess(client, services, campaign, survey(1_000_000))

    changes, _ = await drain(anonymous_client, front, start)
    pulled = {(c["entity"], c["id"]): c["record"] for c in changes}
    assert {"household", "assessment", "review_campaign"} == {e for e, _ in pulled}
    shot = {h["household"]["id"]: h for h in await snapshot(anonymous_client, front, "13384")}
    (in_snapshot,) = shot[assessed["household_id"]]["assessments"]
    assert in_snapshot == pulled[("assessment", assessed["id"])]


def _recorded_entity_types() -> set[str]:
    """Every entity type the code can write to the change log: the unit of work takes only
    `EntityType` values (mypy holds every caller to it)."""
    hints = typing.get_type_hints(UnitOfWork.record)
    assert hints["entity_type"] is EntityType
    return {t.value for t in EntityType}


def test_every_entity_type_in_the_change_log_has_a_read_permission() -> None:
    recorded = _recorded_entity_types()
    assert {"household", "member", "assessment", "user_account", "admin_unit"} <= recorded
    assert recorded <= set(access.READ_PERMISSION), recorded - set(access.READ_PERMISSION)


async def test_the_change_feed_lists_only_record_types_the_caller_may_read(
    anonymous_app: FastAPI, anonymous_client: httpx.AsyncClient, services: Services
) -> None:
    c = anonymous_client
    admin = await whole_country(anonymous_app, services, Role.ADMIN)
    start = ok(await c.get("/api/v1/changes", params={"limit": 1}, headers=admin))
    while start["has_more"]:
        start = ok(
            await c.get(
                "/api/v1/changes",
                params={"limit": 200, "after": start["next_cursor"]},
                headers=admin,
            )
        )
    after = start["next_cursor"]
    await services.identity.create_user(
        UserCreate(
            username=f"feed-reviewer-{next(_serial)}",
            full_name="Người Rà Soát",
            password="mật khẩu đủ dài",
            role=Role.REVIEWER,
            area_codes=["13384"],
        )
    )
    client_id, partner_headers = await partner(c, services)
    reviewer, _ = await token_headers(anonymous_app, services, Role.REVIEWER, ["13384"])
    officer, _ = await token_headers(anonymous_app, services, Role.COMMUNE_OFFICER, ["13384"])
    query = "query($a: String) { changes(first: 200, after: $a) { items { entityType } } }"

    async def types(headers: dict[str, str]) -> list[str]:
        rest = ok(await c.get("/api/v1/changes", params={"after": after}, headers=headers))
        graph = ok(
            await c.post(
                "/graphql", json={"query": query, "variables": {"a": after}}, headers=headers
            )
        )
        via_graphql = [i["entityType"] for i in graph["data"]["changes"]["items"]]
        via_rest = [i["entity_type"] for i in rest["items"]]
        assert via_rest == via_graphql
        return via_rest

    assert sorted(set(await types(admin))) == ["partner_client", "user_account"]
    assert await types(officer) == ["user_account"]  # users:manage, in its commune
    assert await types(reviewer) == []
    assert await types(partner_headers) == []
    assert client_id
