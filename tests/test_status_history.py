"""What recognition writes: the household's current poverty status, its status history with the
movement each decision made, the status on any date and whether the household newly escaped."""

import uuid
from datetime import date

import httpx
import pytest

from api.domain.services import Services
from tests.builders import (
    SOUND_HOME,
    Json,
    drive,
    make_household,
    ok,
    open_campaign,
    refusal,
    reread,
    step,
    survey,
    take,
)

# Answers that make a SOUND_HOME household (in an urban ward, line 2,000,000) each class.
ANSWERS: dict[str, Json] = {
    "poor": survey(900_000, deprived=True),
    "near_poor": survey(900_000),
    "not_poor": survey(5_000_000),
}


async def _household(services: Services) -> uuid.UUID:
    return (await make_household(services, "13384-01", **SOUND_HOME)).id


async def _assessment(
    client: httpx.AsyncClient, household_id: uuid.UUID, year: int, status: str, **extra: object
) -> Json:
    campaign = await open_campaign(client, year)
    body = {"campaign_id": campaign["id"], "household_id": str(household_id)}
    body |= {"surveyed_on": f"{year}-09-20", "answers": {**ANSWERS[status], **extra}}
    assessment = ok(await client.post("/api/v1/assessments", json=body), 201)
    assert assessment["status"] == status
    return assessment


async def _recognise(
    client: httpx.AsyncClient, household_id: uuid.UUID, decided_on: date, status: str
) -> Json:
    """A review in the decision's year that recognises the household as `status`."""
    assessment = await _assessment(client, household_id, decided_on.year, status)
    return await drive(client, assessment, "recognised", decided_on)


async def _history(client: httpx.AsyncClient, household_id: uuid.UUID) -> list[Json]:
    response = await client.get(f"/api/v1/households/{household_id}/status-history")
    assert response.status_code == 200, response.text
    body: list[Json] = response.json()
    return body


async def _as_of(client: httpx.AsyncClient, household_id: uuid.UUID, day: date | None) -> Json:
    params = {} if day is None else {"as_of": day.isoformat()}
    return ok(await client.get(f"/api/v1/households/{household_id}/status", params=params))


async def _household_json(client: httpx.AsyncClient, household_id: uuid.UUID) -> Json:
    return ok(await client.get(f"/api/v1/households/{household_id}"))


async def test_recognition_sets_the_status_and_opens_a_history_period(
    client: httpx.AsyncClient, services: Services
) -> None:
    household_id = await _household(services)
    before = await _household_json(client, household_id)
    assert (before["poverty_status"], before["version"]) == (None, 1)
    assert await _history(client, household_id) == []
    extra = {"meritorious": True, "causes": ["no_capital", "illness"]}
    assessment = await _assessment(client, household_id, 2022, "poor", **extra)
    recognised = await drive(client, assessment, "recognised", date(2022, 12, 20))

    after = await _household_json(client, household_id)
    assert (after["poverty_status"], after["version"]) == ("poor", 2)
    assert await _history(client, household_id) == [
        {
            "household_id": str(household_id),
            "status": "poor",
            "previous_status": None,
            "movement": "new_poor",
            "effective_from": "2022-12-20",
            "effective_to": None,
            "assessment_id": recognised["id"],
            "standard_code": "nd-07-2021",
            "decision_number": recognised["decision"]["number"],
            "flags": ["meritorious"],
            "causes": ["illness", "no_capital"],
            "deprived": ["dependants", "nutrition", "housing_area"],
            "redacted": [],
        }
    ]
    # Certifying changes neither the status nor the history.
    certified = await client.post(
        f"/api/v1/assessments/{recognised['id']}/transitions",
        json=step("issue_certificate", recognised["version"], date(2022, 12, 27)),
    )
    assert ok(certified)["state"] == "certified"
    assert (await _household_json(client, household_id))["version"] == 2
    assert len(await _history(client, household_id)) == 1


@pytest.mark.parametrize(
    ("statuses", "movements"),
    [
        (["poor", "not_poor"], ["new_poor", "escaped_poor"]),
        (["near_poor", "poor"], ["new_near_poor", "near_poor_to_poor"]),
        (["poor", "not_poor", "poor"], ["new_poor", "escaped_poor", "re_poor"]),
        (["poor", "near_poor", "not_poor"], ["new_poor", "poor_to_near_poor", "escaped_near_poor"]),
        (["poor", "poor"], ["new_poor", "unchanged"]),
        (["not_poor", "near_poor"], ["other", "new_near_poor"]),
    ],
)
async def test_each_decision_makes_a_movement(
    client: httpx.AsyncClient, services: Services, statuses: list[str], movements: list[str]
) -> None:
    household_id = await _household(services)
    days = [date(2022 + i, 12, 20) for i in range(len(statuses))]
    for day, status in zip(days, statuses, strict=True):
        await _recognise(client, household_id, day, status)
    history = await _history(client, household_id)
    assert [h["status"] for h in history] == statuses
    assert [h["movement"] for h in history] == movements
    assert [h["previous_status"] for h in history] == [None, *statuses[:-1]]
    # Periods follow each other without gap or overlap; the last one is open.
    assert [h["effective_from"] for h in history] == [str(d) for d in days]
    assert [h["effective_to"] for h in history] == [*(str(d) for d in days[1:]), None]
    household = await _household_json(client, household_id)
    assert household["poverty_status"] == statuses[-1]


async def test_the_status_on_a_date_and_the_newly_escaped_window(
    client: httpx.AsyncClient, services: Services
) -> None:
    household_id = await _household(services)
    poor, escaped = date(2022, 12, 20), date(2023, 12, 20)
    await _recognise(client, household_id, poor, "poor")
    await _recognise(client, household_id, escaped, "not_poor")
    history = await _history(client, household_id)

    never = await _as_of(client, household_id, date(2022, 12, 19))
    assert never == {
        "household_id": str(household_id),
        "as_of": "2022-12-19",
        "status": None,
        "since": None,
        "escaped_on": None,
        "newly_escaped": False,
        "record": None,
    }
    cases = [
        (poor, "poor", poor, None, False, 0),  # a decision counts from its own date
        (date(2023, 6, 1), "poor", poor, None, False, 0),
        (date(2023, 12, 19), "poor", poor, None, False, 0),
        (escaped, "not_poor", escaped, escaped, True, 1),
        (date(2026, 12, 19), "not_poor", escaped, escaped, True, 1),  # within 3 years
        (date(2026, 12, 21), "not_poor", escaped, escaped, False, 1),  # more than 3 years
        (date(2030, 1, 1), "not_poor", escaped, escaped, False, 1),
    ]
    for day, status, since, escaped_on, newly, record in cases:
        got = await _as_of(client, household_id, day)
        expected = (status, str(since), escaped_on and str(escaped_on), newly, history[record])
        keys = ("status", "since", "escaped_on", "newly_escaped", "record")
        assert tuple(got[k] for k in keys) == expected, day
    today = await _as_of(client, household_id, date.today())
    assert await _as_of(client, household_id, None) == today


async def test_a_household_poor_again_is_not_newly_escaped(
    client: httpx.AsyncClient, services: Services
) -> None:
    household_id = await _household(services)
    await _recognise(client, household_id, date(2022, 12, 20), "poor")
    await _recognise(client, household_id, date(2023, 12, 20), "not_poor")
    await _recognise(client, household_id, date(2025, 12, 20), "poor")  # no district opinion
    status = await _as_of(client, household_id, date(2026, 1, 5))
    assert (status["status"], status["since"]) == ("poor", "2025-12-20")
    assert (status["escaped_on"], status["newly_escaped"]) == ("2023-12-20", False)
    assert status["record"]["movement"] == "re_poor"
    between = await _as_of(client, household_id, date(2025, 12, 19))
    assert (between["status"], between["newly_escaped"]) == ("not_poor", True)


@pytest.mark.parametrize(
    ("decided_on", "message"),
    [
        (date(2023, 12, 19), "the household already has a status from 2023-12-20"),
        (date(2023, 12, 20), "a status already starts that day"),
    ],
)
async def test_a_decision_cannot_predate_the_current_status(
    client: httpx.AsyncClient, services: Services, decided_on: date, message: str
) -> None:
    household_id = await _household(services)
    await _recognise(client, household_id, date(2023, 12, 20), "poor")
    history = await _history(client, household_id)
    household = await _household_json(client, household_id)
    late = await _assessment(client, household_id, 2023, "not_poor")
    late = await drive(client, late, "district_reviewed", decided_on)

    response = await take(client, late, step("recognise", late["version"], decided_on))
    problem = refusal(response, 422, "validation_failed")
    assert problem["errors"] == [
        {"path": "body.decision.decided_on", "message": message, "code": "out_of_order"}
    ]
    # Not the whole record: requests in a test share one session, where the refused request's
    # unsaved `decision` stays visible (a real request's session is discarded with it).
    again = await reread(client, late)
    assert (again["state"], again["version"]) == ("district_reviewed", late["version"])
    assert again["transitions"] == late["transitions"]
    assert await _history(client, household_id) == history
    assert await _household_json(client, household_id) == household

    later = date(2024, 1, 10)
    done = ok(await take(client, late, step("recognise", late["version"], later)))
    assert (done["state"], done["decision"]["decided_on"]) == ("recognised", "2024-01-10")
    assert [h["movement"] for h in await _history(client, household_id)] == [
        "new_poor",
        "escaped_poor",
    ]
