"""What the review derives from personal fields falls under the masking of those fields: a
derivation text that names the ages of members without health insurance, a status flag that
says the head belongs to an ethnic minority. Partners read statuses with a purpose, logged."""

import itertools
from datetime import date
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from api.domain.access import Role
from api.domain.households.member_models import Relation
from api.domain.identity.shapes import PartnerCreate
from api.domain.services import Services
from tests.builders import (
    SOUND_HOME,
    drive,
    make_household,
    make_member,
    ok,
    open_campaign,
    token_headers,
    whole_country,
)
from tests.test_sync_readable import drain, snapshot

Json = dict[str, Any]
_serial = itertools.count(1)
INSURANCE = "indicators.health_insurance.derivation"
ASSESSMENT_QUERY = """query($id: UUID!, $h: UUID!) {
  assessment(id: $id) { redacted indicators { code derivation derived deprived } }
  assessments(householdId: $h) { nodes { redacted indicators { code derivation } } }
}"""
STATUS_QUERY = """query($h: UUID!) {
  householdStatus(householdId: $h) { status record { flags redacted } }
  household(id: $h) { statusOn { record { flags redacted } } statusHistory { flags redacted } }
}"""


async def _officer(app: FastAPI, client: httpx.AsyncClient, services: Services) -> None:
    """Requests without a token of their own go as an officer of commune 13384."""
    officer, _ = await token_headers(app, services, Role.COMMUNE_OFFICER, ["13384"])
    client.headers.update(officer)


async def _surveyed(
    client: httpx.AsyncClient, services: Services, year: int, **answers: Any
) -> Json:
    """A household whose head (aged 65 at the review, of the Mường people) has no health
    insurance, and its draft assessment."""
    household = await make_household(services, "13384-01", **SOUND_HOME)
    await make_member(
        services,
        household.id,
        date_of_birth=date(year - 65, 6, 1),
        relation_to_head=Relation.HEAD,
        health_insurance=False,
        ethnicity="Mường",
        labour_capacity=True,
    )
    campaign = await open_campaign(client, year, "13384")
    body = {
        "campaign_id": campaign["id"],
        "household_id": str(household.id),
        "surveyed_on": campaign["opens_on"],
        "answers": {"monthly_income_per_capita": 500_000, **answers},
    }
    return ok(await client.post("/api/v1/assessments", json=body), 201)


def _insurance(assessment: Json) -> Json:
    found: list[Json] = [i for i in assessment["indicators"] if i["code"] == "health_insurance"]
    return found[0]


async def _graphql(
    client: httpx.AsyncClient, headers: dict[str, str], query: str, **variables: Any
) -> Json:
    body = ok(
        await client.post(
            "/graphql", json={"query": query, "variables": variables}, headers=headers
        )
    )
    assert "errors" not in body, body
    data: Json = body["data"]
    return data


async def test_a_derivation_from_a_masked_field_is_withheld_through_every_door(
    anonymous_app: FastAPI, anonymous_client: httpx.AsyncClient, services: Services
) -> None:
    c = anonymous_client
    await _officer(anonymous_app, c, services)
    front, _ = await token_headers(anonymous_app, services, Role.SUPERVISOR, ["13384"])
    _, start = await drain(c, front)
    assessment = await _surveyed(c, services, 2022, indicators={"nutrition": {"deprived": False}})
    aid, hid = assessment["id"], assessment["household_id"]
    # The officer, who reads personal data, sees whom it is about.
    assert "(aged 65)" in _insurance(assessment)["derivation"]
    assert (_insurance(assessment)["deprived"], assessment["redacted"]) == (True, [])

    seen: list[Json] = [
        ok(await c.get(f"/api/v1/assessments/{aid}", headers=front)),
        ok(await c.get("/api/v1/assessments", params={"household_id": hid}, headers=front))[
            "items"
        ][0],
    ]
    graph = await _graphql(c, front, ASSESSMENT_QUERY, id=aid, h=hid)
    seen += [graph["assessment"], graph["assessments"]["nodes"][0]]
    changes, _ = await drain(c, front, start)
    seen += [x["record"] for x in changes if x["entity"] == "assessment"]
    shot = {h["household"]["id"]: h for h in await snapshot(c, front, "13384")}
    seen += shot[hid]["assessments"]
    assert len(seen) == 6
    for view in seen:
        assert view["redacted"] == [INSURANCE]
        assert _insurance(view)["derivation"] is None
        # Derivations from fields the supervisor may see stay.
        assert all(i["derivation"] for i in view["indicators"] if i["code"] != "health_insurance")
        assert "aged 65" not in str(view)
    # What the review decided stays: the deprivation is the review's result.
    assert (_insurance(seen[0])["derived"], _insurance(seen[0])["deprived"]) == (True, True)


async def _partner(client: httpx.AsyncClient, services: Services, agency: str) -> tuple[str, str]:
    client_id = f"status-{agency.replace('_', '-')}-{next(_serial)}"
    secret = "partner secret for status tests"
    await services.identity.create_partner(
        PartnerCreate(client_id=client_id, name=agency, agency=agency, area_codes=["37"]),
        secret=secret,
    )
    response = await client.post(
        "/api/v1/auth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    return client_id, f"Bearer {ok(response)['access_token']}"


async def _recognised_minority_household(
    app: FastAPI, client: httpx.AsyncClient, services: Services
) -> str:
    await _officer(app, client, services)
    nutrition = {"nutrition": {"deprived": True}}
    assessment = await _surveyed(client, services, 2025, indicators=nutrition)
    await drive(client, assessment, "recognised", date(2025, 12, 20))
    return str(assessment["household_id"])


async def _status_views(client: httpx.AsyncClient, headers: dict[str, str], hid: str) -> list[Json]:
    """The status record as REST and GraphQL give it: as of today, and the history."""
    now = ok(await client.get(f"/api/v1/households/{hid}/status", headers=headers))
    history = await client.get(f"/api/v1/households/{hid}/status-history", headers=headers)
    assert history.status_code == 200, history.text
    graph = await _graphql(client, headers, STATUS_QUERY, h=hid)
    return [
        now["record"],
        *history.json(),
        graph["householdStatus"]["record"],
        graph["household"]["statusOn"]["record"],
        *graph["household"]["statusHistory"],
    ]


async def test_a_status_flag_from_a_masked_field_is_withheld(
    anonymous_app: FastAPI, anonymous_client: httpx.AsyncClient, services: Services
) -> None:
    c = anonymous_client
    hid = await _recognised_minority_household(anonymous_app, c, services)
    views = await _status_views(c, {}, hid)
    assert [v["flags"] for v in views] == [["ethnic_minority"]] * 2 + [["ETHNIC_MINORITY"]] * 3
    assert all(v["redacted"] == [] for v in views)

    front, _ = await token_headers(anonymous_app, services, Role.SUPERVISOR, ["13384"])
    for view in await _status_views(c, front, hid):
        assert (view["flags"], view["redacted"]) == ([], ["flags.ethnic_minority"])


@pytest.mark.parametrize("agency", ["social_policy_bank", "health"])
async def test_a_partner_reads_statuses_with_a_purpose_and_each_read_is_logged(
    anonymous_app: FastAPI, anonymous_client: httpx.AsyncClient, services: Services, agency: str
) -> None:
    c = anonymous_client
    hid = await _recognised_minority_household(anonymous_app, c, services)
    client_id, token = await _partner(c, services, agency)
    bare = {"Authorization": token}
    for path in (f"/api/v1/households/{hid}/status", f"/api/v1/households/{hid}/status-history"):
        refused = await c.get(path, headers=bare)
        assert refused.status_code == 400, refused.text
        assert refused.json()["code"] == "purpose_required"
    graph = ok(
        await c.post(
            "/graphql",
            json={"query": STATUS_QUERY, "variables": {"h": hid}},
            headers=bare,
        )
    )
    assert {e["extensions"]["code"] for e in graph["errors"]} == {"purpose_required"}

    admin = await whole_country(anonymous_app, services, Role.ADMIN)
    reads_of = {"actor": f"partner:{client_id}", "entity_id": hid}

    async def logged() -> list[str]:
        response = await c.get("/api/v1/audit/reads", headers=admin, params=reads_of)
        assert response.status_code == 200, response.text
        return [r["entity_type"] for r in response.json()]

    assert await logged() == []
    views = await _status_views(c, {**bare, "X-Purpose": "vay von ho ngheo"}, hid)
    for view in views:
        assert (view["flags"], view["redacted"]) == ([], ["flags.ethnic_minority"])
    # Status now, history, and three GraphQL fields; the household itself as a household.
    assert sorted(await logged()) == ["household"] + ["household_status"] * 5
