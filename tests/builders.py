"""Plain async builders for test data, through the real services."""

import itertools
import uuid
from datetime import date, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel, col

import api.domain.tables  # noqa: F401
from api.domain.access import Principal, Role
from api.domain.base import utcnow
from api.domain.households.member_models import MemberCreate, MemberPublic, Relation, Sex
from api.domain.households.models import HouseholdCreate, HouseholdPublic
from api.domain.identity.models import Session
from api.domain.identity.service import area_paths
from api.domain.identity.tokens import issue_access_token
from api.domain.services import Services
from api.domain.units.models import AdminUnit, UnitLevel

_serial = itertools.count(1)
_ids = itertools.count(100_000)


async def reset_database(engine: AsyncEngine) -> None:
    """Drop every table (ours and Alembic's) so each run migrates from empty."""
    async with engine.begin() as connection:
        await connection.run_sync(SQLModel.metadata.drop_all)
        await connection.execute(text("DROP TABLE IF EXISTS alembic_version"))


async def current_villages(services: Services) -> list[AdminUnit]:
    rows = await services.session.scalars(
        select(AdminUnit)
        .where(col(AdminUnit.level) == UnitLevel.VILLAGE, col(AdminUnit.valid_to).is_(None))
        .order_by(col(AdminUnit.code))
    )
    return list(rows.all())


def unique_personal_id(born: date, sex: Sex = Sex.MALE) -> str:
    """Distinct within a test run (a counter, not chance: 500 random picks collide 12 % of the
    time in a million)."""
    digit = (0 if born.year < 2000 else 2) + (1 if sex == Sex.FEMALE else 0)
    return f"035{digit}{born.year % 100:02d}{next(_ids):06d}"


async def make_household(
    services: Services, village_code: str | None = None, **overrides: Any
) -> HouseholdPublic:
    if village_code is None:
        village_code = (await current_villages(services))[0].code
    data = {"village_code": village_code, "address": f"Số {next(_serial)}", **overrides}
    return await services.households.create(HouseholdCreate.model_validate(data))


async def make_member(
    services: Services, household_id: uuid.UUID, **overrides: Any
) -> MemberPublic:
    born = overrides.pop("date_of_birth", date(1980, 5, 17))
    sex = overrides.pop("sex", Sex.MALE)
    data = {
        "full_name": "Nguyễn Văn An",
        "sex": sex,
        "date_of_birth": born,
        "personal_id": unique_personal_id(born, sex),
        "relation_to_head": Relation.CHILD,
        **overrides,
    }
    return await services.members.create(household_id, MemberCreate.model_validate(data))


# ---- the review over REST (test_review_lifecycle.py, test_status_history.py) -----------------

Json = dict[str, Any]
# Facts that make no derived indicator deprived. With no members recorded, three indicators
# are left to the reviewer: nutrition (never derived), dependants and housing_area.
SOUND_HOME: Json = {
    "floor_area_m2": 60,
    "wall_material": "durable",
    "column_material": "durable",
    "roof_material": "durable",
    "water_source": "piped",
    "latrine_type": "flush_septic",
    "uses_telecom": True,
    "information_assets": ["phone", "tv"],
}
ANSWERED = ("nutrition", "dependants", "housing_area")
# Facts that make housing_quality, domestic_water and latrine deprived: 3 deprivations.
POOR_HOME: Json = {"wall_material": "non_durable", "roof_material": "non_durable"}
POOR_HOME |= {"water_source": "surface_water", "latrine_type": "none"}
# Before 1 July 2025 recognition needs the district's opinion first.
DISTRICT_ERA_ENDS = date(2025, 7, 1)


def survey(income: int | None, *, deprived: bool = False, **extra: Any) -> Json:
    """Answers for a SOUND_HOME household: 3 deprivations if `deprived`, else none."""
    indicators = {code: {"deprived": deprived} for code in ANSWERED}
    return {"monthly_income_per_capita": income, "indicators": indicators, **extra}


async def open_campaign(
    client: httpx.AsyncClient, year: int = 2022, commune: str = "13384"
) -> Json:
    response = await client.post(
        "/api/v1/campaigns",
        json={
            "commune_code": commune,
            "kind": "periodic",
            "name": f"Rà soát {year} {next(_serial)}",
            "opens_on": f"{year}-09-01",
            "closes_on": f"{year}-12-14",
        },
    )
    assert response.status_code == 201, response.text
    body: Json = response.json()
    return body


def step(action: str, version: int | None, on: date, **extra: Any) -> Json:
    """A transition request with the record its action needs, dated `on`."""
    d = on.isoformat()
    records: dict[str, Json] = {
        "submit": {},
        "record_meeting": {
            "meeting": {"held_on": d, "attendees": 20, "agreeing": 15, "chaired_by": "Trưởng thôn"}
        },
        "post": {"posted_on": d},
        "record_complaint": {
            "complaint": {"received_on": d, "by": "Hộ ông Tám", "content": "Xin xem lại"}
        },
        "return_for_resurvey": {"reason": "Cần điều tra lại"},
        "district_opinion": {
            "district_opinion": {"given_on": d, "by": "Phòng Lao động", "agrees": True}
        },
        "recognise": {
            "decision": {
                "number": f"{next(_serial)}/QĐ-UBND",
                "decided_on": d,
                "signer": "Chủ tịch",
            }
        },
        "issue_certificate": {"certificate": {"number": f"GCN-{next(_serial)}", "issued_on": d}},
        "refuse": {"reason": "Không đủ điều kiện"},
    }
    body: Json = {"action": action, **records[action], **extra}
    if version is not None:
        body["version"] = version
    return body


FORWARD = ("submit", "record_meeting", "post", "district_opinion", "recognise", "issue_certificate")
REACHED_BY = {
    "submitted": 1,
    "agreed": 2,
    "posted": 3,
    "district_reviewed": 4,
    "recognised": 5,
    "certified": 6,
}


async def drive(
    client: httpx.AsyncClient, assessment: Json, target: str, on: date = date(2022, 12, 20)
) -> Json:
    """Take an assessment from draft to `target` by the shortest legal route; `on` dates every
    record (so the decision too)."""
    if target == "returned":
        actions: list[tuple[str, Json]] = [("submit", {})]
        meeting = step("record_meeting", None, on)["meeting"]
        actions.append(("record_meeting", {"meeting": {**meeting, "agreeing": 2}}))
    elif target == "refused":
        actions = [("submit", {}), ("refuse", {})]
    else:
        actions = [(a, {}) for a in FORWARD[: REACHED_BY.get(target, 0)]]
        if target in {"recognised", "certified"} and on >= DISTRICT_ERA_ENDS:
            actions = [(a, x) for a, x in actions if a != "district_opinion"]
    for action, extra in actions:
        response = await client.post(
            f"/api/v1/assessments/{assessment['id']}/transitions",
            json=step(action, assessment["version"], on, **extra),
        )
        assert response.status_code == 200, response.text
        assessment = response.json()
    assert assessment["state"] == target
    return assessment


async def assess(
    client: httpx.AsyncClient,
    services: Services,
    campaign: Json,
    answers: Json,
    village: str = "13384-01",
    **home: Any,
) -> Json:
    """A new household (SOUND_HOME unless `home` says otherwise) and its draft assessment."""
    household = await make_household(services, village, **{**SOUND_HOME, **home})
    response = await client.post(
        "/api/v1/assessments",
        json={
            "campaign_id": campaign["id"],
            "household_id": str(household.id),
            "surveyed_on": campaign["opens_on"],
            "answers": answers,
        },
    )
    assert response.status_code == 201, response.text
    body: Json = response.json()
    return body


async def signed_in(services: Services, subject: str) -> str:
    """The id of a sign-in (session) of `subject`, as sign-in opens it: a person's token is
    refused without one."""
    session = Session(id=uuid.uuid4(), subject=subject, expires_at=utcnow() + timedelta(days=1))
    services.session.add(session)
    await services.session.flush()
    return str(session.id)


async def token_headers(
    app: FastAPI, services: Services, role: Role, codes: list[str], agency: str | None = None
) -> tuple[dict[str, str], str]:
    """A bearer token for a fresh user of `role` in the communes `codes` (minted with the app's
    key ring: the app must be running), and the user's subject."""
    paths = await area_paths(services.session, codes)
    return await token_for(app, services, role, paths, agency)


async def whole_country(app: FastAPI, services: Services, role: Role) -> dict[str, str]:
    """A token of `role` for the whole country (the area "")."""
    return (await token_for(app, services, role, ("",)))[0]


async def token_for(
    app: FastAPI,
    services: Services,
    role: Role,
    areas: tuple[str, ...],
    agency: str | None = None,
) -> tuple[dict[str, str], str]:
    """A bearer token for a fresh, signed-in user of `role` in the area paths `areas` (of an
    agency, for an agency officer)."""
    await app.state.keyring.ensure_loaded(services.uow)
    subject = f"user:{uuid.uuid4()}"
    principal = Principal(
        subject=subject,
        role=role,
        areas=areas,
        agency=agency,
        session_id=await signed_in(services, subject),
    )
    token = issue_access_token(
        app.state.keyring,
        principal,
        issuer=app.state.settings.token_issuer,
        audience=app.state.settings.token_audience,
        lifetime=timedelta(minutes=5),
    )
    return {"Authorization": f"Bearer {token}"}, subject


def ok(response: httpx.Response, status: int = 200) -> Json:
    assert response.status_code == status, response.text
    body: Json = response.json()
    return body


def refusal(response: httpx.Response, status: int, code: str) -> Json:
    """The problem+json body of a refusal, checked for its status and code."""
    body = ok(response, status)
    assert response.headers["content-type"] == "application/problem+json"
    assert body["code"] == code, body
    return body


async def feed(client: httpx.AsyncClient, after: str | None) -> tuple[list[Json], str]:
    """Every change-feed entry after `after`, and the cursor where the feed ends."""
    entries: list[Json] = []
    while True:
        params: dict[str, Any] = {"limit": 200, **({"after": after} if after else {})}
        page = ok(await client.get("/api/v1/changes", params=params))
        entries += page["items"]
        after = page["next_cursor"]
        if not page["has_more"]:
            return entries, page["next_cursor"]


def fields(problem: Json) -> list[tuple[str, str]]:
    """The (path, code) of each field a 422 problem names."""
    return [(e["path"], e["code"]) for e in problem["errors"]]


async def take(client: httpx.AsyncClient, assessment: Json, body: Json) -> httpx.Response:
    """POST a transition request for one assessment."""
    return await client.post(f"/api/v1/assessments/{assessment['id']}/transitions", json=body)


async def reread(client: httpx.AsyncClient, assessment: Json) -> Json:
    """The assessment as the API now shows it; its ETag must carry its version."""
    response = await client.get(f"/api/v1/assessments/{assessment['id']}")
    body = ok(response)
    assert response.headers["etag"] == f'"{body["version"]}"'
    return body
