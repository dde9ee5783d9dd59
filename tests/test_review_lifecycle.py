"""An assessment's review over REST: the state machine step by step, who may take each step,
derived indicators and their overrides, classification, idempotent creation and batch steps."""

import uuid
from datetime import date

import httpx
import pytest
from fastapi import FastAPI

from api.domain.access import Role
from api.domain.services import Services
from tests.builders import (
    FORWARD,
    POOR_HOME,
    REACHED_BY,
    SOUND_HOME,
    Json,
    assess,
    drive,
    feed,
    fields,
    make_household,
    ok,
    open_campaign,
    refusal,
    reread,
    step,
    survey,
    take,
    token_headers,
)

ON = date(2022, 12, 20)
# Where each step leads from each state it is allowed in (written out, not read from the code).
STEPS_TABLE = """
draft              submit>submitted
submitted          record_meeting>agreed refuse>refused
returned           submit>submitted
agreed             post>posted return_for_resurvey>returned refuse>refused
posted             record_complaint>posted return_for_resurvey>returned refuse>refused
posted             district_opinion>district_reviewed recognise>recognised
district_reviewed  recognise>recognised refuse>refused
recognised         issue_certificate>certified
certified
refused
"""
LEGAL: dict[str, dict[str, str]] = {}
for row in STEPS_TABLE.strip().splitlines():
    state, *moves = row.split()
    LEGAL.setdefault(state, {}).update((m.split(">")[0], m.split(">")[1]) for m in moves)
ACTIONS = sorted({a for moves in LEGAL.values() for a in moves})
# Decisions from 1 July 2025 need no district opinion: recognition is allowed from posted.
LATE = date(2025, 7, 1)


# Walls and roof non-durable, surface water, no latrine: 3 derived deprivations.
def _url(assessment: Json) -> str:
    return f"/api/v1/assessments/{assessment['id']}"


def _create(campaign: Json, household_id: uuid.UUID, answers: Json) -> Json:
    ids = {"campaign_id": campaign["id"], "household_id": str(household_id)}
    return {**ids, "surveyed_on": "2022-09-20", "answers": answers}


async def _at(
    client: httpx.AsyncClient, services: Services, state: str, income: int = 900_000
) -> Json:
    """A new household's assessment (no deprivation, income `income`) taken to `state`."""
    campaign = await open_campaign(client)
    return await drive(client, await assess(client, services, campaign, survey(income)), state)


def _indicator(assessment: Json, code: str) -> Json:
    found: Json = next(i for i in assessment["indicators"] if i["code"] == code)
    return found


async def test_full_review_before_july_2025_with_the_district_opinion(
    client: httpx.AsyncClient, services: Services
) -> None:
    campaign = await open_campaign(client, 2022)
    assert (campaign["standard_code"], campaign["closes_on"]) == ("nd-07-2021", "2022-12-14")
    _, start = await feed(client, None)
    a = await assess(client, services, campaign, survey(1_000_000, deprived=True))
    assert (a["state"], a["version"], a["status"], a["transitions"]) == ("draft", 1, "poor", [])
    # draft, submitted, agreed, posted, district_reviewed, recognised, certified
    route = ["draft", *REACHED_BY]
    for n, action in enumerate(FORWARD, start=1):
        source, target = route[n - 1], route[n]
        if action == "district_opinion":  # a decision of 2022 cannot come before it
            early = await take(client, a, step("recognise", a["version"], ON))
            assert "district" in refusal(early, 409, "invalid_transition")["detail"]
        response = await take(client, a, step(action, a["version"], ON))
        a = ok(response)
        assert (a["state"], a["version"], len(a["transitions"])) == (target, n + 1, n)
        assert response.headers["etag"] == f'"{n + 1}"'
        last = {**a["transitions"][-1], "at": None}
        assert last == dict(
            at=None, by="system", action=action, from_state=source, to_state=target, reason=None
        )
    times = [t["at"] for t in a["transitions"]]
    assert times == sorted(times)
    assert (a["meeting"]["attendees"], a["meeting"]["agreeing"]) == (20, 15)
    dates = {a["posted_on"], a["decision"]["decided_on"], a["certificate"]["issued_on"]}
    assert dates == {"2022-12-20"}
    assert a["district_opinion"]["agrees"] is True
    assert await reread(client, a) == a

    entries, _ = await feed(client, start)
    mine = [(e["entity_type"], e["operation"], e["version"], e["changed_fields"]) for e in entries]
    assert [m for m, e in zip(mine, entries, strict=True) if e["entity_id"] == a["id"]] == [
        ("assessment", "create", 1, []),
        *[("assessment", "transition", v, ["action", "state"]) for v in range(2, 8)],
    ]
    assert ("household", "update", 2, ["poverty_status"]) in mine
    assert ("household_status", "create", 1, ["movement", "status"]) in mine
    household = (await client.get(f"/api/v1/households/{a['household_id']}")).json()
    assert household["poverty_status"] == "poor"


async def test_the_district_opinion_is_needed_for_decisions_until_30_june_2025(
    client: httpx.AsyncClient, services: Services
) -> None:
    a = await _at(client, services, "posted")
    early = await take(client, a, step("recognise", a["version"], date(2025, 6, 30)))
    assert refusal(early, 409, "invalid_transition")["state"] == "posted"
    assert await reread(client, a) == a
    done = ok(await take(client, a, step("recognise", a["version"], LATE)))
    assert (done["state"], done["decision"]["decided_on"]) == ("recognised", "2025-07-01")
    actions = [t["action"] for t in done["transitions"]]
    assert actions == ["submit", "record_meeting", "post", "recognise"]


@pytest.mark.parametrize(
    ("agreeing", "state"),
    [(20, "agreed"), (10, "agreed"), (9, "returned"), (0, "returned"), (21, "submitted")],
)
async def test_the_meeting_agrees_with_at_least_half_of_those_attending(
    client: httpx.AsyncClient, services: Services, agreeing: int, state: str
) -> None:
    a = await _at(client, services, "submitted")
    body = step("record_meeting", a["version"], ON)
    body["meeting"]["agreeing"] = agreeing
    if state == "submitted":  # more agreeing than attending
        problem = refusal(await take(client, a, body), 422, "validation_failed")
        assert fields(problem) == [("body.meeting.agreeing", "invalid_range")]
        assert await reread(client, a) == a
        return
    after = ok(await take(client, a, body))
    assert (after["state"], after["meeting"]["agreeing"], after["version"]) == (state, agreeing, 3)
    assert after["transitions"][-1]["to_state"] == state


async def test_a_returned_assessment_is_edited_and_submitted_again(
    client: httpx.AsyncClient, services: Services
) -> None:
    campaign = await open_campaign(client)
    a = await assess(client, services, campaign, survey(900_000, deprived=True))
    a = await drive(client, a, "returned")
    assert (a["status"], a["version"], a["meeting"]["agreeing"]) == ("poor", 3, 2)
    patched = await client.patch(
        _url(a), json={"answers": survey(900_000, deprived=False)}, headers={"If-Match": '"3"'}
    )
    edited = ok(patched)
    assert (edited["state"], edited["version"], edited["status"]) == ("returned", 4, "near_poor")
    assert (edited["deprivation_count"], patched.headers["etag"]) == (0, '"4"')
    stale = await take(client, edited, step("submit", 3, ON))
    assert refusal(stale, 412, "version_conflict")["current_version"] == 4
    assert stale.headers["etag"] == '"4"'
    submitted = ok(await take(client, edited, step("submit", 4, ON)))
    assert (submitted["state"], submitted["version"]) == ("submitted", 5)
    assert [(t["from_state"], t["to_state"]) for t in submitted["transitions"]] == [
        ("draft", "submitted"),
        ("submitted", "returned"),
        ("returned", "submitted"),
    ]
    frozen = await client.patch(_url(a), json={"answers": survey(900_000, deprived=True)})
    assert refusal(frozen, 409, "invalid_transition")["state"] == "submitted"
    assert await reread(client, a) == submitted


@pytest.mark.parametrize(("state", "action"), [(s, a) for s in LEGAL for a in ACTIONS])
async def test_each_step_is_taken_only_from_its_states(
    client: httpx.AsyncClient, services: Services, state: str, action: str
) -> None:
    a = await _at(client, services, state)
    _, cursor = await feed(client, None)
    response = await take(client, a, step(action, a["version"], LATE))
    changes, _ = await feed(client, cursor)
    entries = [(e["entity_id"], e["operation"], e["version"]) for e in changes]
    target = LEGAL[state].get(action)
    if target is None:
        problem = refusal(response, 409, "invalid_transition")
        assert (problem["state"], problem["action"]) == (state, action)
        assert await reread(client, a) == a
        assert entries == []
        return
    done = ok(response)
    assert (done["state"], done["version"]) == (target, a["version"] + 1)
    last = done["transitions"][-1]
    assert (last["action"], last["from_state"], last["to_state"]) == (action, state, target)
    assert last["reason"] == step(action, None, LATE).get("reason")
    assert (a["id"], "transition", done["version"]) in entries
    complained = [c["by"] for c in done["complaints"]]
    assert complained == (["Hộ ông Tám"] if action == "record_complaint" else [])


@pytest.mark.parametrize(
    ("state", "action", "field"),
    [
        ("submitted", "record_meeting", "meeting"),
        ("agreed", "post", "posted_on"),
        ("posted", "record_complaint", "complaint"),
        ("agreed", "return_for_resurvey", "reason"),
        ("posted", "district_opinion", "district_opinion"),
        ("district_reviewed", "recognise", "decision"),
        ("recognised", "issue_certificate", "certificate"),
        ("submitted", "refuse", "reason"),
    ],
)
async def test_a_step_without_its_record_is_refused(
    client: httpx.AsyncClient, services: Services, state: str, action: str, field: str
) -> None:
    a = await _at(client, services, state)
    response = await take(client, a, {"action": action, "version": a["version"]})
    problem = refusal(response, 422, "validation_failed")
    assert problem["errors"] == [
        {"path": f"body.{field}", "message": f"required to {action}", "code": "required"}
    ]
    assert await reread(client, a) == a


async def test_each_step_belongs_to_a_role_and_an_area(
    anonymous_app: FastAPI, anonymous_client: httpx.AsyncClient, services: Services
) -> None:
    c = anonymous_client
    app = anonymous_app
    reviewer, reviewer_id = await token_headers(app, services, Role.REVIEWER, ["13384"])
    officer, officer_id = await token_headers(app, services, Role.COMMUNE_OFFICER, ["13384"])
    district, district_id = await token_headers(app, services, Role.DISTRICT_OFFICER, ["13384"])
    outsider, _ = await token_headers(app, services, Role.REVIEWER, ["13393"])
    stranger, _ = await token_headers(app, services, Role.COMMUNE_OFFICER, ["13393"])
    campaign_body = {"commune_code": "13384", "kind": "periodic", "name": "Rà soát 2022"}
    campaign_body |= {"opens_on": "2022-09-01"}
    by_reviewer = await c.post("/api/v1/campaigns", json=campaign_body, headers=reviewer)
    refusal(by_reviewer, 403, "forbidden")
    campaign = ok(await c.post("/api/v1/campaigns", json=campaign_body, headers=officer), 201)
    assert (campaign["closes_on"], campaign["created_by"]) == ("2022-12-14", officer_id)
    household = await make_household(services, "13384-01", **SOUND_HOME)
    create = _create(campaign, household.id, survey(900_000))
    outside = await c.post("/api/v1/assessments", json=create, headers=outsider)
    problem = refusal(outside, 422, "validation_failed")
    assert fields(problem) == [("body.campaign_id", "not_found")]
    a = ok(await c.post("/api/v1/assessments", json=create, headers=reviewer), 201)
    assert a["surveyed_by"] == reviewer_id

    async def attempt(action: str, headers: dict[str, str], status: int) -> None:
        nonlocal a
        response = await c.post(
            _url(a) + "/transitions", json=step(action, a["version"], ON), headers=headers
        )
        if status == 200:
            a = ok(response)
        else:
            refusal(response, status, "forbidden" if status == 403 else "not_found")
            assert (await c.get(_url(a), headers=officer)).json() == a

    await attempt("submit", reviewer, 200)
    await attempt("record_meeting", reviewer, 403)
    await attempt("record_meeting", district, 403)
    await attempt("record_meeting", officer, 200)
    await attempt("post", officer, 200)
    await attempt("district_opinion", reviewer, 403)
    await attempt("district_opinion", officer, 403)
    await attempt("district_opinion", outsider, 403)
    await attempt("district_opinion", district, 200)
    await attempt("recognise", district, 403)
    await attempt("recognise", stranger, 404)
    await attempt("recognise", officer, 200)
    assert a["state"] == "recognised"
    by = [reviewer_id, officer_id, officer_id, district_id, officer_id]
    assert [t["by"] for t in a["transitions"]] == by

    refusal(await c.get(_url(a), headers=outsider), 404, "not_found")
    refusal(await c.patch(_url(a), json={}, headers=outsider), 404, "not_found")
    refusal(await c.get(f"/api/v1/campaigns/{campaign['id']}", headers=outsider), 404, "not_found")
    query = {"campaign_id": a["campaign_id"]}
    for headers, ids in ((outsider, []), (reviewer, [a["id"]])):
        listed = ok(await c.get("/api/v1/assessments", params=query, headers=headers))
        assert [x["id"] for x in listed["items"]] == ids
        campaigns = await c.get("/api/v1/campaigns", params={"year": 2022}, headers=headers)
        assert (campaign in campaigns.json()) == bool(ids)


async def test_a_derived_indicator_stands_unless_overridden_with_a_reason(
    client: httpx.AsyncClient, services: Services
) -> None:
    campaign, url = await open_campaign(client), "/api/v1/assessments"
    weak = {"wall_material": "non_durable", "roof_material": "non_durable"}
    household = await make_household(services, "13384-01", **{**SOUND_HOME, **weak})
    differs = survey(900_000)
    differs["indicators"]["housing_quality"] = {"deprived": False}
    refused = await client.post(url, json=_create(campaign, household.id, differs))
    (error,) = refusal(refused, 422, "validation_failed")["errors"]
    path = "body.answers.indicators.housing_quality.reason"
    assert (error["path"], error["code"]) == (path, "override_reason_required")
    assert "deprived=True" in error["message"]

    agrees = survey(900_000)
    agrees["indicators"]["housing_quality"] = {"deprived": True}  # the same as derived
    a = ok(await client.post(url, json=_create(campaign, household.id, agrees)), 201)
    derived = {
        "code": "housing_quality",
        "dimension": "housing",
        "derived": True,
        "derivation": "non-durable: walls, roof; at least 2 of 3 makes it deprived",
        "answered": True,
        "reason": None,
        "deprived": True,
        "source": "derived",
    }
    assert _indicator(a, "housing_quality") == derived
    assert (a["deprivation_count"], a["status"]) == (1, "near_poor")

    refusal(await client.patch(_url(a), json={"answers": differs}), 422, "validation_failed")
    why = differs["indicators"]["housing_quality"]["reason"] = "Nhà đã được sửa năm 2022"
    patched = ok(await client.patch(_url(a), json={"answers": differs, "version": 1}))
    overridden = {"answered": False, "deprived": False, "reason": why, "source": "override"}
    assert _indicator(patched, "housing_quality") == derived | overridden
    assert (patched["deprivation_count"], patched["version"]) == (0, 2)


@pytest.mark.parametrize(
    ("village", "income", "status", "missing"),
    [
        ("13384-01", 1_900_000, "poor", []),
        ("13384-01", 2_000_000, "poor", []),
        ("13384-01", 2_500_000, None, ["agricultural"]),  # the average band asks
        ("13384-01", 3_000_001, "not_poor", []),
        ("13387-01", 1_500_000, "poor", []),
        ("13387-01", 1_900_000, None, ["agricultural"]),
    ],
)
async def test_the_class_is_computed_from_income_and_deprivations(
    client: httpx.AsyncClient,
    services: Services,
    village: str,
    income: int,
    status: str | None,
    missing: list[str],
) -> None:
    # 13384 is an urban ward; 13387 was a rural commune in 2022 (merged into 13396 in 2025).
    area, line = {"13384-01": ("urban", 2_000_000), "13387-01": ("rural", 1_500_000)}[village]
    campaign = await open_campaign(client, 2022, village[:5])
    answers = survey(income)  # the three answered indicators are not deprived
    a = await assess(client, services, campaign, answers, village, **POOR_HOME)
    deprived = sorted(i["code"] for i in a["indicators"] if i["deprived"])
    assert deprived == ["domestic_water", "housing_quality", "latrine"]
    assert (a["area"], a["deprivation_count"]) == (area, 3)
    assert (a["status"], a["missing"]) == (status, missing)
    assert f"income {income:,} against the line {line:,}" in a["explanation"]


@pytest.mark.parametrize(
    ("answers", "paths"),
    [
        (survey(None, deprived=True), ["answers.monthly_income_per_capita"]),
        (survey(2_500_000), ["answers.agricultural"]),
        (
            {"monthly_income_per_capita": 900_000},
            [f"answers.indicators.{c}" for c in ("dependants", "nutrition", "housing_area")],
        ),
    ],
)
async def test_submission_needs_what_classification_needs(
    client: httpx.AsyncClient, services: Services, answers: Json, paths: list[str]
) -> None:
    a = await assess(client, services, await open_campaign(client), answers)
    assert a["status"] is None
    problem = refusal(await take(client, a, step("submit", 1, ON)), 422, "validation_failed")
    assert fields(problem) == [(f"body.{p}", "required") for p in paths]
    assert await reread(client, a) == a


async def test_creation_is_idempotent_and_one_per_household_and_campaign(
    client: httpx.AsyncClient, services: Services
) -> None:
    campaign = await open_campaign(client)
    household = await make_household(services, "13384-01", **SOUND_HOME)
    body = _create(campaign, household.id, survey(900_000))
    key = {"Idempotency-Key": f"assess-{uuid.uuid4()}"}
    first = await client.post("/api/v1/assessments", json=body, headers=key)
    again = await client.post("/api/v1/assessments", json=body, headers=key)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["location"] == f"/api/v1/assessments/{first.json()['id']}"
    listed = await client.get("/api/v1/assessments", params={"household_id": str(household.id)})
    assert [x["id"] for x in listed.json()["items"]] == [first.json()["id"]]
    duplicate = await client.post("/api/v1/assessments", json=body)
    assert refusal(duplicate, 409, "conflict")["existing_id"] == first.json()["id"]
    next_year = await open_campaign(client, 2023)
    other = await client.post("/api/v1/assessments", json={**body, "campaign_id": next_year["id"]})
    assert ok(other, 201)["household_id"] == str(household.id)


@pytest.mark.parametrize("fault", ["wrong_state", "other_campaign"])
async def test_a_batch_step_is_all_or_nothing(
    client: httpx.AsyncClient, services: Services, fault: str
) -> None:
    campaign = await open_campaign(client)
    first, second = [
        await drive(client, await assess(client, services, campaign, survey(900_000)), "submitted")
        for _ in range(2)
    ]
    elsewhere = campaign if fault == "wrong_state" else await open_campaign(client, 2023)
    third = await assess(client, services, elsewhere, survey(900_000))
    if fault == "other_campaign":
        third = await drive(client, third, "submitted")
    before = [first, second, third]
    _, cursor = await feed(client, None)
    batch = {**step("record_meeting", None, ON), "assessment_ids": [x["id"] for x in before]}
    url = f"/api/v1/campaigns/{campaign['id']}/transitions"
    status, code = (409, "invalid_transition") if fault == "wrong_state" else (404, "not_found")
    problem = refusal(await client.post(url, json=batch), status, code)
    assert (problem["index"], problem["assessment_id"]) == (2, third["id"])
    assert [await reread(client, x) for x in before] == before
    assert (await feed(client, cursor))[0] == []
    if fault == "wrong_state":
        await drive(client, third, "submitted")
        done = await client.post(url, json=batch)
        assert done.status_code == 200, done.text
        assert [(x["id"], x["state"], x["version"]) for x in done.json()] == [
            (x["id"], "agreed", 3) for x in before
        ]


async def test_a_batch_refusal_names_the_position_in_the_request(
    client: httpx.AsyncClient, services: Services
) -> None:
    """The same id twice in the list: `index` must still point into the list as sent."""
    campaign = await open_campaign(client)
    ready = await drive(client, await assess(client, services, campaign, survey(9)), "submitted")
    draft = await assess(client, services, campaign, survey(900_000))
    ids = [ready["id"], ready["id"], draft["id"]]
    batch = {**step("record_meeting", None, ON), "assessment_ids": ids}
    response = await client.post(f"/api/v1/campaigns/{campaign['id']}/transitions", json=batch)
    problem = refusal(response, 409, "invalid_transition")
    assert problem["assessment_id"] == ids[problem["index"]]
    assert problem["index"] == 2


async def test_no_certificate_for_a_household_recognised_as_not_poor(
    client: httpx.AsyncClient, services: Services
) -> None:
    a = await _at(client, services, "recognised", income=5_000_000)
    household = ok(await client.get(f"/api/v1/households/{a['household_id']}"))
    assert a["status"] == household["poverty_status"] == "not_poor"
    response = await take(client, a, step("issue_certificate", a["version"], ON))
    problem = refusal(response, 409, "invalid_transition")
    assert (problem["state"], problem["action"]) == ("recognised", "issue_certificate")
    assert "poor and near-poor" in problem["detail"]
    after = await reread(client, a)
    assert after == a
    assert (after["state"], after["certificate"]) == ("recognised", None)
