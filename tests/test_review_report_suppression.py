"""Village figures of the review report are small: for callers other than the commune's own
staff, counts from 1 to 4 are suppressed, with complementary cells so that none can be worked
out from the total and the other villages, in JSON, CSV and XLSX alike."""

import csv
import io
from datetime import date
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from openpyxl import load_workbook

from api.domain.access import Role
from api.domain.households.member_models import Relation
from api.domain.review.suppression import TOTAL, protect
from api.domain.services import Services
from tests.builders import (
    SOUND_HOME,
    drive,
    make_household,
    make_member,
    ok,
    open_campaign,
    token_headers,
)

Json = dict[str, Any]
PERIOD = {"from": "2025-01-01", "to": "2026-12-31"}
COUNTS = [
    "households",
    "persons",
    "poor_households",
    "poor_persons",
    "near_poor_households",
    "near_poor_persons",
]
RATES = {"poor_rate": "poor_households", "near_poor_rate": "near_poor_households"}


async def _poor_household(client: httpx.AsyncClient, services: Services, village: str) -> None:
    """A household of one recognised as poor on 20 December 2025."""
    household = await make_household(services, village, **SOUND_HOME)
    await make_member(
        services,
        household.id,
        date_of_birth=date(1950, 1, 1),
        relation_to_head=Relation.HEAD,
        labour_capacity=False,
        health_insurance=False,
    )
    campaign = await open_campaign(client, 2025, "13384")
    body = {
        "campaign_id": campaign["id"],
        "household_id": str(household.id),
        "surveyed_on": campaign["opens_on"],
        "answers": {
            "monthly_income_per_capita": 300_000,
            "indicators": {"nutrition": {"deprived": True}},
        },
    }
    assessment = ok(await client.post("/api/v1/assessments", json=body), 201)
    await drive(client, assessment, "recognised", date(2025, 12, 20))


async def _report(client: httpx.AsyncClient, headers: dict[str, str], unit: str) -> Json:
    return ok(
        await client.get("/api/v1/reports/review", params={"unit": unit, **PERIOD}, headers=headers)
    )


def _nulls(report: Json) -> list[str]:
    """The paths of every null figure in a report."""
    found = [f"totals.{k}" for k, v in report["totals"].items() if v is None]
    found += [f"rows.{r['code']}.{k}" for r in report["rows"] for k, v in r.items() if v is None]
    found += [
        f"movements.{m['list']}.{k}" for m in report["movements"] for k, v in m.items() if v is None
    ]
    for table, key in (("deprivations", "indicator"), ("flags", "key"), ("causes", "key")):
        found += [f"{table}.{r[key]}.{k}" for r in report[table] for k, v in r.items() if v is None]
    return sorted(found)


def _assert_protected(full: Json, shown: Json) -> None:
    assert shown["small_cells_below"] == 5
    assert sorted(shown["suppressed"]) == _nulls(shown)
    rows = list(zip(full["rows"], shown["rows"], strict=True))
    for name in COUNTS:
        hidden = 0
        for f, s in [*rows, (full["totals"], shown["totals"])]:
            if 1 <= f[name] < 5 and f is not full["totals"]:
                assert s[name] is None, (s["code"], name)
            if s[name] is None:
                hidden += 1
            else:
                assert s[name] == f[name]
        # One hidden cell in a column could be worked out from the total and the others.
        assert hidden != 1, name
    for _, s in [*rows, (None, shown["totals"])]:
        for rate, count in RATES.items():
            if s[count] is None or s["households"] is None:
                assert s[rate] is None


async def test_outsiders_get_village_figures_with_small_cells_suppressed(
    anonymous_app: FastAPI, anonymous_client: httpx.AsyncClient, services: Services
) -> None:
    c = anonymous_client
    officer, _ = await token_headers(anonymous_app, services, Role.COMMUNE_OFFICER, ["13384"])
    c.headers.update(officer)
    await _poor_household(c, services, "13384-01")
    full = await _report(c, officer, "13384")
    assert (full["small_cells_below"], full["suppressed"], _nulls(full)) == (None, [], [])
    (village,) = [r for r in full["rows"] if r["code"] == "13384-01"]
    assert 1 <= village["poor_households"] < 5

    for role in (Role.SUPERVISOR, Role.PROVINCE_OFFICER):
        outsider, _ = await token_headers(anonymous_app, services, role, ["37"])
        shown = await _report(c, outsider, "13384")
        _assert_protected(full, shown)
        assert "rows.13384-01.poor_households" in shown["suppressed"]

        # The village's own report hides what the commune's hides for it, and its other
        # small figures too.
        alone = await _report(c, outsider, "13384-01")
        assert alone["small_cells_below"] == 5
        in_commune = {
            p.removeprefix("rows.13384-01.")
            for p in shown["suppressed"]
            if p.startswith("rows.13384-01.")
        }
        own = {p.removeprefix("totals.") for p in alone["suppressed"] if p.startswith("totals.")}
        assert own == in_commune
        assert sorted(alone["suppressed"]) == _nulls(alone)
        for m in alone["movements"]:
            terms = [
                m[k]
                for k in (
                    "start",
                    "new",
                    "re_entered",
                    "from_other_list",
                    "escaped",
                    "to_other_list",
                    "other_decrease",
                    "end",
                )
            ]
            assert terms.count(None) != 1, m
        village_full = await _report(c, officer, "13384-01")
        for table, key in (("flags", "key"), ("causes", "key"), ("deprivations", "indicator")):
            for f, s in zip(village_full[table], alone[table], strict=True):
                for col in ("poor_households", "near_poor_households"):
                    if 1 <= f[col] < 5:
                        assert s[col] is None, (table, f[key], col)


async def test_the_downloads_suppress_the_same_cells(
    anonymous_app: FastAPI, anonymous_client: httpx.AsyncClient, services: Services
) -> None:
    c = anonymous_client
    officer, _ = await token_headers(anonymous_app, services, Role.COMMUNE_OFFICER, ["13384"])
    c.headers.update(officer)
    await _poor_household(c, services, "13384-01")
    outsider, _ = await token_headers(anonymous_app, services, Role.SUPERVISOR, ["37"])
    shown = await _report(c, outsider, "13384")
    params = {"unit": "13384", **PERIOD}

    response = await c.get(
        "/api/v1/reports/review", params={**params, "format": "csv"}, headers=outsider
    )
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    (village,) = [r for r in rows if r and r[0] == "13384-01"]
    assert village[4] == ""  # Số hộ nghèo
    listed = [r[1] for r in rows if r and r[0] == "Ô bị ẩn"]
    assert listed == [p for p in shown["suppressed"] if p.startswith(("rows.", "totals."))]

    response = await c.get(
        "/api/v1/reports/review", params={**params, "format": "xlsx"}, headers=outsider
    )
    book = load_workbook(io.BytesIO(response.content))
    units = list(book["Theo đơn vị"].iter_rows(values_only=True))
    (row,) = [r for r in units if r[0] == "13384-01"]
    assert row[4] is None
    hidden = [r[0] for r in book["Ô bị ẩn"].iter_rows(min_row=3, values_only=True)]
    assert hidden == shown["suppressed"]


@pytest.mark.parametrize(
    ("cells", "hidden"),
    [
        # One small cell: its smallest neighbour above zero goes with it.
        ({"a": {"n": 3}, "b": {"n": 7}, "c": {"n": 20}}, {("a", "n"), ("b", "n")}),
        # Two small cells protect each other.
        ({"a": {"n": 1}, "b": {"n": 2}, "c": {"n": 20}}, {("a", "n"), ("b", "n")}),
        # Zeros are shown, and are no complement while a count above zero is left.
        ({"a": {"n": 0}, "b": {"n": 4}, "c": {"n": 9}}, {("b", "n"), ("c", "n")}),
        # Nothing small: nothing hidden.
        ({"a": {"n": 5}, "b": {"n": 0}}, set()),
        # A single village: the total is its figure, and goes too.
        ({"a": {"n": 2}}, {("a", "n"), (TOTAL, "n")}),
    ],
)
def test_complementary_suppression(cells: dict[str, dict[str, int]], hidden: set[Any]) -> None:
    assert protect(cells, 5) == hidden


def test_a_linked_row_never_hides_a_single_term() -> None:
    """Movements add up (end = start − decreases + increases): hiding one term alone would
    let it be worked out from the others."""
    cells = {"a": {"start": 10, "new": 2, "end": 12}, "b": {"start": 10, "new": 2, "end": 12}}
    hidden = protect(cells, 5, linked=[("start", "new", "end")])
    for row in ("a", "b"):
        assert sum((row, n) in hidden for n in ("start", "new", "end")) != 1
    assert {("a", "new"), ("b", "new")} <= hidden
