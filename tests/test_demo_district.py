"""The demo district, loaded by `api.cli setup` into the real server process: its recognised
review of 2022 reproduces the seed plan's figures, through every door."""

import csv
import io
import re
from datetime import date
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

from api.demo import DEMO_PASSWORD
from api.domain.review.classify import Survey, classify
from api.domain.review.standards import Area, catalog
from tests.live import Server, run_cli

pytestmark = pytest.mark.e2e
YEAR_2022 = {"unit": "350", "from": "2022-01-01", "to": "2022-12-31"}


async def _headers(client: httpx.AsyncClient, username: str = "huyen.kimbang") -> dict[str, str]:
    response = await client.post(
        "/api/v1/auth/token", data={"username": username, "password": DEMO_PASSWORD}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def _report(client: httpx.AsyncClient, **params: str) -> dict[str, Any]:
    response = await client.get(
        "/api/v1/reports/review", params={**YEAR_2022, **params}, headers=await _headers(client)
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_the_2022_review_reproduces_the_seed_plan(server: Server) -> None:
    client, _, _ = server
    report = await _report(client)
    totals = report["totals"]
    assert (totals["poor_households"], totals["poor_persons"], totals["poor_rate"]) == (
        1012,
        2007,
        2.5,
    )
    assert (
        totals["near_poor_households"],
        totals["near_poor_persons"],
        totals["near_poor_rate"],
    ) == (966, 2387, 2.38)
    assert totals["households"] == 40_520
    assert report["standard_code"] == "nd-07-2021"
    assert report["rate_definition"]["code"] == "households"
    assert len(report["rows"]) == 18  # the district's communes as they were in 2022
    for key in ("households", "persons", "poor_households", "poor_persons", "near_poor_persons"):
        assert sum(r[key] for r in report["rows"]) == totals[key], key
    poor, near = report["movements"]
    assert (poor["list"], poor["start"], poor["end"], poor["balanced"]) == (
        "poor",
        1100,
        1012,
        True,
    )
    assert (
        poor["start"]
        - poor["escaped"]
        - poor["to_other_list"]
        - poor["other_decrease"]
        + (poor["new"] + poor["re_entered"] + poor["from_other_list"])
        == poor["end"]
    )
    assert (near["list"], near["start"], near["end"], near["balanced"]) == (
        "near_poor",
        1000,
        966,
        True,
    )
    causes = sorted(report["causes"], key=lambda c: -c["poor_households"])
    assert [c["key"] for c in causes[:2]] == ["illness", "no_labour"]
    deprivations = {d["indicator"]: d for d in report["deprivations"]}
    assert len(deprivations) == 12
    assert deprivations["housing_quality"]["poor_share"] == round(
        100 * deprivations["housing_quality"]["poor_households"] / 1012, 2
    )


async def test_the_2022_report_prints_the_communes_as_they_were_named_in_2022(
    server: Server,
) -> None:
    client, _, _ = server
    rows = {r["code"]: r for r in (await _report(client))["rows"]}
    assert (rows["13384"]["name"], rows["13396"]["name"], rows["13387"]["name"]) == (
        "Quế",
        "Tượng Lĩnh",
        "Nguyễn Úy",
    )
    assert len({r["name"] for r in rows.values()}) == 18


async def test_each_assessment_used_the_line_of_its_commune_type_in_its_year(
    server: Server,
) -> None:
    """In 2021-2022 only the towns Quế (13384) and Ba Sao (13429) were urban; the demo's village
    codes begin with the code of their commune of that time."""
    client, _, _ = server
    headers = await _headers(client)
    areas: dict[tuple[int, str], set[str]] = {}
    after = None
    for _page in range(100):
        params = {"limit": 200, **({"after": after} if after else {})}
        page = (await client.get("/api/v1/assessments", params=params, headers=headers)).json()
        for a in page["items"]:
            commune = a["unit_path"].rsplit("/", 1)[-1][:5]
            areas.setdefault((int(a["review_date"][:4]), a["area"]), set()).add(commune)
        after = page["next_cursor"]
        if not page["has_more"]:
            break
    for year in (2021, 2022):
        assert areas[(year, "urban")] == {"13384", "13429"}
        assert len(areas[(year, "rural")]) == 16
        assert not areas[(year, "rural")] & {"13384", "13429"}


async def test_a_rural_commune_after_2025_has_demo_households(server: Server) -> None:
    client, _, _ = server
    response = await client.get(
        "/api/v1/reports/review",
        params={"unit": "13504", "from": "2026-01-01", "to": "2026-12-31"},
        headers=await _headers(client, "admin"),
    )
    report = response.json()
    assert report["unit_name"] == "Bình Lục"
    assert report["totals"]["households"] == 60
    assert report["totals"]["poor_households"] == 0  # not reviewed yet
    assert len(report["rows"]) == 3


async def test_a_2027_review_in_the_rural_commune_uses_the_rural_line(server: Server) -> None:
    """The demo's commune officer of Xã Bình Lục surveys one of its households under Decree
    351/2025: rural line 2,200,000 (a phường would be held to 2,800,000)."""
    client, _, _ = server
    headers = await _headers(client, "xa.binhluc")
    households = await client.get(
        "/api/v1/households", params={"unit": "13504", "limit": 1}, headers=headers
    )
    [household] = households.json()["items"]
    campaign = await client.post(
        "/api/v1/campaigns",
        json={
            "commune_code": "13504",
            "kind": "periodic",
            "name": "Rà soát định kỳ 2027 – Bình Lục",
            "opens_on": "2027-09-01",
            "closes_on": "2027-12-14",
        },
        headers=headers,
    )
    assert campaign.status_code == 201, campaign.text
    assert campaign.json()["standard_code"] == "nd-351-2025"
    answers = {"monthly_income_per_capita": 2_500_000, "agricultural": False}
    response = await client.post(
        "/api/v1/assessments",
        json={
            "campaign_id": campaign.json()["id"],
            "household_id": household["id"],
            "surveyed_on": "2027-09-15",
            "answers": answers,
        },
        headers=headers,
    )
    assert response.status_code == 201, response.text
    assessment = response.json()
    assert (assessment["standard_code"], assessment["area"]) == ("nd-351-2025", "rural")
    assert "income 2,500,000 against the line 2,200,000" in assessment["explanation"]
    assert assessment["status"] == "not_poor"  # average band, not agricultural


async def test_the_2021_review_ran_under_decision_59_and_balances(server: Server) -> None:
    client, _, _ = server
    report = await _report(client, **{"from": "2021-01-01", "to": "2021-12-31"})
    assert report["standard_code"] == "qd-59-2015"
    assert (report["totals"]["poor_households"], report["totals"]["near_poor_households"]) == (
        1100,
        1000,
    )
    assert all(m["balanced"] and m["start"] == 0 for m in report["movements"])
    assert report["movements"][0]["new"] == 1100


async def test_classes_come_from_the_classifier(server: Server) -> None:
    """Re-classify stored surveys with the pure function: every assessment agrees."""
    client, _, _ = server
    headers = await _headers(client)
    page = (
        await client.get(
            "/api/v1/assessments", params={"limit": 200, "state": "certified"}, headers=headers
        )
    ).json()["items"]
    assert len(page) == 200
    standards = catalog()
    for a in page:
        survey = Survey(
            area=Area(a["area"]),
            deprivations={i["code"]: i["deprived"] for i in a["indicators"]},
            income=a["answers"]["monthly_income_per_capita"],
            agricultural=a["answers"]["agricultural"],
        )
        assert classify(standards.get(a["standard_code"]), survey).status == a["status"]
        derived = [i for i in a["indicators"] if i["source"] == "derived"]
        assert derived
        assert all(i["derivation"] for i in derived)


async def test_csv_and_excel_downloads_have_vietnamese_headers(server: Server) -> None:
    client, _, _ = server
    headers = await _headers(client)
    response = await client.get(
        "/api/v1/reports/review", params={**YEAR_2022, "format": "csv"}, headers=headers
    )
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:5] == [
        "Mã đơn vị",
        "Tên đơn vị",
        "Tổng số hộ",
        "Tổng số nhân khẩu",
        "Số hộ nghèo",
    ]
    assert rows[-1][0] == "350"
    assert rows[-1][4:7] == ["1012", "2007", "2.5"]
    assert len(rows) == 1 + 18 + 1
    response = await client.get(
        "/api/v1/reports/review", params={**YEAR_2022, "format": "xlsx"}, headers=headers
    )
    assert "attachment" in response.headers["content-disposition"]
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == [
        "Theo đơn vị",
        "Biến động",
        "Thiếu hụt",
        "Nhóm đối tượng",
        "Nguyên nhân nghèo",
    ]
    units = list(book["Theo đơn vị"].iter_rows(values_only=True))
    assert units[1][2] == "Tổng số hộ"
    assert units[-1][4:10] == (1012, 2007, 2.5, 966, 2387, 2.38)


async def test_graphql_gives_the_same_report(server: Server) -> None:
    client, _, _ = server
    query = """query($u: String!, $f: Date!, $t: Date!) {
      reviewReport(unit: $u, from: $f, to: $t) {
        totals { households poorHouseholds poorPersons poorRate nearPoorHouseholds nearPoorRate }
        movements { list start end balanced }
      } }"""
    variables = {"u": "350", "f": "2022-01-01", "t": "2022-12-31"}
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=await _headers(client)
    )
    data = response.json()["data"]["reviewReport"]
    rest = await _report(client)
    assert data["totals"] == {
        "households": rest["totals"]["households"],
        "poorHouseholds": 1012,
        "poorPersons": 2007,
        "poorRate": 2.5,
        "nearPoorHouseholds": 966,
        "nearPoorRate": 2.38,
    }
    assert [m["balanced"] for m in data["movements"]] == [True, True]


async def test_what_if_under_the_2027_standard(server: Server) -> None:
    client, _, _ = server
    response = await client.get(
        "/api/v1/reports/what-if",
        params={"unit": "350", "standard": "nd-351-2025", "as_of": "2026-11-28"},
        headers=await _headers(client),
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["assessed_households"] == 2508
    before = {c["status"]: c["households"] for c in result["before"]}
    after = {c["status"]: c["households"] for c in result["after"]}
    assert (before["poor"], before["near_poor"]) == (1012, 966)
    assert sum(before.values()) == sum(after.values()) == 2508
    changes = {(c["from_status"], c["to_status"]): c["households"] for c in result["changes"]}
    assert result["changed_total"] == sum(changes.values()) > 0
    # Higher income lines only ever move households towards the lists, never off them.
    rank = {"poor": 0, "near_poor": 1, "average": 2, "not_poor": 3}
    assert all(rank[t] < rank[f] for f, t in changes)
    assert after["near_poor"] == 966 + changes.get(("average", "near_poor"), 0) + changes.get(
        ("not_poor", "near_poor"), 0
    )
    assert all(h["assumed"] == ["digital_use", "waste_handling"] for h in result["changed"])


async def test_a_household_status_as_of_any_date(server: Server) -> None:
    client, _, _ = server
    headers = await _headers(client)
    assessment = (
        await client.get(
            "/api/v1/assessments", params={"limit": 1, "state": "certified"}, headers=headers
        )
    ).json()["items"][0]
    household = assessment["household_id"]
    history = (
        await client.get(f"/api/v1/households/{household}/status-history", headers=headers)
    ).json()
    assert history
    assert history[-1]["effective_to"] is None
    for period in history:
        day = date.fromisoformat(period["effective_from"])
        seen = (
            await client.get(
                f"/api/v1/households/{household}/status",
                params={"as_of": day.isoformat()},
                headers=headers,
            )
        ).json()
        assert (seen["status"], seen["since"]) == (period["status"], period["effective_from"])
    before = (
        await client.get(
            f"/api/v1/households/{household}/status",
            params={"as_of": "2020-06-01"},
            headers=headers,
        )
    ).json()
    assert before["status"] is None


async def test_the_demo_coverage_is_the_one_the_readme_states(server: Server) -> None:
    client, _, _ = server
    headers = await _headers(client)
    expected = {
        "bhyt-poor": (2007, 1933, 74, 45),
        "bhyt-near-poor": (2387, 2222, 165, 0),
        "credit-poor": (217, 156, 61, 0),
        "credit-newly-escaped": (95, 37, 58, 0),
        "legal-aid": (47, 37, 10, 0),
        "study-cost": (120, 105, 15, 0),
        "electricity": (1012, 980, 32, 0),
    }
    for policy, figures in expected.items():
        response = await client.get(
            "/api/v1/coverage",
            params={"policy": policy, "as_of": "2023-06-30", "period_from": "2023-01-01"},
            headers=headers,
        )
        assert response.status_code == 200, response.text
        report = response.json()
        totals = report["totals"]
        found = (totals["entitled"], totals["delivered"], totals["gap"], totals["leakage"])
        assert found == figures, policy
        assert sum(r["entitled"] for r in report["rows"]) == totals["entitled"]
        assert len(report["gaps"]) == totals["gap"]
    # The former district, gone since 2025, is counted where its villages are today.
    former = await client.get(
        "/api/v1/coverage",
        params={"policy": "bhyt-poor", "unit": "350", "as_of": "2023-06-30"},
        headers=headers,
    )
    assert former.status_code == 200, former.text
    totals = former.json()["totals"]
    assert (totals["unit_code"], totals["entitled"], totals["delivered"]) == ("35/350", 2007, 1933)
    queue = await client.get(
        "/api/v1/deliveries", params={"match": "unmatched", "limit": 200}, headers=headers
    )
    assert len(queue.json()["items"]) == 15


async def test_setup_stores_entitlements_and_the_command_recomputes_them(server: Server) -> None:
    client, env, first_setup = server
    assert re.search(r"entitlements: \d+ households judged, [1-9]\d* written", first_setup)
    first = await run_cli(["recompute-entitlements", "--full", "--as-of", "2023-06-30"], env)
    judged, written = (int(n) for n in re.findall(r"(\d+) (?:households judged|written)", first))
    assert judged > 1000
    assert written > judged  # a household's members are subjects too
    again = await run_cli(["recompute-entitlements", "--full", "--as-of", "2023-06-30"], env)
    assert f"{judged} households judged, 0 written, 0 removed, {written} unchanged" in again

    # The stored entitlements agree with the coverage the same rules count.
    headers = await _headers(client)
    report = (
        await client.get(
            "/api/v1/coverage",
            params={"policy": "bhyt-poor", "as_of": "2023-06-30", "period_from": "2023-01-01"},
            headers=headers,
        )
    ).json()
    gap = report["gaps"][0]
    stored = await client.get(
        f"/api/v1/households/{gap['household_id']}/entitlements",
        params={"year": 2023},
        headers=headers,
    )
    card = next(
        e
        for e in stored.json()
        if (e["policy"], e["subject_id"]) == ("bhyt-poor", gap["subject_id"])
    )
    assert (card["eligible"], card["entitled"], card["basis"]["status"]) == (True, True, "poor")


async def test_the_seed_plan_of_2023_reads_its_targets_from_the_records(server: Server) -> None:
    client, _, first_setup = server
    assert "demo 2023 plan: 24 targets, 14 tasks" in first_setup
    headers = await _headers(client)
    (plan,) = (await client.get("/api/v1/plans", params={"year": 2023}, headers=headers)).json()
    assert (plan["unit_code"], plan["status"], plan["programme"]) == (
        "350",
        "issued",
        "mtqg-gnbv-2021-2025",
    )
    progress = (await client.get(f"/api/v1/plans/{plan['id']}/progress", headers=headers)).json()
    assert progress["as_of"] == "2023-12-31"
    district = {t["indicator"]: t for t in progress["targets"] if t["unit_code"] == "350"}
    rate = district["poor-rate-households"]
    assert (rate["baseline_value"], rate["target_value"]) == (2.5, 1.95)
    # No review of 2023 is in the demo: the rate stands where the 2022 review left it.
    current = rate["current"]
    assert (current["value"], current["numerator"], current["denominator"]) == (2.5, 1012, 40520)
    assert rate["verdict"] == "off_track"
    assert rate["cascade"]["children"] == 18
    assert rate["cascade"]["consistent"], rate["cascade"]
    served = {
        code: (t["target_value"], t["current"]["numerator"], t["current"]["denominator"])
        for code, t in district.items()
        if code.endswith("-coverage")
    }
    assert served == {
        "bhyt-poor-coverage": (100.0, 1933, 2007),
        "bhyt-near-poor-coverage": (100.0, 2222, 2387),
        "study-cost-coverage": (100.0, 105, 120),
        "legal-aid-coverage": (90.0, 37, 47),
    }
    trained = district["staff-trained"]["current"]
    assert (trained["value"], trained["numerator"], trained["denominator"]) == (90.32, 168, 186)
    board = progress["board"]
    assert (board["total"], board["done"]) == (14, 3)
    assert len({t["owner_agency"] for t in board["tasks"]}) == 13
    assert progress["warnings"] == []
