"""Every role against every operation, from one table, through REST and through GraphQL.

Each cell is the outcome both doors must give: `ok`, or the status of the refusal with its code:
401 `unauthorized`, 403 `forbidden`, 404 `not_found` (a record outside the caller's area does
not exist for it), 422 `validation_failed` with the field problem `out_of_scope`. GraphQL says
the same through `extensions.code`. An allowed call is checked for what it returns and what it
changed; a refused one for having changed nothing.

Households "in" the area live in commune 13384, those "out" of it in 13393. Staff tokens are
minted with the app's own key ring (sign-in itself is tested in test_tokens.py); the partner is
a real partner client, because its token is checked against the client's row on every call.
"""

import itertools
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlmodel import col

from api.config import DEV_KEY_SECRET
from api.domain.access import ROLE_PERMISSIONS, Principal, Role
from api.domain.base import utcnow
from api.domain.benefits.delivery_models import Delivery
from api.domain.benefits.need_models import Need
from api.domain.households.member_models import Member
from api.domain.households.models import Household
from api.domain.identity.keys import KeyRing, new_signing_key
from api.domain.identity.models import SigningKey, UserAccount
from api.domain.identity.service import area_paths
from api.domain.identity.shapes import PartnerCreate, UserCreate
from api.domain.identity.tokens import issue_access_token
from api.domain.plans.models import PlanCreate, TargetCreate, TaskCreate, TaskUpdate
from api.domain.plans.models import Target as PlanTarget
from api.domain.review.models import Campaign
from api.domain.services import Services
from tests.builders import make_household, make_member, signed_in

ROLES = (
    "reviewer",
    "commune_officer",
    "district_officer",
    "province_officer",
    "partner",
    "agency_officer",
    "supervisor",
    "admin",
    "anonymous",
)
SIX_COMMUNES = ["13384", "13393", "13396", "13402", "13420", "13435"]
AREA_CODES: dict[str, list[str]] = {
    "reviewer": ["13384"],
    "commune_officer": ["13384"],
    "district_officer": SIX_COMMUNES,
    "province_officer": ["37"],
    "agency_officer": SIX_COMMUNES,
    "partner": ["37"],
    "supervisor": ["37"],
}
PURPOSE = "access matrix check"  # the partner always states one here

# One row per operation; one column per role, in ROLES order.
TABLE = """
operation                      reviewer commune district province partner agency super admin anon
list units                     ok       ok      ok       ok       ok      ok     ok    ok    401
get household in area          ok       ok      ok       ok       ok      403    ok    ok    401
get household outside area     404      404     ok       ok       ok      403    ok    ok    401
get household status in area   ok       ok      ok       ok       ok      403    ok    ok    401
get household status outside   404      404     ok       ok       ok      403    ok    ok    401
get eligibility in area        ok       ok      ok       ok       ok      403    ok    ok    401
get eligibility outside area   404      404     ok       ok       ok      403    ok    ok    401
list households                ok       ok      ok       ok       ok      403    ok    ok    401
create household in area       ok       ok      403      403      403     403    403   ok    401
create household outside area  422      422     403      403      403     403    403   ok    401
update household in area       ok       ok      403      403      403     403    403   ok    401
update household outside area  404      404     403      403      403     403    403   ok    401
delete household in area       ok       ok      403      403      403     403    403   ok    401
delete household outside area  404      404     403      403      403     403    403   ok    401
add member in area             ok       ok      403      403      403     403    403   ok    401
add member outside area        404      404     403      403      403     403    403   ok    401
get member in area             ok       ok      ok       ok       ok      403    ok    ok    401
get member outside area        404      404     ok       ok       ok      403    ok    ok    401
read change feed               ok       ok      ok       ok       ok      403    ok    ok    401
me                             ok       ok      ok       ok       ok      ok     ok    ok    401
create reviewer in area        403      ok      ok       ok       403     403    403   ok    401
create reviewer outside area   403      422     ok       ok       403     403    403   ok    401
create commune officer         403      403     ok       ok       403     403    403   ok    401
list users                     403      ok      ok       ok       403     403    403   ok    401
list partners                  403      403     403      403      403     403    403   ok    401
list keys                      403      403     403      403      403     403    403   ok    401
rotate keys                    403      403     403      403      403     403    403   ok    401
revoke a key                   403      403     403      403      403     403    403   ok    401
audit writes                   403      403     403      403      403     403    ok    ok    401
audit reads                    403      403     403      403      403     403    ok    ok    401
list standards                 ok       ok      ok       ok       ok      ok     ok    ok    401
list benefit policies          ok       ok      ok       ok       ok      ok     ok    ok    401
record a need in area          ok       ok      403      403      403     403    403   ok    401
record a need outside area     404      404     403      403      403     403    403   ok    401
upsert deliveries              403      403     403      403      ok      403    403   ok    401
list deliveries                403      ok      ok       ok       ok      403    ok    ok    401
coverage of a commune          403      ok      ok       ok       ok      ok     ok    ok    401
preview a policy version       403      ok      ok       ok       ok      ok     ok    ok    401
list my jobs                   ok       ok      ok       ok       ok      ok     ok    ok    401
review report of the commune   403      ok      ok       ok       403     ok     ok    ok    401
open a review campaign         403      ok      403      403      403     403    403   ok    401
sync push                      ok       ok      403      403      403     403    403   ok    401
sync pull                      ok       ok      ok       ok       ok      403    ok    ok    401
sync log                       403      ok      ok       ok       403     403    ok    ok    401
list plans                     403      ok      ok       ok       403     ok     ok    ok    401
plan progress                  403      ok      ok       ok       403     ok     ok    ok    401
add a plan target              403      ok      ok       ok       403     403    403   ok    401
update a task                  403      ok      ok       ok       403     ok     403   ok    401
list alerts                    403      ok      ok       ok       403     ok     ok    ok    401
"""


def _parse(table: str) -> dict[str, dict[str, str]]:
    rows: dict[str, dict[str, str]] = {}
    for line in table.strip().splitlines()[1:]:
        words = line.split()
        cells = words[-len(ROLES) :]
        rows[" ".join(words[: -len(ROLES)])] = dict(zip(ROLES, cells, strict=True))
    return rows


MATRIX = _parse(TABLE)
CODES = {"401": "unauthorized", "403": "forbidden", "404": "not_found", "422": "validation_failed"}
_serial = itertools.count(1)


@dataclass
class World:
    """Records every case may read; writes that destroy get a fresh target of their own."""

    household_in: str
    household_out: str
    member_in: str
    member_out: str
    partner_id: str
    name: str  # both members bear it: a search for it finds only this world's households
    feed_start: str  # the change feed's position before this world was made
    user_in: str = ""
    user_out: str = ""
    plan_id: str = ""
    task_id: str = ""


@dataclass
class Case:
    services: Services
    world: World
    role: str
    door: str
    areas: tuple[str, ...]
    tag: str = field(default_factory=lambda: f"matrix-{next(_serial)}")
    target: str = ""

    def sees(self, path: str) -> bool:
        return any(a == "" or path == a or path.startswith(f"{a}/") for a in self.areas)


Rest = tuple[str, str, dict[str, Any] | None]
GraphQL = tuple[str, dict[str, Any]]
Check = Callable[[Case, Any], Awaitable[None]]
Untouched = Callable[[Case], Awaitable[None]]
Target = Callable[[Case], Awaitable[str]]


@dataclass(frozen=True)
class Operation:
    rest: Callable[[Case], Rest]
    graphql: Callable[[Case], GraphQL] | None
    check: Check  # an allowed call: what it answered and what it did
    untouched: Untouched | None = None  # a refused write: nothing changed
    target: Target | None = None  # a fresh record for this case alone


# ---- what allowed calls must answer --------------------------------------------------------


async def _units_listed(case: Case, body: Any) -> None:
    expected = (await case.services.units.find(limit=5)).items
    assert [u["code"] for u in body["items"]] == [u.code for u in expected]


def _household_is(village: str) -> Check:
    async def check(case: Case, body: Any) -> None:
        assert body["id"] == case.target
        assert body["unit_path"] == f"37/{village[:5]}/{village}"

    return check


def _status_of(record: str) -> Check:
    async def check(case: Case, body: Any) -> None:
        assert (body["household_id"], body["status"]) == (getattr(case.world, record), None)

    return check


async def _need_recorded(case: Case, body: Any) -> None:
    assert (body["household_id"], body["kind"], body["state"]) == (case.target, "legal_aid", "open")
    row = await case.services.session.get(Need, uuid.UUID(body["id"]))
    assert row is not None
    assert row.note == case.tag


async def _no_need_tagged(case: Case) -> None:
    found = await case.services.session.scalar(
        select(func.count()).where(col(Need.note) == case.tag)
    )
    assert found == 0


async def _delivery_written(case: Case, body: Any) -> None:
    (item,) = body["items"]
    assert (item["external_id"], item["outcome"], item["match"]) == (
        case.tag,
        "created",
        "household",
    )
    row = await case.services.session.get(Delivery, uuid.UUID(item["id"]))
    assert row is not None
    assert str(row.matched_household_id) == case.world.household_in


async def _no_delivery_tagged(case: Case) -> None:
    found = await case.services.session.scalar(
        select(func.count()).where(col(Delivery.external_id) == case.tag)
    )
    assert found == 0


async def _deliveries_listed(case: Case, body: Any) -> None:
    assert all(case.sees(d["unit_path"]) for d in body["items"]), body
    if case.role == "partner":
        assert {d["agency"] for d in body["items"]} <= {"social_insurance"}


async def _jobs_listed(case: Case, body: Any) -> None:
    # Each caller sees its own jobs (supervisors and admins everyone's); the world has none.
    assert isinstance(body, list)


async def _coverage_of_13384(case: Case, body: Any) -> None:
    assert (body["policy"], body["subject_kind"].lower()) == ("bhyt-poor", "person")
    assert [r["unit_code"] for r in body["rows"]] in ([], ["13384"])
    # Counts only, small cells withheld, for those who may not read personal data.
    assert (body["gaps"] is None) == (case.role in {"partner", "agency_officer", "supervisor"})


async def _preview_of_13384(case: Case, body: Any) -> None:
    # The first version replaced none: all it entitles are gains, and nobody loses.
    assert (body["policy"], body["compared_with"], body["losses"]) == ("bhyt-poor", None, 0)
    assert (body["changes"] is None) == (case.role in {"partner", "agency_officer", "supervisor"})


def _eligibility_of(record: str, member: str) -> Check:
    async def check(case: Case, body: Any) -> None:
        assert body["household_id"] == getattr(case.world, record)
        # The world's households have no recognised status: nothing is due, to anyone.
        subjects = {v["subject_id"] for v in body["verdicts"]}
        assert subjects == {getattr(case.world, record), getattr(case.world, member)}
        assert not any(v["eligible"] for v in body["verdicts"])

    return check


async def _households_listed(case: Case, body: Any) -> None:
    ids = {h["id"] for h in body["items"]}
    assert all(case.sees(h["unit_path"]) for h in body["items"]), body
    assert case.world.household_in in ids
    assert (case.world.household_out in ids) == case.sees("37/13393/13393-01")


def _created_in(village: str) -> Check:
    async def check(case: Case, body: Any) -> None:
        assert body["unit_path"] == f"37/{village[:5]}/{village}"
        assert body["village_code"] == village
        row = await case.services.session.get(Household, uuid.UUID(body["id"]))
        assert row is not None
        assert row.address == case.tag

    return check


async def _no_household_tagged(case: Case) -> None:
    found = await case.services.session.scalar(
        select(func.count()).where(col(Household.address) == case.tag)
    )
    assert found == 0


async def _updated(case: Case, body: Any) -> None:
    assert (body["id"], body["address"]) == (case.target, case.tag)


async def _target_address_unchanged(case: Case) -> None:
    row = await case.services.session.get(Household, uuid.UUID(case.target))
    assert row is not None
    await case.services.session.refresh(row)
    assert row.address != case.tag


async def _deleted(case: Case, body: Any) -> None:
    row = await case.services.session.get(Household, uuid.UUID(case.target))
    assert row is not None
    await case.services.session.refresh(row)
    assert row.deleted_at is not None


async def _not_deleted(case: Case) -> None:
    row = await case.services.session.get(Household, uuid.UUID(case.target))
    assert row is not None
    await case.services.session.refresh(row)
    assert row.deleted_at is None


async def _member_added(case: Case, body: Any) -> None:
    assert body["household_id"] == case.target
    row = await case.services.session.get(Member, uuid.UUID(body["id"]))
    assert row is not None
    assert row.full_name == case.tag


async def _no_member_tagged(case: Case) -> None:
    found = await case.services.session.scalar(
        select(func.count()).where(col(Member.full_name) == case.tag)
    )
    assert found == 0


def _member_is(key: str, household_key: str) -> Check:
    async def check(case: Case, body: Any) -> None:
        assert body["id"] == getattr(case.world, key)
        assert body["household_id"] == getattr(case.world, household_key)

    return check


async def _feed_scoped(case: Case, body: Any) -> None:
    entries = body["items"]
    assert all(case.sees(e["unit_path"]) for e in entries), entries
    ids = {e["entity_id"] for e in entries}
    assert case.world.household_in in ids
    assert (case.world.household_out in ids) == case.sees("37/13393/13393-01")


async def _me(case: Case, body: Any) -> None:
    role = Role(case.role)
    assert body["role"].lower() == role.value
    assert tuple(body["areas"]) == case.areas
    assert body["permissions"] == sorted(p.value for p in ROLE_PERMISSIONS[role])


def _user_created(role: str, codes: list[str]) -> Check:
    async def check(case: Case, body: Any) -> None:
        assert (body["username"], body["role"], body["area_codes"]) == (case.tag, role, codes)
        assert body["active"] is True
        assert not {"password", "password_hash"} & set(body)

    return check


async def _no_user_tagged(case: Case) -> None:
    found = await case.services.session.scalar(
        select(func.count()).where(col(UserAccount.username) == case.tag)
    )
    assert found == 0


async def _users_listed(case: Case, body: Any) -> None:
    names = {u["username"] for u in body}
    assert case.world.user_in in names
    assert (case.world.user_out in names) == case.sees("37/13393")
    assert all("password_hash" not in u for u in body)


async def _partners_listed(case: Case, body: Any) -> None:
    (ours,) = [p for p in body if p["client_id"] == case.world.partner_id]
    assert (ours["agency"], ours["area_codes"], ours["active"]) == (
        "social_insurance",
        ["37"],
        True,
    )
    assert all(not {"secret_hash", "client_secret"} & set(p) for p in body)


async def _keys_listed(case: Case, body: Any) -> None:
    active = [k["kid"] for k in body if k["retired_at"] is None]
    assert active == [await _active_kid(case)]
    stored = (await case.services.session.scalars(select(col(SigningKey.kid)))).all()
    assert sorted(k["kid"] for k in body) == sorted(stored)
    fields = {"kid", "algorithm", "created_at", "retired_at", "verifies_until", "revoked_at"}
    assert all(set(k) == fields for k in body)


async def _active_kid(case: Case) -> str:
    kids = (
        await case.services.session.scalars(
            select(col(SigningKey.kid)).where(col(SigningKey.retired_at).is_(None))
        )
    ).all()
    assert len(kids) == 1, kids
    return kids[0]


async def _rotated(case: Case, body: Any) -> None:
    assert body["kid"] != case.target
    assert body["retired_at"] is None
    assert await _active_kid(case) == body["kid"]
    old = await case.services.session.get(SigningKey, case.target)
    assert old is not None
    await case.services.session.refresh(old)
    assert old.retired_at is not None


async def _not_rotated(case: Case) -> None:
    assert await _active_kid(case) == case.target


async def _retired_key(case: Case) -> str:
    """A key retired a moment ago, still verifying: what an emergency revocation aims at."""
    key = new_signing_key(DEV_KEY_SECRET)
    key.retired_at, key.private_key = utcnow(), None
    key.verifies_until = key.retired_at + timedelta(minutes=15)
    case.services.session.add(key)
    await case.services.session.flush()
    return key.kid


async def _revoked(case: Case, body: Any) -> None:
    assert (body["kid"], body["revoked_at"] is not None) == (case.target, True)
    row = await case.services.session.get(SigningKey, case.target, populate_existing=True)
    assert row is not None
    assert row.revoked_at is not None


async def _not_revoked(case: Case) -> None:
    row = await case.services.session.get(SigningKey, case.target, populate_existing=True)
    assert row is not None
    assert row.revoked_at is None


async def _writes_audited(case: Case, body: Any) -> None:
    (entry,) = body
    assert (entry["entity_id"], entry["operation"], entry["actor"]) == (
        case.world.household_in,
        "create",
        "system",
    )
    assert entry["diff"]["village_code"] == [None, "13384-01"]


async def _reads_audited(case: Case, body: Any) -> None:
    assert [(r["actor"], r["purpose"], r["entity_type"], r["entity_id"]) for r in body] == [
        (f"partner:{case.world.partner_id}", PURPOSE, "household", case.world.household_in)
    ]


# ---- fresh targets --------------------------------------------------------------------------


def _fresh_household(village: str) -> Target:
    async def target(case: Case) -> str:
        return str((await make_household(case.services, village)).id)

    return target


def _world_record(key: str) -> Target:
    async def target(case: Case) -> str:
        value: str = getattr(case.world, key)
        return value

    return target


# ---- plans ------------------------------------------------------------------------------------

PLAN_OPERATIONS = {
    "list plans",
    "plan progress",
    "add a plan target",
    "update a task",
    "list alerts",
}


async def _commune_plan(services: Services, tag: str) -> str:
    """A 2026 plan of commune 13384 with a poverty-rate target and a task for justice."""
    plan = await services.plans.create_plan(
        PlanCreate(
            unit_code="13384",
            title_vi=f"Kế hoạch {tag}",
            issuing_agency="UBND phường Kim Bảng",
            programme="mtqg-2026-2035",
            year=2026,
            period_from=date(2026, 1, 1),
            period_to=date(2026, 12, 31),
        )
    )
    return str(plan.id)


async def _fresh_plan(case: Case) -> str:
    return await _commune_plan(case.services, case.tag)


async def _plans_listed(case: Case, body: Any) -> None:
    assert case.world.plan_id in {p["id"] for p in body}
    # Each plan listed binds the caller: its communes overlap the caller's area.
    assert all(
        any(
            case.sees(t) or any(t == "" or a.startswith(f"{t}/") for a in case.areas)
            for t in p["territory"]
        )
        for p in body
    )


async def _alerts_listed(case: Case, body: Any) -> None:
    assert isinstance(body, list)
    # The world's plan is a draft: it binds nobody yet, so it raises no alert.
    assert case.world.plan_id not in {a["plan_id"] for a in body}


async def _progress_read(case: Case, body: Any) -> None:
    assert body["plan"]["id"] == case.world.plan_id
    assert [t["indicator"] for t in body["targets"]] == ["poor-rate-households"]
    assert body["board"]["total"] == 1


async def _target_added(case: Case, body: Any) -> None:
    assert (body["plan_id"], body["indicator"], body["note"]) == (
        case.target,
        "newly-escaped-households",
        case.tag,
    )


async def _no_target_added(case: Case) -> None:
    found = await case.services.session.scalar(
        select(func.count()).where(col(PlanTarget.plan_id) == uuid.UUID(case.target))
    )
    assert found == 0


async def _task_updated(case: Case, body: Any) -> None:
    assert (body["task_id"], body["note"]) == (case.world.task_id, case.tag)


async def _task_untouched(case: Case) -> None:
    found = await case.services.session.scalar(
        select(func.count()).where(col(TaskUpdate.note) == case.tag)
    )
    assert found == 0


def _target_rest(c: Case) -> Rest:
    body = {
        "indicator": "newly-escaped-households",
        "baseline_value": 0,
        "baseline_on": "2025-12-31",
        "target_value": 5,
        "target_on": "2026-12-31",
        "note": c.tag,
    }
    return "POST", f"/api/v1/plans/{c.target}/targets", body


def _task_update_rest(c: Case) -> Rest:
    return "POST", f"/api/v1/tasks/{c.world.task_id}/updates", {"note": c.tag}


# ---- the requests, one per door -------------------------------------------------------------


def _get(path: str) -> Callable[[Case], Rest]:
    return lambda c: ("GET", path.format(w=c.world, target=c.target), None)  # httpx quotes it


def _query(text: str, **variables: str) -> Callable[[Case], GraphQL]:
    """`variables` name attributes of the case's world, or `target`."""

    def build(c: Case) -> GraphQL:
        values = {
            k: c.target if v == "target" else getattr(c.world, v) for k, v in variables.items()
        }
        return text, values

    return build


def _new_household(village: str) -> tuple[Callable[[Case], Rest], Callable[[Case], GraphQL]]:
    def rest(c: Case) -> Rest:
        return "POST", "/api/v1/households", {"village_code": village, "address": c.tag}

    def graphql(c: Case) -> GraphQL:
        return (
            "mutation($input: HouseholdInput!) {"
            " createHousehold(input: $input) { id unitPath villageCode } }",
            {"input": {"villageCode": village, "address": c.tag}},
        )

    return rest, graphql


def _update_rest(c: Case) -> Rest:
    return "PATCH", f"/api/v1/households/{c.target}", {"address": c.tag}


def _update_graphql(c: Case) -> GraphQL:
    return (
        "mutation($id: UUID!, $input: HouseholdPatch!) {"
        " updateHousehold(id: $id, input: $input) { id address } }",
        {"id": c.target, "input": {"address": c.tag}},
    )


def _delete_rest(c: Case) -> Rest:
    return "DELETE", f"/api/v1/households/{c.target}", None


def _delete_graphql(c: Case) -> GraphQL:
    return "mutation($id: UUID!) { deleteHousehold(id: $id) { id } }", {"id": c.target}


def _add_member_rest(c: Case) -> Rest:
    body = {
        "full_name": c.tag,
        "sex": "female",
        "date_of_birth": "1990-01-01",
        "relation_to_head": "child",
    }
    return "POST", f"/api/v1/households/{c.target}/members", body


def _add_member_graphql(c: Case) -> GraphQL:
    return (
        "mutation($hid: UUID!, $input: MemberInput!) {"
        " addMember(householdId: $hid, input: $input) { id householdId } }",
        {
            "hid": c.target,
            "input": {
                "fullName": c.tag,
                "sex": "FEMALE",
                "dateOfBirth": "1990-01-01",
                "relationToHead": "CHILD",
            },
        },
    )


def _new_user(role: str, codes: list[str]) -> Callable[[Case], Rest]:
    def rest(c: Case) -> Rest:
        body = {
            "username": c.tag,
            "full_name": "Người Dùng Ma Trận",
            "password": "mật khẩu đủ dài",
            "role": role,
            "area_codes": codes,
        }
        return "POST", "/api/v1/users", body

    return rest


# ---- the review and sync -------------------------------------------------------------------


async def _policies_listed(case: Case, body: Any) -> None:
    assert len(body) == 17
    assert {"bhyt-poor", "legal-aid", "electricity"} <= {p["code"] for p in body}


async def _standards_listed(case: Case, body: Any) -> None:
    assert [s["code"] for s in body] == ["qd-59-2015", "nd-07-2021", "nd-351-2025"]


async def _report_of_13384(case: Case, body: Any) -> None:
    assert (body["unit_code"], body["unit_name"]) == ("13384", "Kim Bảng")
    assert body["totals"]["households"] >= 1  # at least the world's household in 13384-01
    villages = await case.services.units.children("13384", date(2026, 12, 31))
    assert [r["code"] for r in body["rows"]] == sorted(v.code for v in villages)


def _need_rest(c: Case) -> Rest:
    return "POST", f"/api/v1/households/{c.target}/needs", {"kind": "legal_aid", "note": c.tag}


def _deliveries_rest(c: Case) -> Rest:
    item = {
        "external_id": c.tag,
        "policy": "bhyt-poor",
        "kind": "issued",
        "occurred_on": "2026-01-05",
        "valid_from": "2026-01-01",
        "valid_to": "2026-12-31",
        "household_id": c.world.household_in,
        "source_version": 1,
    }
    return "POST", "/api/v1/deliveries/batch", {"items": [item]}


def _campaign_rest(c: Case) -> Rest:
    body = {"commune_code": "13384", "kind": "periodic", "name": c.tag, "opens_on": "2026-09-01"}
    return "POST", "/api/v1/campaigns", body


def _campaign_graphql(c: Case) -> GraphQL:
    return (
        'mutation($name: String!) { createCampaign(input: {communeCode: "13384",'
        ' kind: PERIODIC, name: $name, opensOn: "2026-09-01"}) { name communeCode } }',
        {"name": c.tag},
    )


async def _campaign_opened(case: Case, body: Any) -> None:
    assert (body["name"], body["commune_code"]) == (case.tag, "13384")
    found = await case.services.session.scalar(
        select(func.count()).where(col(Campaign.name) == case.tag)
    )
    assert found == 1


async def _no_campaign(case: Case) -> None:
    found = await case.services.session.scalar(
        select(func.count()).where(col(Campaign.name) == case.tag)
    )
    assert found == 0


def _push_rest(c: Case) -> Rest:
    item = {
        "op_id": c.tag,
        "op": "create",
        "entity": "household",
        "id": str(uuid.uuid4()),
        "data": {"village_code": "13384-01", "address": c.tag},
    }
    return "POST", "/api/v1/sync/push", {"batch_id": c.tag, "items": [item]}


async def _pushed(case: Case, body: Any) -> None:
    assert [i["outcome"] for i in body["items"]] == ["applied"]
    await _created_in("13384-01")(
        case, {**body["items"][0], "unit_path": "37/13384/13384-01", "village_code": "13384-01"}
    )


async def _pulled(case: Case, body: Any) -> None:
    assert body["cursor"]
    for change in body["changes"]:
        if change["op"] == "upsert":
            assert case.sees(change["record"]["unit_path"]), change


async def _sync_log_listed(case: Case, body: Any) -> None:
    assert isinstance(body, list)
    assert all(case.sees(e["unit_path"]) for e in body)


HOUSEHOLD = "query($id: UUID!) { household(id: $id) { id unitPath } }"
STATUS = "query($h: UUID!) { householdStatus(householdId: $h) { householdId status } }"
MEMBER = "query($id: UUID!) { member(id: $id) { id householdId } }"
ELIGIBILITY = (
    "query($h: UUID!) { householdEligibility(householdId: $h) {"
    " householdId verdicts { subjectId eligible } } }"
)
new_in, new_out = _new_household("13384-01"), _new_household("13393-01")

OPERATIONS: dict[str, Operation] = {
    "list units": Operation(
        _get("/api/v1/units?limit=5"),
        _query("{ units(first: 5) { items: nodes { code } } }"),
        _units_listed,
    ),
    "get household in area": Operation(
        _get("/api/v1/households/{target}"),
        _query(HOUSEHOLD, id="target"),
        _household_is("13384-01"),
        target=_world_record("household_in"),
    ),
    "get household outside area": Operation(
        _get("/api/v1/households/{target}"),
        _query(HOUSEHOLD, id="target"),
        _household_is("13393-01"),
        target=_world_record("household_out"),
    ),
    "get household status in area": Operation(
        _get("/api/v1/households/{w.household_in}/status"),
        _query(STATUS, h="household_in"),
        _status_of("household_in"),
    ),
    "get household status outside": Operation(
        _get("/api/v1/households/{w.household_out}/status"),
        _query(STATUS, h="household_out"),
        _status_of("household_out"),
    ),
    "list households": Operation(
        _get("/api/v1/households?limit=200&q={w.name}"),
        _query(
            "query($q: String!) {"
            " households(first: 200, filter: {q: $q}) { items: nodes { id unitPath } } }",
            q="name",
        ),
        _households_listed,
    ),
    "create household in area": Operation(
        new_in[0], new_in[1], _created_in("13384-01"), _no_household_tagged
    ),
    "create household outside area": Operation(
        new_out[0], new_out[1], _created_in("13393-01"), _no_household_tagged
    ),
    "update household in area": Operation(
        _update_rest,
        _update_graphql,
        _updated,
        _target_address_unchanged,
        _world_record("household_in"),
    ),
    "update household outside area": Operation(
        _update_rest,
        _update_graphql,
        _updated,
        _target_address_unchanged,
        _world_record("household_out"),
    ),
    "delete household in area": Operation(
        _delete_rest, _delete_graphql, _deleted, _not_deleted, _fresh_household("13384-01")
    ),
    "delete household outside area": Operation(
        _delete_rest, _delete_graphql, _deleted, _not_deleted, _fresh_household("13393-01")
    ),
    "add member in area": Operation(
        _add_member_rest,
        _add_member_graphql,
        _member_added,
        _no_member_tagged,
        _world_record("household_in"),
    ),
    "add member outside area": Operation(
        _add_member_rest,
        _add_member_graphql,
        _member_added,
        _no_member_tagged,
        _world_record("household_out"),
    ),
    "get member in area": Operation(
        _get("/api/v1/members/{w.member_in}"),
        _query(MEMBER, id="member_in"),
        _member_is("member_in", "household_in"),
    ),
    "get member outside area": Operation(
        _get("/api/v1/members/{w.member_out}"),
        _query(MEMBER, id="member_out"),
        _member_is("member_out", "household_out"),
    ),
    "read change feed": Operation(
        _get("/api/v1/changes?limit=200&after={w.feed_start}"),
        _query(
            "query($after: String!) {"
            " changes(first: 200, after: $after) { items { entityId unitPath } } }",
            after="feed_start",
        ),
        _feed_scoped,
    ),
    "me": Operation(_get("/api/v1/auth/me"), _query("{ me { role areas permissions } }"), _me),
    "create reviewer in area": Operation(
        _new_user("reviewer", ["13384"]),
        None,
        _user_created("reviewer", ["13384"]),
        _no_user_tagged,
    ),
    "create reviewer outside area": Operation(
        _new_user("reviewer", ["13393"]),
        None,
        _user_created("reviewer", ["13393"]),
        _no_user_tagged,
    ),
    "create commune officer": Operation(
        _new_user("commune_officer", ["13384"]),
        None,
        _user_created("commune_officer", ["13384"]),
        _no_user_tagged,
    ),
    "list users": Operation(_get("/api/v1/users"), None, _users_listed),
    "list partners": Operation(_get("/api/v1/partners"), None, _partners_listed),
    "list keys": Operation(_get("/api/v1/keys"), None, _keys_listed),
    "rotate keys": Operation(
        lambda c: ("POST", "/api/v1/keys/rotate", None),
        None,
        _rotated,
        _not_rotated,
        _active_kid,
    ),
    "revoke a key": Operation(
        lambda c: ("POST", f"/api/v1/keys/{c.target}/revoke", None),
        None,
        _revoked,
        _not_revoked,
        _retired_key,
    ),
    "audit writes": Operation(
        _get("/api/v1/audit/writes?entity_id={w.household_in}"), None, _writes_audited
    ),
    "audit reads": Operation(
        _get("/api/v1/audit/reads?actor=partner:{w.partner_id}"), None, _reads_audited
    ),
    "get eligibility in area": Operation(
        _get("/api/v1/households/{w.household_in}/eligibility"),
        _query(ELIGIBILITY, h="household_in"),
        _eligibility_of("household_in", "member_in"),
    ),
    "get eligibility outside area": Operation(
        _get("/api/v1/households/{w.household_out}/eligibility"),
        _query(ELIGIBILITY, h="household_out"),
        _eligibility_of("household_out", "member_out"),
    ),
    "list benefit policies": Operation(
        _get("/api/v1/benefit-policies"), _query("{ benefitPolicies { code } }"), _policies_listed
    ),
    "record a need in area": Operation(
        _need_rest, None, _need_recorded, _no_need_tagged, _world_record("household_in")
    ),
    "record a need outside area": Operation(
        _need_rest, None, _need_recorded, _no_need_tagged, _world_record("household_out")
    ),
    "upsert deliveries": Operation(_deliveries_rest, None, _delivery_written, _no_delivery_tagged),
    "list deliveries": Operation(_get("/api/v1/deliveries?limit=5"), None, _deliveries_listed),
    "list my jobs": Operation(_get("/api/v1/jobs"), None, _jobs_listed),
    "coverage of a commune": Operation(
        _get("/api/v1/coverage?policy=bhyt-poor&unit=13384"),
        _query(
            '{ coverage(policy: "bhyt-poor", unit: "13384") {'
            " policy subjectKind rows { unitCode } gaps { subjectId } } }"
        ),
        _coverage_of_13384,
    ),
    "preview a policy version": Operation(
        _get("/api/v1/benefit-policies/bhyt-poor/versions/2021/preview?unit=13384"),
        _query(
            '{ entitlementPreview(policy: "bhyt-poor", version: "2021", unit: "13384") {'
            " policy comparedWith gains losses changes { subjectId } } }"
        ),
        _preview_of_13384,
    ),
    "list plans": Operation(
        _get("/api/v1/plans"), _query("{ plans { id territory } }"), _plans_listed
    ),
    "plan progress": Operation(
        _get("/api/v1/plans/{w.plan_id}/progress"),
        _query(
            "query($id: UUID!) { planProgress(planId: $id) {"
            " plan { id } targets { indicator } board { total } } }",
            id="plan_id",
        ),
        _progress_read,
    ),
    "add a plan target": Operation(
        _target_rest, None, _target_added, _no_target_added, _fresh_plan
    ),
    "update a task": Operation(_task_update_rest, None, _task_updated, _task_untouched),
    "list alerts": Operation(
        _get("/api/v1/alerts"), _query("{ planAlerts { kind planId } }"), _alerts_listed
    ),
    "list standards": Operation(
        _get("/api/v1/standards"), _query("{ standards { code } }"), _standards_listed
    ),
    "review report of the commune": Operation(
        _get("/api/v1/reports/review?unit=13384&from=2026-01-01&to=2026-12-31"),
        _query(
            '{ reviewReport(unit: "13384", from: "2026-01-01", to: "2026-12-31")'
            " { unitCode unitName totals { households } rows { code } } }"
        ),
        _report_of_13384,
    ),
    "open a review campaign": Operation(
        _campaign_rest, _campaign_graphql, _campaign_opened, _no_campaign
    ),
    "sync push": Operation(_push_rest, None, _pushed, _no_household_tagged),
    "sync pull": Operation(_get("/api/v1/sync/pull?limit=50"), None, _pulled),
    "sync log": Operation(_get("/api/v1/sync/sessions"), None, _sync_log_listed),
}


# ---- the callers ----------------------------------------------------------------------------


async def _feed_end(services: Services) -> str:
    """Where the change feed ends now: earlier tests may have committed entries of their own."""
    page = await services.changes.page(None, 200)
    while page.has_more:
        page = await services.changes.page(page.next_cursor, 200)
    return page.next_cursor


async def _world(services: Services) -> World:
    feed_start = await _feed_end(services)
    name = f"Hộ Ma Trận {uuid.uuid4().hex[:8]}"
    inside = await make_household(services, "13384-01", phone="0912345678")
    outside = await make_household(services, "13393-01", phone="0987654321")
    partner_id = f"matrix-partner-{next(_serial)}"
    await services.identity.create_partner(
        PartnerCreate(
            client_id=partner_id, name="BHXH", agency="social_insurance", area_codes=["37"]
        ),
        secret="not used: the matrix mints the partner's token",
    )
    return World(
        household_in=str(inside.id),
        household_out=str(outside.id),
        member_in=str((await make_member(services, inside.id, full_name=name)).id),
        member_out=str((await make_member(services, outside.id, full_name=name)).id),
        partner_id=partner_id,
        name=name,
        feed_start=feed_start,
    )


async def _callers(
    app: FastAPI, services: Services, world: World
) -> dict[str, tuple[dict[str, str], tuple[str, ...]]]:
    """Headers and areas (paths) for each role; tokens carry what sign-in would put in them."""
    ring: KeyRing = app.state.keyring
    await ring.ensure_loaded(services.uow)
    settings = app.state.settings
    callers: dict[str, tuple[dict[str, str], tuple[str, ...]]] = {"anonymous": ({}, ())}
    for name in ROLES[:-1]:
        role = Role(name)
        areas = (
            ("",) if role == Role.ADMIN else await area_paths(services.session, AREA_CODES[name])
        )
        partner = role == Role.PARTNER
        subject = f"partner:{world.partner_id}" if partner else f"user:{uuid.uuid4()}"
        principal = Principal(
            subject=subject,
            role=role,
            areas=areas,
            agency="social_insurance"
            if partner
            else "justice"
            if name == "agency_officer"
            else None,
            session_id=None if partner else await signed_in(services, subject),
            client=f"partner:{world.partner_id}" if partner else None,
        )
        token = issue_access_token(
            ring,
            principal,
            issuer=settings.token_issuer,
            audience=settings.token_audience,
            lifetime=timedelta(minutes=5),
        )
        headers = {"Authorization": f"Bearer {token}"}
        if partner:
            headers["X-Purpose"] = PURPOSE
        callers[name] = (headers, areas)
    return callers


async def _prepare(
    operation: str,
    services: Services,
    world: World,
    client: httpx.AsyncClient,
    partner: dict[str, str],
) -> None:
    """What one operation's checks need besides the world."""
    if operation in PLAN_OPERATIONS:
        world.plan_id = await _commune_plan(services, f"matrix-{next(_serial)}")
        plan = uuid.UUID(world.plan_id)
        await services.plans.add_target(
            plan,
            TargetCreate(
                indicator="poor-rate-households",
                baseline_value=2.0,
                baseline_on=date(2025, 12, 31),
                target_value=1.5,
                target_on=date(2026, 12, 31),
            ),
        )
        task = await services.plans.add_task(
            plan, TaskCreate(title_vi="Trợ giúp pháp lý", owner_agency="justice")
        )
        world.task_id = str(task.id)
    if operation == "list users":
        for code in ("13384", "13393"):
            name = f"matrix-user-{code}-{next(_serial)}"
            await services.identity.create_user(
                UserCreate(
                    username=name,
                    full_name=name,
                    password="mật khẩu đủ dài",
                    role=Role.REVIEWER,
                    area_codes=[code],
                )
            )
            if code == "13384":
                world.user_in = name
            else:
                world.user_out = name
    if operation == "audit reads":
        read = await client.get(f"/api/v1/households/{world.household_in}", headers=partner)
        assert read.status_code == 200, read.text


# ---- outcomes -------------------------------------------------------------------------------


def _snake(value: Any) -> Any:
    """GraphQL answers in the REST shape: camelCase keys become snake_case."""
    if isinstance(value, dict):
        return {
            "".join(f"_{ch.lower()}" if ch.isupper() else ch for ch in k): _snake(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_snake(v) for v in value]
    return value


def _rest_outcome(response: httpx.Response) -> tuple[str, Any]:
    if response.is_success:
        return "ok", response.json() if response.content else None
    status = str(response.status_code)
    problem = response.json()
    assert response.headers["content-type"] == "application/problem+json", response.text
    assert problem["status"] == response.status_code
    if status == "401":
        assert response.headers["www-authenticate"].startswith("Bearer")
    if problem["code"] != CODES.get(status):
        return f"{status} {problem['code']}", problem
    if status == "422":
        return _field_codes(problem["errors"]), problem
    return status, problem


def _field_codes(errors: list[dict[str, Any]]) -> str:
    codes = sorted({e["code"] for e in errors})
    return "422" if codes == ["out_of_scope"] else f"422 {codes}"


def _graphql_outcome(response: httpx.Response) -> tuple[str, Any]:
    assert response.status_code == 200, response.text
    body = response.json()
    errors = body.get("errors")
    if not errors:
        (answer,) = body["data"].values()
        return "ok", _snake(answer)
    assert body.get("data") is None, body  # a refusal shows nothing at all
    (error,) = errors
    code = error["extensions"]["code"]
    status = {v: k for k, v in CODES.items()}.get(code, f"graphql {code}")
    if status == "422":
        return _field_codes(error["extensions"]["errors"]), error
    return status, error


async def _run_case(
    operation: Operation, case: Case, client: httpx.AsyncClient, headers: dict[str, str]
) -> tuple[str, Any]:
    if case.door == "rest":
        method, url, body = operation.rest(case)
        response = await client.request(method, url, headers=headers, json=body)
        return _rest_outcome(response)
    assert operation.graphql is not None
    query, variables = operation.graphql(case)
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    return _graphql_outcome(response)


@pytest.mark.parametrize("name", list(MATRIX))
async def test_access_matrix(
    name: str,
    anonymous_app: FastAPI,
    anonymous_client: httpx.AsyncClient,
    services: Services,
) -> None:
    operation = OPERATIONS[name]
    world = await _world(services)
    callers = await _callers(anonymous_app, services, world)
    await _prepare(name, services, world, anonymous_client, callers["partner"][0])
    doors = ["rest", "graphql"] if operation.graphql else ["rest"]
    wrong: list[str] = []
    for role, door in itertools.product(ROLES, doors):
        headers, areas = callers[role]
        case = Case(services, world, role, door, areas)
        if operation.target:
            case.target = await operation.target(case)
        expected = MATRIX[name][role]
        got, body = await _run_case(operation, case, anonymous_client, headers)
        where = f"{name} as {role} through {door}"
        if got != expected:
            wrong.append(f"{where}: got {got}, expected {expected}: {str(body)[:300]}")
            continue
        try:
            if got == "ok":
                await operation.check(case, body)
            elif operation.untouched:
                await operation.untouched(case)
        except AssertionError as exc:
            wrong.append(f"{where}: {'answer' if got == 'ok' else 'side effect'} wrong: {exc!r}")
    assert wrong == [], "\n".join(wrong)


def test_the_table_covers_every_operation_role_and_door() -> None:
    header = TABLE.strip().splitlines()[0].split()[1:]
    assert all(role.startswith(column) for role, column in zip(ROLES, header, strict=True))
    assert set(MATRIX) == set(OPERATIONS)
    assert all(set(row.values()) <= {"ok", *CODES} for row in MATRIX.values())
    assert all(row["anonymous"] == "401" for row in MATRIX.values())
    both = sum(1 for op in OPERATIONS.values() if op.graphql)
    # 49 operations x 9 callers; 29 of them through GraphQL as well: 702 cases.
    assert (len(MATRIX), both, len(ROLES)) == (49, 29, 9)
    assert (len(MATRIX) + both) * len(ROLES) == 702
