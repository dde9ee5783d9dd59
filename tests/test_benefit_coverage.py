"""Partners' deliveries and the coverage they give, on a hand-built commune: the batch answers
item by item (created, unchanged, updated, stale, invalid, unmatched), retries and dry runs
write nothing twice, partners stay in their agency and area, and the funnel, the gap and the
leakage come out exact."""

import csv
import io
import uuid
from datetime import date
from typing import Any

import httpx
from fastapi import FastAPI
from openpyxl import load_workbook
from sqlalchemy import func, select

from api.domain.access import Role
from api.domain.benefits.delivery_models import Delivery
from api.domain.households.member_models import Relation
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
    unique_personal_id,
)

Json = dict[str, Any]
AS_OF = "2026-06-01"
_serial = iter(range(1, 10_000))


async def _recognised(
    client: httpx.AsyncClient, services: Services, campaign: Json, poor: bool, people: int
) -> tuple[str, list[str], list[str]]:
    """A household recognised poor (or near-poor) on 20 December 2025: its id, its members'
    ids and their personal IDs."""
    answers = survey(1_000_000, deprived=poor)
    assessment = await assess(client, services, campaign, answers)
    assert assessment["status"] == ("poor" if poor else "near_poor")
    await drive(client, assessment, "recognised", date(2025, 12, 20))
    hid = uuid.UUID(assessment["household_id"])
    ids, pids = [], []
    for n in range(people):
        born = date(1970 + n, 3, 1)
        pid = unique_personal_id(born)
        member = await make_member(
            services,
            hid,
            date_of_birth=born,
            personal_id=pid,
            relation_to_head=Relation.HEAD if n == 0 else Relation.CHILD,
        )
        ids.append(str(member.id))
        pids.append(pid)
    return str(hid), ids, pids


async def _partner(client: httpx.AsyncClient, services: Services, agency: str) -> dict[str, str]:
    client_id = f"cov-{agency.replace('_', '-')}-{next(_serial)}"
    secret = "partner secret for coverage tests"
    await services.identity.create_partner(
        PartnerCreate(client_id=client_id, name=agency, agency=agency, area_codes=["37"]),
        secret=secret,
    )
    response = await client.post(
        "/api/v1/auth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    return {"Authorization": f"Bearer {ok(response)['access_token']}", "X-Purpose": "cap the"}


def card(external_id: str, personal_id: str, **extra: Any) -> Json:
    return {
        "external_id": external_id,
        "policy": "bhyt-poor",
        "kind": "issued",
        "occurred_on": "2026-01-05",
        "valid_from": "2026-01-01",
        "valid_to": "2026-12-31",
        "instrument": f"HN2{external_id}",
        "state_share": 1.0,
        "personal_id": personal_id,
        "source_version": 1,
        **extra,
    }


async def _batch(
    client: httpx.AsyncClient, headers: dict[str, str], items: list[Json], **extra: Any
) -> Json:
    response = await client.post(
        "/api/v1/deliveries/batch", json={"items": items, **extra}, headers=headers
    )
    return ok(response)


async def _stored(services: Services) -> int:
    return int(await services.session.scalar(select(func.count()).select_from(Delivery)) or 0)


async def test_coverage_of_a_hand_built_commune_is_exact(
    anonymous_app: FastAPI, anonymous_client: httpx.AsyncClient, services: Services
) -> None:
    c = anonymous_client
    officer, _ = await token_headers(anonymous_app, services, Role.COMMUNE_OFFICER, ["13384"])
    c.headers.update(officer)
    campaign = await open_campaign(c, 2025)
    h1, (a1, a2), (pa1, pa2) = await _recognised(c, services, campaign, True, 2)
    h2, (b1, b2), (_, pb2) = await _recognised(c, services, campaign, True, 2)
    h3, (c1,), (pc1,) = await _recognised(c, services, campaign, False, 1)
    bhxh = await _partner(c, services, "social_insurance")

    result = await _batch(
        c,
        bhxh,
        [
            card("1", pa1),
            card("2", pa2),
            # expired before the day: B2 is not served
            card(
                "3", pb2, valid_from="2025-01-01", valid_to="2025-12-31", occurred_on="2025-01-02"
            ),
            # C1 is near-poor: a poor person's card to them is leakage
            card("4", pc1),
            # nobody in the registry: filed under the commune the partner names
            card("5", unique_personal_id(date(1990, 1, 1)), commune_code="13384"),
        ],
    )
    assert [i["outcome"] for i in result["items"]] == [
        "created",
        "created",
        "created",
        "created",
        "unmatched",
    ]
    assert [i["match"] for i in result["items"]] == ["person"] * 4 + ["unmatched"]

    report = ok(
        await c.get(
            "/api/v1/coverage", params={"policy": "bhyt-poor", "unit": "13384", "as_of": AS_OF}
        )
    )
    assert report["measure"] == "valid_on"
    expected = {
        "unit_code": "13384",
        "eligible": 4,
        "needing": 4,
        "entitled": 4,
        "delivered": 2,
        "gap": 2,
        "leakage": 1,
        "rate": 0.5,
    }
    assert report["rows"] == [expected]
    assert report["totals"] == {**expected, "unit_code": report["totals"]["unit_code"]}
    assert report["unmatched_deliveries"] == 1
    assert report["suppressed_below"] is None
    assert [(g["subject_id"], g["household_id"]) for g in report["gaps"]] == sorted(
        [(b1, h2), (b2, h2)], key=lambda e: e[0]
    )
    (leak,) = report["leakage"]
    assert (leak["external_id"], leak["subject_id"], leak["household_id"]) == ("4", c1, h3)
    assert leak["reasons"] == ["Dành cho hộ nghèo; hiện là hộ cận nghèo"]
    assert not {a1, a2} & {g["subject_id"] for g in report["gaps"]}

    # The same, downloaded: one table a CSV, every table in a workbook.
    params = {"policy": "bhyt-poor", "unit": "13384", "as_of": AS_OF}
    units = await c.get("/api/v1/coverage", params={**params, "format": "csv"})
    assert units.headers["content-type"] == "text/csv; charset=utf-8"
    lines = list(csv.reader(io.StringIO(units.content.decode("utf-8-sig"))))
    assert lines[0][:4] == ["Mã xã, phường", "Đủ điều kiện", "Có nhu cầu", "Được hưởng"]
    assert lines[1] == ["13384", "4", "4", "4", "2", "2", "1", "50.0"]
    assert lines[2][0] == "Tổng cộng"
    gaps = await c.get("/api/v1/coverage", params={**params, "format": "csv", "table": "gaps"})
    rows = list(csv.reader(io.StringIO(gaps.content.decode("utf-8-sig"))))
    assert sorted(r[1] for r in rows[1:]) == sorted([b1, b2])
    book = load_workbook(
        io.BytesIO((await c.get("/api/v1/coverage", params={**params, "format": "xlsx"})).content)
    )
    assert book.sheetnames == ["Theo xã", "Chưa được nhận", "Nhận không thuộc diện"]
    assert str(book["Theo xã"]["A1"].value).startswith("Bao phủ chính sách Thẻ BHYT")
    assert book["Nhận không thuộc diện"]["B3"].value == "4"

    # The household's page lists what was delivered to it.
    listed = ok(await c.get("/api/v1/deliveries", params={"household_id": h1}))
    assert sorted(d["external_id"] for d in listed["items"]) == ["1", "2"]
    queue = ok(await c.get("/api/v1/deliveries", params={"match": "unmatched"}))
    assert [d["external_id"] for d in queue["items"]] == ["5"]

    # Social Insurance reads its own coverage in counts, small cells withheld.
    seen = ok(
        await c.get(
            "/api/v1/coverage",
            params={"policy": "bhyt-poor", "unit": "13384", "as_of": AS_OF},
            headers=bhxh,
        )
    )
    assert seen["suppressed_below"] == 5
    assert (seen["gaps"], seen["leakage"]) == (None, None)
    assert seen["rows"][0]["eligible"] is None  # 4 is under 5
    assert seen["rows"][0]["rate"] is None
    withheld = await c.get(
        "/api/v1/coverage",
        params={"policy": "bhyt-poor", "unit": "13384", "format": "csv", "table": "gaps"},
        headers=bhxh,
    )
    refusal(withheld, 403, "forbidden")
    other = await c.get(
        "/api/v1/coverage", params={"policy": "credit-poor", "unit": "13384"}, headers=bhxh
    )
    refusal(other, 403, "forbidden")


async def test_the_batch_answers_item_by_item_and_never_writes_twice(
    anonymous_app: FastAPI, anonymous_client: httpx.AsyncClient, services: Services
) -> None:
    c = anonymous_client
    officer, _ = await token_headers(anonymous_app, services, Role.COMMUNE_OFFICER, ["13384"])
    c.headers.update(officer)
    campaign = await open_campaign(c, 2025)
    _, _, (pa1, pa2) = await _recognised(c, services, campaign, True, 2)
    bhxh = await _partner(c, services, "social_insurance")
    before = await _stored(services)

    dry = await _batch(c, bhxh, [card("10", pa1)], dry_run=True)
    assert (dry["applied"], dry["items"][0]["outcome"]) == (False, "created")
    assert await _stored(services) == before

    mixed = [card("10", pa1), card("11", pa2, policy="credit-poor", kind="disbursed")]
    refused = await _batch(c, bhxh, mixed, mode="all_or_nothing")
    assert refused["applied"] is False
    assert [i["outcome"] for i in refused["items"]] == ["created", "invalid"]
    problem = refused["items"][1]["problem"]
    assert [(e["path"], e["code"]) for e in problem["errors"]] == [
        ("items.1.policy", "other_agency")
    ]
    assert await _stored(services) == before

    key = {"Idempotency-Key": f"deliveries-{uuid.uuid4()}"}
    first = await _batch(c, {**bhxh, **key}, [card("10", pa1)])
    again = await _batch(c, {**bhxh, **key}, [card("10", pa1)])
    assert first == again
    assert await _stored(services) == before + 1

    answers = await _batch(
        c,
        bhxh,
        [
            card("10", pa1),
            card("10b", pa2, source_version=3),
        ],
    )
    assert [i["outcome"] for i in answers["items"]] == ["unchanged", "created"]
    later = await _batch(c, bhxh, [card("10b", pa2, source_version=4, valid_to="2026-06-30")])
    assert later["items"][0]["outcome"] == "updated"
    assert later["items"][0]["version"] == 2
    stale = await _batch(c, bhxh, [card("10b", pa2, source_version=2, valid_to="2027-12-31")])
    assert stale["items"][0]["outcome"] == "stale"
    same = await _batch(c, bhxh, [card("10b", pa2, source_version=4, valid_to="2027-12-31")])
    assert same["items"][0]["outcome"] == "invalid"
    assert same["items"][0]["problem"]["errors"][0]["code"] == "not_increased"
    stored = ok(await c.get("/api/v1/deliveries", headers=bhxh))
    assert {d["external_id"]: d["valid_to"] for d in stored["items"]} == {
        "10": "2026-12-31",
        "10b": "2026-06-30",
    }

    twice = await c.post(
        "/api/v1/deliveries/batch",
        json={"items": [card("20", pa1), card("20", pa2)]},
        headers=bhxh,
    )
    problem = refusal(twice, 422, "validation_failed")
    assert [(e["path"], e["code"]) for e in problem["errors"]] == [
        ("body.items.1.external_id", "duplicate")
    ]
    lost = await c.post(
        "/api/v1/deliveries/batch",
        json={"items": [{**card("21", pa1), "personal_id": 1203004567}]},
        headers=bhxh,
    )
    assert [e["path"] for e in refusal(lost, 422, "validation_failed")["errors"]] == [
        "body.items.0.personal_id"
    ]


async def test_partners_keep_to_their_agency_and_read_only_their_own(
    anonymous_app: FastAPI, anonymous_client: httpx.AsyncClient, services: Services
) -> None:
    c = anonymous_client
    officer, _ = await token_headers(anonymous_app, services, Role.COMMUNE_OFFICER, ["13384"])
    c.headers.update(officer)
    campaign = await open_campaign(c, 2025)
    hid, _, (pa1,) = await _recognised(c, services, campaign, True, 1)
    bhxh = await _partner(c, services, "social_insurance")
    vbsp = await _partner(c, services, "social_policy_bank")

    loan = {
        **card("L1", pa1, policy="credit-poor", kind="disbursed", amount_vnd=50_000_000),
        "personal_id": None,
        "household_id": hid,
    }
    written = await _batch(c, vbsp, [loan])
    assert [(i["outcome"], i["match"]) for i in written["items"]] == [("created", "household")]
    await _batch(c, bhxh, [card("C1", pa1)])
    assert [
        d["external_id"] for d in ok(await c.get("/api/v1/deliveries", headers=vbsp))["items"]
    ] == ["L1"]
    assert [
        d["external_id"] for d in ok(await c.get("/api/v1/deliveries", headers=bhxh))["items"]
    ] == ["C1"]
    # Another commune's officer does not see them; the commune's own sees both.
    outside, _ = await token_headers(anonymous_app, services, Role.COMMUNE_OFFICER, ["13393"])
    assert ok(await c.get("/api/v1/deliveries", headers=outside))["items"] == []
    mine = ok(await c.get("/api/v1/deliveries", params={"household_id": hid}))
    assert sorted(d["external_id"] for d in mine["items"]) == ["C1", "L1"]
    # Officers do not write deliveries.
    refusal(
        await c.post("/api/v1/deliveries/batch", json={"items": [card("X", pa1)]}),
        403,
        "forbidden",
    )


async def test_a_recorded_need_makes_the_poor_entitled_to_legal_aid(
    anonymous_app: FastAPI, anonymous_client: httpx.AsyncClient, services: Services
) -> None:
    c = anonymous_client
    officer, _ = await token_headers(anonymous_app, services, Role.COMMUNE_OFFICER, ["13384"])
    c.headers.update(officer)
    campaign = await open_campaign(c, 2025)
    hid, (head, child), _ = await _recognised(c, services, campaign, True, 2)
    before = ok(
        await c.get(
            "/api/v1/coverage", params={"policy": "legal-aid", "unit": "13384", "as_of": AS_OF}
        )
    )
    assert (before["totals"]["eligible"], before["totals"]["needing"]) == (2, 0)

    need = {"kind": "legal_aid", "member_id": head, "recorded_on": "2026-02-01"}
    recorded = ok(await c.post(f"/api/v1/households/{hid}/needs", json=need), 201)
    assert (recorded["state"], recorded["recorded_by"].startswith("user:")) == ("open", True)
    after = ok(
        await c.get(
            "/api/v1/coverage", params={"policy": "legal-aid", "unit": "13384", "as_of": AS_OF}
        )
    )
    assert {k: after["totals"][k] for k in ("eligible", "needing", "entitled", "gap")} == {
        "eligible": 2,
        "needing": 1,
        "entitled": 1,
        "gap": 1,
    }
    assert [g["subject_id"] for g in after["gaps"]] == [head]
    verdicts = ok(
        await c.get(
            f"/api/v1/households/{hid}/eligibility", params={"as_of": AS_OF, "policy": "legal-aid"}
        )
    )["verdicts"]
    assert {v["subject_id"]: v["entitled"] for v in verdicts} == {head: True, child: False}

    page = ok(
        await c.post(
            "/graphql",
            json={
                "query": "query($h: UUID!) { household(id: $h) { needs { kind state memberId }"
                ' eligibility(asOf: "2026-06-01", policy: ["legal-aid"]) {'
                " verdicts { subjectId entitled } } deliveries { externalId } } }",
                "variables": {"h": hid},
            },
        )
    )["data"]["household"]
    assert page["needs"] == [{"kind": "LEGAL_AID", "state": "OPEN", "memberId": head}]
    assert {v["subjectId"]: v["entitled"] for v in page["eligibility"]["verdicts"]} == {
        head: True,
        child: False,
    }
    assert page["deliveries"] == []

    withdrawn = await c.patch(
        f"/api/v1/needs/{recorded['id']}", json={"state": "withdrawn"}, headers={"If-Match": '"1"'}
    )
    assert ok(withdrawn)["version"] == 2
    stale = await c.patch(
        f"/api/v1/needs/{recorded['id']}", json={"state": "open"}, headers={"If-Match": '"1"'}
    )
    refusal(stale, 412, "version_conflict")
    wrong = await c.post(
        f"/api/v1/households/{hid}/needs",
        json={"kind": "legal_aid", "member_id": str(uuid.uuid4())},
    )
    assert [e["path"] for e in refusal(wrong, 422, "validation_failed")["errors"]] == [
        "body.member_id"
    ]
