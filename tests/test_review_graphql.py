"""The review through GraphQL: the same use cases, the same answers and error codes as REST."""

from typing import Any

import httpx

from api.domain.services import Services
from tests.builders import make_household, make_member

HOME = {
    "floor_area_m2": 20,
    "wall_material": "non_durable",
    "column_material": "durable",
    "roof_material": "non_durable",
    "water_source": "unprotected_well",
    "latrine_type": "unhygienic",
    "uses_telecom": True,
    "information_assets": ["phone"],
}
ASSESSMENT = """
fragment A on Assessment {
  id state status deprivationCount missing version standardCode area
  indicators { code source derived deprived derivation reason }
  answers { monthlyIncomePerCapita causes indicators { code deprived reason } }
  transitions { action fromState toState }
}"""


async def _gql(client: httpx.AsyncClient, query: str, **variables: Any) -> dict[str, Any]:
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _campaign(client: httpx.AsyncClient) -> str:
    body = await _gql(
        client,
        """mutation { createCampaign(input: {communeCode: "13384", kind: PERIODIC,
            name: "Rà soát 2024", opensOn: "2024-09-01"}) { id standardCode closesOn } }""",
    )
    campaign = body["data"]["createCampaign"]
    assert (campaign["standardCode"], campaign["closesOn"]) == ("nd-07-2021", "2024-12-14")
    return str(campaign["id"])


async def test_a_survey_is_classified_and_stepped_through_graphql(
    client: httpx.AsyncClient, services: Services
) -> None:
    household = await make_household(services, "13384-01", **HOME)
    await make_member(
        services,
        household.id,
        relation_to_head="head",
        health_insurance=True,
        employment="self_employed",
        labour_capacity=True,
    )
    campaign = await _campaign(client)
    create = (
        ASSESSMENT
        + """
    mutation($c: ID!, $h: ID!) { createAssessment(input: {campaignId: $c, householdId: $h,
      surveyedOn: "2024-10-01", answers: {monthlyIncomePerCapita: 1200000, causes: [ILLNESS],
      indicators: [{code: "nutrition", deprived: false},
                   {code: "latrine", deprived: false, reason: "new latrine built in October"}]}})
      { ...A } }"""
    )
    body = await _gql(client, create, c=campaign, h=str(household.id))
    a = body["data"]["createAssessment"]
    by_code = {i["code"]: i for i in a["indicators"]}
    assert by_code["housing_quality"]["source"] == "derived"
    assert "walls, roof" in by_code["housing_quality"]["derivation"]
    assert (by_code["latrine"]["source"], by_code["latrine"]["reason"]) == (
        "override",
        "new latrine built in October",
    )
    assert by_code["nutrition"]["source"] == "answered"
    # Derived: housing quality, water; the latrine overridden to not deprived: 2 < 3.
    assert (a["status"], a["deprivationCount"], a["area"]) == ("NEAR_POOR", 2, "urban")
    assert {"code": "latrine", "deprived": False, "reason": "new latrine built in October"} in a[
        "answers"
    ]["indicators"]

    rest = (await client.get(f"/api/v1/assessments/{a['id']}")).json()
    assert (rest["status"], rest["deprivation_count"], rest["version"]) == ("near_poor", 2, 1)

    submit = (
        ASSESSMENT
        + """
    mutation($id: UUID!) { transitionAssessment(id: $id, input: {action: SUBMIT, version: 1})
      { ...A } }"""
    )
    submitted = (await _gql(client, submit, id=a["id"]))["data"]["transitionAssessment"]
    assert (submitted["state"], submitted["version"]) == ("SUBMITTED", 2)
    assert submitted["transitions"] == [
        {"action": "submit", "fromState": "draft", "toState": "submitted"}
    ]
    again = await _gql(client, submit.replace("version: 1", "version: 2"), id=a["id"])
    assert again["data"] is None
    assert again["errors"][0]["extensions"]["code"] == "invalid_transition"


async def test_graphql_names_the_field_at_fault(
    client: httpx.AsyncClient, services: Services
) -> None:
    household = await make_household(services, "13384-01", **HOME)
    campaign = await _campaign(client)
    body = await _gql(
        client,
        """mutation($c: ID!, $h: ID!) { createAssessment(input: {campaignId: $c,
          householdId: $h, surveyedOn: "2024-10-01", answers: {indicators: [
            {code: "housing_quality", deprived: false}]}}) { id } }""",
        c=campaign,
        h=str(household.id),
    )
    error = body["errors"][0]["extensions"]
    assert error["code"] == "validation_failed"
    assert [e["path"] for e in error["errors"]] == [
        "input.answers.indicators.housingQuality.reason"
    ]
    assert error["errors"][0]["code"] == "override_reason_required"
    listed = (await client.get("/api/v1/assessments", params={"campaign_id": campaign})).json()
    assert listed["items"] == []  # nothing half-written


async def test_standards_and_what_if_through_graphql(client: httpx.AsyncClient) -> None:
    body = await _gql(
        client,
        """{ standards { code validFrom incomeLines indicators { code provisional } }
             standard(code: "nd-351-2025") { rule } }""",
    )
    codes = [s["code"] for s in body["data"]["standards"]]
    assert codes == ["qd-59-2015", "nd-07-2021", "nd-351-2025"]
    latest = body["data"]["standards"][2]
    assert latest["incomeLines"]["rural"]["line"] == 2_200_000
    assert latest["incomeLines"]["urban"]["line"] == 2_800_000
    assert all(i["provisional"] for i in latest["indicators"])
    assert body["data"]["standard"]["rule"]["min_deprivations"] == 3
