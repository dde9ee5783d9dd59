"""Eligibility through both doors: derived from the household's recognised status on the day
and its members' facts, with Vietnamese reasons; a recognition decision moves it; a verdict
resting on a field hidden from the reader is left out; partners read it with a purpose."""

import uuid
from datetime import date
from typing import Any

import httpx
from fastapi import FastAPI

from api.domain.access import Role
from api.domain.households.member_models import Disability, Relation
from api.domain.identity.shapes import PartnerCreate
from api.domain.services import Services
from tests.builders import (
    assess,
    drive,
    make_member,
    ok,
    open_campaign,
    refusal,
    survey,
    token_headers,
)

Json = dict[str, Any]
AFTER = "2023-06-01"
BEFORE = "2022-06-01"
QUERY = """query($h: UUID!, $on: Date, $p: [String!]) {
  householdEligibility(householdId: $h, asOf: $on, policy: $p) {
    householdId asOf redacted
    verdicts { policy version subjectKind subjectId eligible needing entitled amountVnd
               reasons { code message } } } }"""


async def _poor_household(
    client: httpx.AsyncClient, services: Services, year: int = 2022
) -> tuple[str, Json]:
    """A household recognised poor on 20 December of `year`, and its members by role."""
    campaign = await open_campaign(client, year)
    assessment = await assess(client, services, campaign, survey(1_000_000, deprived=True))
    assert assessment["status"] == "poor"
    await drive(client, assessment, "recognised", date(year, 12, 20))
    hid = uuid.UUID(assessment["household_id"])
    people = {
        "head": await make_member(services, hid, relation_to_head=Relation.HEAD),
        "pupil": await make_member(
            services, hid, date_of_birth=date(2013, 4, 2), attending_school=True
        ),
        "grandmother": await make_member(
            services,
            hid,
            date_of_birth=date(1938, 3, 1),
            relation_to_head=Relation.PARENT,
            disability=Disability.NONE,
        ),
        "student": await make_member(
            services,
            hid,
            date_of_birth=date(2004, 2, 1),
            attending_school=True,
            ethnicity="Mường",
        ),
    }
    return str(hid), {k: str(v.id) for k, v in people.items()}


def _by(verdicts: list[Json], policy: str) -> dict[str, Json]:
    return {v["subject_id"]: v for v in verdicts if v["policy"] == policy}


async def test_recognition_makes_the_household_eligible_with_reasons_and_amounts(
    client: httpx.AsyncClient, services: Services
) -> None:
    hid, people = await _poor_household(client, services)
    url = f"/api/v1/households/{hid}/eligibility"

    before = ok(await client.get(url, params={"as_of": BEFORE}))
    assert before["as_of"] == BEFORE
    assert before["verdicts"]
    assert not any(v["eligible"] for v in before["verdicts"])
    card = _by(before["verdicts"], "bhyt-poor")[people["head"]]
    assert card["reasons"] == [
        {
            "code": "not_eligible",
            "message": "Dành cho hộ nghèo; hiện là chưa có trạng thái được công nhận",
        }
    ]

    after = ok(await client.get(url, params={"as_of": AFTER}))
    verdicts = after["verdicts"]
    cards = _by(verdicts, "bhyt-poor")
    assert set(cards) == set(people.values())
    assert all(v["entitled"] for v in cards.values())
    assert cards[people["head"]]["reasons"][0]["message"].startswith("Là hộ nghèo từ 20/12/2022")
    (electricity,) = _by(verdicts, "electricity").values()
    assert (electricity["subject_kind"], electricity["subject_id"]) == ("household", hid)
    assert (electricity["entitled"], electricity["amount_vnd"]) == (True, 30 * 1728)
    study = _by(verdicts, "study-cost")
    # the student is 19: past the school age the support is for
    assert {k for k, v in study.items() if v["entitled"]} == {people["pupil"]}
    assert study[people["pupil"]]["amount_vnd"] == 150_000
    allowance = _by(verdicts, "social-allowance")
    assert {k for k, v in allowance.items() if v["eligible"]} == {people["grandmother"]}
    assert allowance[people["grandmother"]]["amount_vnd"] == 2 * 360_000
    legal = _by(verdicts, "legal-aid")[people["head"]]
    assert (legal["eligible"], legal["needing"], legal["entitled"]) == (True, False, False)
    assert legal["reasons"][-1]["code"] == "no_need"
    tuition = _by(verdicts, "tuition-higher")
    assert {k for k, v in tuition.items() if v["eligible"]} == {people["student"]}
    assert "social-pension" not in {v["policy"] for v in verdicts}  # in force from July 2025

    graph = ok(
        await client.post("/graphql", json={"query": QUERY, "variables": {"h": hid, "on": AFTER}})
    )
    found = graph["data"]["householdEligibility"]["verdicts"]
    assert len(found) == len(verdicts)
    assert {(v["policy"], v["subjectId"], v["entitled"], v["amountVnd"]) for v in found} == {
        (v["policy"], v["subject_id"], v["entitled"], v["amount_vnd"]) for v in verdicts
    }


async def test_a_verdict_resting_on_a_hidden_field_is_left_out_and_named(
    anonymous_app: FastAPI, anonymous_client: httpx.AsyncClient, services: Services
) -> None:
    officer, _ = await token_headers(anonymous_app, services, Role.COMMUNE_OFFICER, ["13384"])
    anonymous_client.headers.update(officer)
    # after July 2025 a commune recognises without the district's opinion
    hid, _ = await _poor_household(anonymous_client, services, 2025)
    secret = "partner secret for eligibility"
    await services.identity.create_partner(
        PartnerCreate(
            client_id="eligibility-bhxh", name="BHXH", agency="social_insurance", area_codes=["37"]
        ),
        secret=secret,
    )
    token = ok(
        await anonymous_client.post(
            "/api/v1/auth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": "eligibility-bhxh",
                "client_secret": secret,
            },
        )
    )["access_token"]
    url = f"/api/v1/households/{hid}/eligibility"
    bare = {"Authorization": f"Bearer {token}"}
    refusal(await anonymous_client.get(url, headers=bare), 400, "purpose_required")
    seen = ok(
        await anonymous_client.get(
            url, headers={**bare, "X-Purpose": "cap the BHYT"}, params={"as_of": "2026-06-01"}
        )
    )
    # Ethnicity, disability and the grounds of a need are hidden from Social Insurance: the
    # tuition exemption (for ethnic minorities), the social allowance (a disability clause)
    # and legal aid (near-poor people who are accused) would tell them.
    assert seen["redacted"] == ["legal-aid", "social-allowance", "tuition-higher"]
    assert {v["policy"] for v in seen["verdicts"]} >= {"bhyt-poor", "electricity"}
    assert not set(seen["redacted"]) & {v["policy"] for v in seen["verdicts"]}

    outside, _ = await token_headers(anonymous_app, services, Role.COMMUNE_OFFICER, ["13393"])
    refusal(await anonymous_client.get(url, headers=outside), 404, "not_found")


async def test_policies_are_listed_by_day_and_unknown_ones_are_named(
    client: httpx.AsyncClient, services: Services
) -> None:
    every = await client.get("/api/v1/benefit-policies")
    assert len(every.json()) == 17
    found = await client.get("/api/v1/benefit-policies", params={"on": "2024-08-01"})
    on: list[Json] = found.json()
    allowance = next(p for p in on if p["code"] == "social-allowance")
    assert [v["version"] for v in allowance["versions"]] == ["76-2024"]
    assert allowance["versions"][0]["parameters"]["standard_level"]["value"] == 500_000
    electricity = ok(await client.get("/api/v1/benefit-policies/electricity"))
    assert electricity["versions"][0]["amount"] == ["kwh_per_month", "tier1_price"]
    refusal(await client.get("/api/v1/benefit-policies/nope"), 404, "not_found")

    hid, _ = await _poor_household(client, services)
    problem = refusal(
        await client.get(
            f"/api/v1/households/{hid}/eligibility", params={"policy": ["bhyt-poor", "nope"]}
        ),
        422,
        "validation_failed",
    )
    assert [(e["path"], e["code"]) for e in problem["errors"]] == [("query.policy", "unknown")]
    graph = ok(
        await client.post("/graphql", json={"query": QUERY, "variables": {"h": hid, "p": ["nope"]}})
    )
    (error,) = graph["errors"]
    assert error["extensions"]["code"] == "validation_failed"
    assert [e["path"] for e in error["extensions"]["errors"]] == ["policy"]
    only = ok(
        await client.get(
            f"/api/v1/households/{hid}/eligibility",
            params={"policy": "electricity", "as_of": AFTER},
        )
    )
    assert [v["policy"] for v in only["verdicts"]] == ["electricity"]
    listed = ok(
        await client.post(
            "/graphql",
            json={
                "query": '{ benefitPolicies(on: "2023-06-01") {'
                " code agency versions { version confidence } } }"
            },
        )
    )
    codes = {p["code"] for p in listed["data"]["benefitPolicies"]}
    assert len(codes) == 16
    assert "social-pension" not in codes
