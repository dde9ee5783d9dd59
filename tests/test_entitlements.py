"""Stored entitlements: a recognition decision moves them, a recompute that changes nothing
writes nothing, the change log says which households to recompute, and a recorded need turns
an eligible person into an entitled one."""

import uuid
from datetime import date
from typing import Any

import httpx
from fastapi import FastAPI

from api.domain.access import Role
from api.domain.households.member_models import Relation
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
DAY = "2026-06-01"


async def _stored(client: httpx.AsyncClient, url: str) -> list[Json]:
    response = await client.get(url, params={"year": 2026})
    assert response.status_code == 200, response.text
    rows: list[Json] = response.json()
    return rows


async def _recompute(client: httpx.AsyncClient, **params: Any) -> Json:
    return ok(await client.post("/api/v1/entitlements/recompute", params={"as_of": DAY, **params}))


async def test_recognition_moves_entitlements_and_an_idle_recompute_writes_nothing(
    anonymous_app: FastAPI, anonymous_client: httpx.AsyncClient, services: Services
) -> None:
    c = anonymous_client
    officer, _ = await token_headers(anonymous_app, services, Role.COMMUNE_OFFICER, ["13384"])
    c.headers.update(officer)
    await _recompute(c)  # whatever earlier tests left: from here on, only what this one does
    campaign = await open_campaign(c, 2025)
    assessment = await assess(c, services, campaign, survey(1_000_000, deprived=True))
    hid = assessment["household_id"]
    url = f"/api/v1/households/{hid}/entitlements"
    nothing = await _recompute(c)
    assert await _stored(c, url) == []
    assert nothing["written"] == 0

    await drive(c, assessment, "recognised", date(2025, 12, 20))
    head = await make_member(services, uuid.UUID(hid), relation_to_head=Relation.HEAD)
    moved = await _recompute(c)
    assert moved["households"] == 1
    rows = await _stored(c, url)
    by_policy = {(r["policy"], r["subject_id"]): r for r in rows}
    card = by_policy[("bhyt-poor", str(head.id))]
    assert (card["eligible"], card["entitled"], card["version"]) == (True, True, "2021")
    assert card["basis"] == {"status": "poor", "since": "2025-12-20", "needs": []}
    assert card["computed_seq"] == moved["position"]
    assert card["reasons"][0]["message"].startswith("Là hộ nghèo từ 20/12/2025")
    aid = by_policy[("legal-aid", str(head.id))]
    assert (aid["eligible"], aid["needing"], aid["entitled"]) == (True, False, False)
    power = by_policy[("electricity", hid)]
    assert (power["subject_kind"], power["amount_vnd"]) == ("household", 30 * 1984)
    assert moved["written"] == len(rows)

    idle = await _recompute(c)
    assert (idle["households"], idle["written"], idle["removed"]) == (0, 0, 0)
    again = await _recompute(c, full="true")
    assert (again["written"], again["removed"]) == (0, 0)
    assert again["unchanged"] >= len(rows)
    assert await _stored(c, url) == rows  # not rewritten

    need = {"kind": "legal_aid", "member_id": str(head.id), "recorded_on": "2026-02-01"}
    ok(await c.post(f"/api/v1/households/{hid}/needs", json=need), 201)
    after = await _recompute(c)
    assert (after["households"], after["written"]) == (1, 1)
    aid = next(r for r in await _stored(c, url) if r["policy"] == "legal-aid")
    assert (aid["needing"], aid["entitled"], aid["basis"]["needs"]) == (True, True, ["legal_aid"])

    reviewer, _ = await token_headers(anonymous_app, services, Role.REVIEWER, ["13384"])
    refusal(await c.post("/api/v1/entitlements/recompute", headers=reviewer), 403, "forbidden")


async def test_a_recognised_assessment_records_the_support_needs_it_found(
    anonymous_app: FastAPI, anonymous_client: httpx.AsyncClient, services: Services
) -> None:
    c = anonymous_client
    officer, subject = await token_headers(anonymous_app, services, Role.COMMUNE_OFFICER, ["13384"])
    c.headers.update(officer)
    campaign = await open_campaign(c, 2025)
    answers = survey(1_000_000, deprived=True, needs=["health", "credit", "jobs"])
    assessment = await assess(c, services, campaign, answers)
    hid = assessment["household_id"]
    await drive(c, assessment, "recognised", date(2025, 12, 20))
    needs: list[Json] = ok(await c.get(f"/api/v1/households/{hid}/needs"))  # type: ignore[assignment]
    found = [(n["kind"], n["member_id"], n["recorded_on"], n["state"]) for n in needs]
    # Jobs are some member's (the form does not say whose); health names no policy's need.
    assert found == [("credit", None, "2025-12-20", "open")]
    assert [(n["note"], n["recorded_by"]) for n in needs] == [
        ("Ghi nhận từ phiếu rà soát khi công nhận", subject)
    ]
    await _recompute(c)
    loan = next(
        r
        for r in await _stored(c, f"/api/v1/households/{hid}/entitlements")
        if r["policy"] == "credit-poor"
    )
    assert (loan["needing"], loan["entitled"], loan["basis"]["needs"]) == (True, True, ["credit"])

    # The next review finds the same needs: still open, so not recorded twice.
    later = await open_campaign(c, 2026)
    body = {
        "campaign_id": later["id"],
        "household_id": hid,
        "surveyed_on": later["opens_on"],
        "answers": answers,
    }
    again = ok(await c.post("/api/v1/assessments", json=body), 201)
    await drive(c, again, "recognised", date(2026, 12, 20))
    assert len(ok(await c.get(f"/api/v1/households/{hid}/needs"))) == 1
