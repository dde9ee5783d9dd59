"""Names and types of units over time (issue 10): the units API as of a day shows the name and
type of that day, the review scores a household against the line of its commune's type on the
review date, and reports print the names of their period. Expectations are written out from
the sources (the 2022 national code list, Resolution 1288 and Decision 19/2025), not read from
the reference file."""

from datetime import date
from typing import Any

import httpx
import pytest

from api.domain.services import Services
from tests.builders import POOR_HOME, Json, assess, ok, open_campaign, survey

UNITS_URL = "/api/v1/units"
IN_2022 = date(2022, 6, 1)
# Kim Bảng's 18 communes in 2022: two towns (thị trấn) and sixteen rural communes (xã).
KIM_BANG_2022 = {
    "13384": ("Quế", "thi_tran"),
    "13387": ("Nguyễn Úy", "xa"),
    "13390": ("Đại Cương", "xa"),
    "13393": ("Lê Hồ", "xa"),
    "13396": ("Tượng Lĩnh", "xa"),
    "13399": ("Nhật Tựu", "xa"),
    "13402": ("Nhật Tân", "xa"),
    "13405": ("Đồng Hóa", "xa"),
    "13408": ("Hoàng Tây", "xa"),
    "13411": ("Tân Sơn", "xa"),
    "13414": ("Thụy Lôi", "xa"),
    "13417": ("Văn Xá", "xa"),
    "13420": ("Khả Phong", "xa"),
    "13423": ("Ngọc Sơn", "xa"),
    "13429": ("Ba Sao", "thi_tran"),
    "13432": ("Liên Sơn", "xa"),
    "13435": ("Thi Sơn", "xa"),
    "13438": ("Thanh Sơn", "xa"),
}
RURAL_AFTER_2025 = "13504"  # Xã Bình Lục, Ninh Bình, from 1 July 2025


def _listed(response: httpx.Response) -> list[Json]:
    assert response.status_code == 200, response.text
    body: list[Json] = response.json()
    return body


def _shape(unit: Json) -> tuple[str, str, bool | None]:
    return unit["name"], unit["unit_type"], unit["urban"]


@pytest.mark.parametrize(
    ("code", "day", "expected"),
    [
        ("13384", IN_2022, ("Quế", "thi_tran", True)),
        ("13384", date(2025, 3, 1), ("Quế", "phuong", True)),
        ("13384", date(2025, 7, 1), ("Kim Bảng", "phuong", True)),
        ("13393", IN_2022, ("Lê Hồ", "xa", False)),
        ("13393", date(2025, 1, 1), ("Lê Hồ", "phuong", True)),
        ("13396", IN_2022, ("Tượng Lĩnh", "xa", False)),
        ("13396", date(2025, 7, 15), ("Nguyễn Úy", "phuong", True)),
        ("13402", date(2024, 12, 31), ("Nhật Tân", "xa", False)),
        ("13402", date(2025, 1, 1), ("Tân Tựu", "phuong", True)),
        ("13420", date(2025, 6, 30), ("Khả Phong", "xa", False)),
        ("13429", IN_2022, ("Ba Sao", "thi_tran", True)),
        ("13435", IN_2022, ("Thi Sơn", "xa", False)),
        ("350", IN_2022, ("Kim Bảng", "huyen", None)),
        ("350", date(2025, 2, 1), ("Kim Bảng", "thi_xa", None)),
        (RURAL_AFTER_2025, date(2027, 12, 14), ("Bình Lục", "xa", False)),
    ],
)
async def test_a_unit_as_of_a_day_has_the_name_and_type_of_that_day(
    client: httpx.AsyncClient, code: str, day: date, expected: tuple[str, str, bool | None]
) -> None:
    unit = ok(await client.get(f"{UNITS_URL}/{code}", params={"as_of": day.isoformat()}))
    assert _shape(unit) == expected
    assert unit["code"] == code


async def test_without_a_day_a_unit_has_its_current_name(client: httpx.AsyncClient) -> None:
    assert _shape(ok(await client.get(f"{UNITS_URL}/13384"))) == ("Kim Bảng", "phuong", True)
    # A unit that has ended keeps the name it ended with.
    assert _shape(ok(await client.get(f"{UNITS_URL}/13390"))) == ("Đại Cương", "phuong", True)


async def test_the_district_in_2022_has_its_2022_names_and_types(
    client: httpx.AsyncClient,
) -> None:
    day = {"as_of": IN_2022.isoformat()}
    children = _listed(await client.get(f"{UNITS_URL}/350/children", params=day))
    assert {c["code"]: (c["name"], c["unit_type"]) for c in children} == KIM_BANG_2022
    assert {c["code"] for c in children if c["urban"]} == {"13384", "13429"}

    subtree = _listed(await client.get(f"{UNITS_URL}/350/subtree", params=day))
    communes = {u["code"]: (u["name"], u["unit_type"]) for u in subtree if u["level"] == "commune"}
    assert communes == KIM_BANG_2022
    assert _shape(subtree[0]) == ("Kim Bảng", "huyen", None)

    listed = ok(await client.get(UNITS_URL, params={**day, "level": "commune", "limit": 100}))
    kim_bang = {u["code"]: (u["name"], u["unit_type"]) for u in listed["items"]}
    assert kim_bang == KIM_BANG_2022


@pytest.mark.parametrize(
    ("q", "as_of", "expected"),
    [
        ("Tượng Lĩnh", None, ["13396", "13396-03"]),  # any name the unit has had
        ("Tượng Lĩnh", "2022-06-01", ["13396", "13396-03"]),
        ("Tượng Lĩnh", "2025-07-15", ["13396-03"]),  # the ward is Nguyễn Úy now
        ("nguyen uy", "2022-06-01", ["13387", "13387-03"]),
        ("nguyen uy", "2025-07-15", ["13387-03", "13396"]),
        ("Quế", "2022-06-01", ["13384", "13384-01", "13384-03"]),
    ],
)
async def test_name_search_follows_the_day(
    client: httpx.AsyncClient, q: str, as_of: str | None, expected: list[str]
) -> None:
    params: dict[str, Any] = {"q": q, "limit": 200, **({"as_of": as_of} if as_of else {})}
    found = ok(await client.get(UNITS_URL, params=params))["items"]
    assert [u["code"] for u in found] == expected


async def test_detail_lists_the_names_over_time(client: httpx.AsyncClient) -> None:
    ward = ok(await client.get(f"{UNITS_URL}/13402"))
    periods = [
        (n["name"], n["unit_type"], n["urban"], n["valid_from"], n["valid_to"], n["confirmed"])
        for n in ward["names"]
    ]
    assert periods == [
        ("Nhật Tân", "xa", False, "1997-01-01", "2024-12-31", True),
        # No source gave Tân Tựu's code: that it kept 13402 is inferred, so unconfirmed.
        ("Tân Tựu", "phuong", True, "2025-01-01", "2025-06-30", False),
        ("Kim Thanh", "phuong", True, "2025-07-01", None, True),
    ]
    assert all(n["source"] for n in ward["names"])
    old = ok(await client.get(f"{UNITS_URL}/13402", params={"as_of": "2024-06-01"}))
    assert old["name"] == "Nhật Tân"
    assert old["names"] == ward["names"]


UNIT_THEN = """
query($code: String!, $day: Date!) {
  unit(code: $code, asOf: $day) {
    name unitType urban
    lineage { names { name unitType urban validFrom validTo confirmed } }
    children(asOf: $day) { code }
  }
  unitSubtree(code: "350", asOf: $day) { code name unitType urban level }
  units(level: COMMUNE, asOf: $day, q: "Tượng Lĩnh") { nodes { code name } }
}"""


async def test_graphql_reads_units_as_of_a_day(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", json={"query": UNIT_THEN, "variables": {"code": "13384", "day": "2022-06-01"}}
    )
    body = ok(response)
    assert "errors" not in body, body
    unit = body["data"]["unit"]
    assert (unit["name"], unit["unitType"], unit["urban"]) == ("Quế", "THI_TRAN", True)
    assert [(n["name"], n["unitType"]) for n in unit["lineage"]["names"]] == [
        ("Quế", "THI_TRAN"),
        ("Quế", "PHUONG"),
        ("Kim Bảng", "PHUONG"),
    ]
    assert [c["code"] for c in unit["children"]] == ["13384-01", "13384-02", "13384-03"]
    communes = {
        u["code"]: (u["name"], u["unitType"].lower())
        for u in body["data"]["unitSubtree"]
        if u["level"] == "COMMUNE"
    }
    assert communes == KIM_BANG_2022
    assert body["data"]["units"]["nodes"] == [{"code": "13396", "name": "Tượng Lĩnh"}]


# --- the review: the line of the commune's type on the review date --------------------------


@pytest.mark.parametrize(
    ("village", "year", "area", "line", "status", "missing"),
    [
        # Xã Lê Hồ until 2024: 1,800,000 is above the rural line (1,500,000), in the average
        # band, so the survey must say whether the household farms; it is not poor.
        ("13393-01", 2022, "rural", 1_500_000, None, ["agricultural"]),
        ("13396-01", 2022, "rural", 1_500_000, None, ["agricultural"]),
        # Thị trấn Quế was a town: the urban line (2,000,000), so poor.
        ("13384-01", 2022, "urban", 2_000_000, "poor", []),
        # Phường Lê Hồ from 2025-01-01: urban.
        ("13393-01", 2025, "urban", 2_000_000, "poor", []),
    ],
)
async def test_the_line_is_that_of_the_commune_type_on_the_review_date(
    client: httpx.AsyncClient,
    services: Services,
    village: str,
    year: int,
    area: str,
    line: int,
    status: str | None,
    missing: list[str],
) -> None:
    campaign = await open_campaign(client, year, village[:5])
    assert campaign["standard_code"] == "nd-07-2021"
    a = await assess(client, services, campaign, survey(1_800_000), village, **POOR_HOME)
    assert (a["area"], a["deprivation_count"]) == (area, 3)
    assert (a["status"], a["missing"]) == (status, missing)
    assert f"income 1,800,000 against the line {line:,}" in a["explanation"]


@pytest.mark.parametrize(
    ("village", "area", "line", "status", "missing"),
    [
        (f"{RURAL_AFTER_2025}-01", "rural", 2_200_000, None, ["agricultural"]),
        ("13384-01", "urban", 2_800_000, "poor", []),
    ],
)
async def test_decree_351_scores_a_xa_rural_and_a_phuong_urban(
    client: httpx.AsyncClient,
    services: Services,
    village: str,
    area: str,
    line: int,
    status: str | None,
    missing: list[str],
) -> None:
    campaign = await open_campaign(client, 2027, village[:5])
    assert campaign["standard_code"] == "nd-351-2025"
    a = await assess(client, services, campaign, survey(2_500_000), village, **POOR_HOME)
    assert (a["area"], a["deprivation_count"]) == (area, 3)
    assert (a["status"], a["missing"]) == (status, missing)
    assert f"income 2,500,000 against the line {line:,}" in a["explanation"]


# --- reports print the names of their period ------------------------------------------------


async def _report(client: httpx.AsyncClient, unit: str, start: str, end: str) -> Json:
    params = {"unit": unit, "from": start, "to": end}
    return ok(await client.get("/api/v1/reports/review", params=params))


async def test_the_2022_report_prints_the_2022_names(client: httpx.AsyncClient) -> None:
    report = await _report(client, "350", "2022-01-01", "2022-12-31")
    assert report["unit_name"] == "Kim Bảng"
    names = {r["code"]: r["name"] for r in report["rows"]}
    assert names == {code: name for code, (name, _type) in KIM_BANG_2022.items()}
    assert len(set(names.values())) == 18  # no two rows read "Nguyễn Úy"


async def test_a_report_prints_the_names_at_the_end_of_its_period(
    client: httpx.AsyncClient,
) -> None:
    first_half = await _report(client, "350", "2025-01-01", "2025-06-30")
    names = {r["code"]: r["name"] for r in first_half["rows"]}
    assert (names["13384"], names["13402"], names["13396"]) == ("Quế", "Tân Tựu", "Tượng Lĩnh")
    assert "13399" not in names  # merged into Tân Tựu on 2025-01-01
    now = await _report(client, "37", "2026-01-01", "2026-12-31")
    names = {r["code"]: r["name"] for r in now["rows"]}
    assert (names["13384"], names["13396"], names[RURAL_AFTER_2025]) == (
        "Kim Bảng",
        "Nguyễn Úy",
        "Bình Lục",
    )
