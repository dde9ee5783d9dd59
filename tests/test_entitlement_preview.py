"""A preview says who would gain or lose an entitlement under a policy version before it is
in force, judged on the same day over the same households, and writes nothing."""

from datetime import date
from typing import Any

import httpx
from fastapi import FastAPI

from api.domain.access import Role
from api.domain.benefits.coverage import Coverage
from api.domain.benefits.policies import Parameter, PolicyCatalog, policies
from api.domain.benefits.preview import Preview
from api.domain.households.models import PovertyStatus
from api.domain.services import Services
from tests.builders import assess, drive, ok, open_campaign, refusal, survey, token_headers

Json = dict[str, Any]
VILLAGE = "13435-03"


def _with_a_2027_electricity_version() -> PolicyCatalog:
    """The shipped catalogue, with electricity's version ending in 2026 and a 2027 one that
    also covers near-poor households and gives 40 kWh."""
    found = []
    for p in policies().policies:
        if p.code == "electricity":
            now = p.versions[-1]
            ended = now.model_copy(update={"valid_to": date(2026, 12, 31)})
            clause = now.clauses[0].model_copy(
                update={"statuses": [PovertyStatus.POOR, PovertyStatus.NEAR_POOR]}
            )
            params = {**now.parameters, "kwh_per_month": Parameter(unit="kWh/tháng", value=40)}
            future = now.model_copy(
                update={
                    "version": "2027",
                    "valid_from": date(2027, 1, 1),
                    "clauses": [clause],
                    "parameters": params,
                }
            )
            p = p.model_copy(update={"versions": [*p.versions[:-1], ended, future]})
        found.append(p)
    return PolicyCatalog(found)


async def _recognised(
    c: httpx.AsyncClient, services: Services, campaign: Json, answers: Json
) -> str:
    assessment = await assess(c, services, campaign, answers, village=VILLAGE)
    await drive(c, assessment, "recognised", date(2025, 12, 20))
    return str(assessment["household_id"])


async def test_a_future_version_shows_who_gains_and_whose_amount_moves(
    anonymous_app: FastAPI, anonymous_client: httpx.AsyncClient, services: Services
) -> None:
    c = anonymous_client
    officer, _ = await token_headers(anonymous_app, services, Role.COMMUNE_OFFICER, ["13435"])
    c.headers.update(officer)
    # Whatever earlier tests left for the upkeep: from here on, only what this one does.
    ok(await c.post("/api/v1/entitlements/recompute", params={"as_of": "2026-06-01"}))
    campaign = await open_campaign(c, 2025, commune="13435")
    poor = await _recognised(c, services, campaign, survey(1_000_000, deprived=True))
    near = await _recognised(c, services, campaign, survey(1_000_000))
    await _recognised(c, services, campaign, survey(9_000_000))  # not poor: in neither

    preview = Preview(Coverage(services.uow, services.units, 5, _with_a_2027_electricity_version()))
    found = await preview.preview("electricity", "2027", VILLAGE)
    assert (found.as_of, found.compared_with, found.households) == (date(2027, 1, 1), "28-2014", 3)
    assert (found.entitled_before, found.entitled_after) == (1, 2)
    assert (found.gains, found.losses, found.amount_changes, found.truncated) == (1, 0, 1, False)
    assert found.changes is not None
    by_household = {str(ch.household_id): ch for ch in found.changes}
    assert set(by_household) == {poor, near}
    gained, moved = by_household[near], by_household[poor]
    assert (gained.change, gained.amount_before, gained.amount_after) == (
        "gains",
        None,
        40 * 1984,
    )
    assert (moved.change, moved.amount_before, moved.amount_after) == (
        "amount_changes",
        30 * 1984,
        40 * 1984,
    )
    assert gained.reasons[0].message.startswith("Là hộ cận nghèo")

    # Over HTTP, the version in force is measured against the one it replaced: none.
    url = "/api/v1/benefit-policies/electricity/versions/28-2014/preview"
    body = ok(await c.get(url, params={"unit": VILLAGE, "as_of": "2026-06-01"}))
    assert (body["compared_with"], body["gains"], body["losses"]) == (None, 1, 0)
    assert [ch["household_id"] for ch in body["changes"]] == [poor]
    recomputed = ok(await c.post("/api/v1/entitlements/recompute", params={"as_of": "2026-06-01"}))
    assert recomputed["households"] == 3  # the preview wrote nothing: the recompute does it all

    gone = refusal(
        await c.get("/api/v1/benefit-policies/electricity/versions/1999/preview"), 404, "not_found"
    )
    assert "1999" in gone["detail"]
    early = refusal(await c.get(url, params={"as_of": "2010-01-01"}), 422, "validation_failed")
    assert [e["path"] for e in early["errors"]] == ["query.as_of"]
    elsewhere = refusal(await c.get(url, params={"unit": "13384"}), 422, "validation_failed")
    assert [e["path"] for e in elsewhere["errors"]] == ["query.unit"]
