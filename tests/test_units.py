"""Administrative units through REST: lists, the hierarchy on a given day, and lineage across
the 1 July 2025 reorganisation. Expectations are derived from the reference file itself."""

import base64
import json
import unicodedata
from datetime import date
from typing import Any

import httpx
import pytest

from api.domain.services import Services
from api.domain.units.loader import ParentPeriod, UnitFile, UnitRecord, load_units, read_file
from api.domain.units.models import UnitNameBase

DATA: UnitFile = read_file()
UNITS: dict[str, UnitRecord] = {u.code: u for u in DATA.units}
LEVELS = ("province", "district", "commune", "village")
BEFORE = date(2025, 6, 15)  # Hà Nam (35) / Kim Bảng (350) / old communes
AFTER = date(2025, 7, 15)  # Ninh Bình (37) / new communes, no districts
UNITS_URL = "/api/v1/units"


def _covers(start: date, end: date | None, day: date) -> bool:
    return start <= day and (end is None or day <= end)


def exists_on(code: str, day: date) -> bool:
    unit = UNITS[code]
    return _covers(unit.valid_from, unit.valid_to, day)


def children_on(code: str, day: date) -> list[str]:
    return sorted(
        u.code
        for u in DATA.units
        if exists_on(u.code, day)
        and any(p.code == code and _covers(p.valid_from, p.valid_to, day) for p in u.parents)
    )


def subtree_on(code: str, day: date) -> list[str]:
    below: list[str] = []
    frontier = [code]
    while frontier:
        frontier = [child for parent in frontier for child in children_on(parent, day)]
        below += frontier
    return [code, *sorted(below, key=lambda c: (LEVELS.index(UNITS[c].level), c))]


def latest_parent(unit: UnitRecord) -> ParentPeriod | None:
    return max(unit.parents, key=lambda p: p.valid_from) if unit.parents else None


def path_of(code: str) -> str:
    parent = latest_parent(UNITS[code])
    return code if parent is None else f"{path_of(parent.code)}/{code}"


def urban_type(level: str, unit_type: str) -> bool | None:
    return (
        unit_type in ("phuong", "thi_tran", "to_dan_pho")
        if level in ("commune", "village")
        else None
    )


def named_on(unit: UnitRecord, day: date | None) -> tuple[str, str]:
    """The unit's name and type on `day` (current without one; nearest outside its life)."""
    periods = unit.name_periods()
    if day is None:
        return unit.name, unit.unit_type
    started = [n for n in periods if n.valid_from <= day]
    period = started[-1] if started else periods[0]
    return period.name, period.unit_type


def public(code: str, day: date | None = None) -> dict[str, Any]:
    """The unit as the API should show it on `day`, from the reference file."""
    unit = UNITS[code]
    parent = latest_parent(unit)
    name, unit_type = named_on(unit, day)
    urban = urban_type(unit.level, unit_type)
    return {
        "code": unit.code,
        "name": name,
        "level": unit.level,
        "unit_type": unit_type,
        "valid_from": unit.valid_from.isoformat(),
        "valid_to": unit.valid_to.isoformat() if unit.valid_to else None,
        "confirmed": unit.confirmed,
        "demo": unit.demo,
        "note": unit.note,
        "parent_code": parent.code if parent else None,
        "path": path_of(code),
        "urban": urban,
    }


def links(code: str, *, forward: bool) -> list[dict[str, Any]]:
    found = [
        (s.successor if forward else s.predecessor, s)
        for s in DATA.successions
        if (s.predecessor if forward else s.successor) == code
    ]
    return [
        {
            "code": other,
            "name": UNITS[other].name,
            "effective": s.effective.isoformat(),
            "kind": s.kind,
        }
        for other, s in sorted(found, key=lambda pair: pair[0])
    ]


def folded(text: str) -> str:
    """Lower case without diacritics (đ -> d), written independently of the service."""
    decomposed = unicodedata.normalize("NFD", text.lower().replace("đ", "d"))
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")


def codes(items: list[dict[str, Any]]) -> list[str]:
    return [item["code"] for item in items]


async def list_all(client: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    """Every unit the list returns for these filters, following cursors."""
    items: list[dict[str, Any]] = []
    cursor = None
    for _page in range(100):
        query = {**params, **({"after": cursor} if cursor else {})}
        response = await client.get(UNITS_URL, params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) <= query.get("limit", 50)
        items += page["items"]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            assert cursor is None
            return items
        assert cursor is not None
    raise AssertionError("the cursor never reached the end")


def test_reference_file_has_the_cases_these_tests_rely_on() -> None:
    assert UNITS["35"].valid_to == date(2025, 6, 30)
    assert UNITS["350"].level == "district"
    assert UNITS["37"].valid_to is None
    assert children_on("350", BEFORE)
    assert children_on("37", AFTER)
    assert children_on("350", AFTER) == []
    assert len(DATA.units) > 50


async def test_list_returns_every_unit_in_code_order(client: httpx.AsyncClient) -> None:
    items = await list_all(client, limit=200)
    assert codes(items) == sorted(UNITS)
    assert items == [public(code) for code in sorted(UNITS)]


async def test_cursor_paging_visits_every_unit_once(client: httpx.AsyncClient) -> None:
    pages: list[int] = []
    cursor = None
    seen: list[str] = []
    for _page in range(len(UNITS)):  # a cursor that never advances must not hang the run
        params: dict[str, Any] = {"limit": 7, **({"after": cursor} if cursor else {})}
        page = (await client.get(UNITS_URL, params=params)).json()
        pages.append(len(page["items"]))
        seen += codes(page["items"])
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break
    assert seen == sorted(UNITS)
    assert pages[:-1] == [7] * (len(pages) - 1)
    assert 1 <= pages[-1] <= 7
    assert cursor is None

    villages = await list_all(client, level="village", limit=10)
    assert codes(villages) == sorted(c for c, u in UNITS.items() if u.level == "village")


def forged_cursor(*values: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        pytest.param("not a cursor!", id="garbage"),
        pytest.param(forged_cursor("chg", 5), id="change-feed-cursor"),
        pytest.param(forged_cursor("unit", "13384", "x"), id="wrong-arity"),
        pytest.param(forged_cursor("unit", {"code": "13384"}), id="object-instead-of-code"),
        pytest.param(forged_cursor("unit", None), id="null-instead-of-code"),
    ],
)
async def test_cursors_this_service_did_not_issue_are_refused(
    client: httpx.AsyncClient, cursor: str
) -> None:
    response = await client.get(UNITS_URL, params={"after": cursor})
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "invalid_cursor"


@pytest.mark.parametrize(
    ("level", "as_of"),
    [
        ("commune", BEFORE),
        ("commune", AFTER),
        ("district", BEFORE),
        ("district", AFTER),
        ("province", date(2020, 1, 1)),
        ("province", AFTER),
        ("village", AFTER),
        (None, date(2024, 12, 31)),
        (None, date(2025, 1, 1)),
        (None, date(1990, 1, 1)),
    ],
)
async def test_list_by_level_and_day(
    client: httpx.AsyncClient, level: str | None, as_of: date
) -> None:
    params: dict[str, Any] = {"as_of": as_of.isoformat(), "limit": 200}
    if level:
        params["level"] = level
    expected = sorted(
        c for c, u in UNITS.items() if exists_on(c, as_of) and level in (None, u.level)
    )
    assert codes(await list_all(client, **params)) == expected


async def test_list_levels_change_on_first_july_2025(client: httpx.AsyncClient) -> None:
    # The reorganisation seen through the list: Hà Nam and its district end, 37 goes on.
    before = codes(await list_all(client, level="province", as_of="2025-06-30"))
    after = codes(await list_all(client, level="province", as_of="2025-07-01"))
    assert before == ["35", "37"]
    assert after == ["37"]
    assert codes(await list_all(client, level="district", as_of="2025-07-01")) == []


@pytest.mark.parametrize(
    "q",
    ["Hòa", "hoa", "HÓA", "Kim Bảng", "KIM BANG", "nguyen uy", "Nguyễn Úy", "đồng", "dong", "Sơn"],
)
async def test_name_search_with_and_without_diacritics(client: httpx.AsyncClient, q: str) -> None:
    # Any name a unit has had matches (Tượng Lĩnh finds the ward now called Nguyễn Úy).
    names = {c: [n.name for n in u.name_periods()] for c, u in UNITS.items()}
    if folded(q) == q.lower():
        expected = sorted(c for c, ns in names.items() if any(folded(q) in folded(n) for n in ns))
    else:
        expected = sorted(c for c, ns in names.items() if any(q.lower() in n.lower() for n in ns))
    assert expected, f"{q!r} should match something in the reference file"
    assert codes(await list_all(client, q=q, limit=200)) == expected


async def test_diacritics_narrow_the_search(client: httpx.AsyncClient) -> None:
    exact = set(codes(await list_all(client, q="Hòa", limit=200)))
    loose = set(codes(await list_all(client, q="hoa", limit=200)))
    hoa_with_sac = {c for c, u in UNITS.items() if "Hóa" in u.name}
    assert hoa_with_sac, "the file has a 'Hóa' (e.g. Đồng Hóa) to tell apart from 'Hòa'"
    assert exact < loose
    assert hoa_with_sac <= loose - exact


@pytest.mark.parametrize("q", ["%", "_", "\\", "Kim%Bảng"])
async def test_search_wildcards_are_literal(client: httpx.AsyncClient, q: str) -> None:
    assert await list_all(client, q=q) == []


@pytest.mark.parametrize(
    "code", ["35", "37", "350", "13384", "13387", "13399", "13399-01", "13402", "13504"]
)
async def test_unit_detail_has_parents_predecessors_successors(
    client: httpx.AsyncClient, code: str
) -> None:
    response = await client.get(f"{UNITS_URL}/{code}")
    assert response.status_code == 200, response.text
    parents = sorted(UNITS[code].parents, key=lambda p: p.valid_from)
    assert response.json() == {
        **public(code),
        "parents": [
            {
                "parent_code": p.code,
                "valid_from": p.valid_from.isoformat(),
                "valid_to": p.valid_to.isoformat() if p.valid_to else None,
            }
            for p in parents
        ],
        "names": [
            {
                "name": n.name,
                "unit_type": n.unit_type,
                "urban": urban_type(UNITS[code].level, n.unit_type),
                "valid_from": n.valid_from.isoformat(),
                "valid_to": n.valid_to.isoformat() if n.valid_to else None,
                "confirmed": n.confirmed,
                "source": n.source,
            }
            for n in UNITS[code].name_periods()
        ],
        "predecessors": links(code, forward=False),
        "successors": links(code, forward=True),
    }


async def test_lineage_of_kim_bang_ward_and_of_ha_nam(client: httpx.AsyncClient) -> None:
    ward = (await client.get(f"{UNITS_URL}/13384")).json()
    assert [p["parent_code"] for p in ward["parents"]] == ["350", "37"]
    assert {p["code"] for p in ward["predecessors"]} == {"13417", "13423"}
    assert ward["successors"] == []
    ha_nam = (await client.get(f"{UNITS_URL}/35")).json()
    assert ha_nam["successors"] == [
        {"code": "37", "name": "Ninh Bình", "effective": "2025-07-01", "kind": "merge"}
    ]
    ninh_binh = (await client.get(f"{UNITS_URL}/37")).json()
    assert "35" in {p["code"] for p in ninh_binh["predecessors"]}


async def test_hierarchy_before_july_2025(client: httpx.AsyncClient) -> None:
    day = BEFORE.isoformat()
    province = (await client.get(f"{UNITS_URL}/35/children", params={"as_of": day})).json()
    assert codes(province) == ["350"]
    district = (await client.get(f"{UNITS_URL}/350/children", params={"as_of": day})).json()
    assert district == [public(c, BEFORE) for c in children_on("350", BEFORE)]
    assert len(district) == 17  # Kim Bảng's communes in June 2025 (Nhật Tựu merged in January)
    assert "13399" not in codes(district)
    commune = (await client.get(f"{UNITS_URL}/13387/children", params={"as_of": day})).json()
    assert codes(commune) == children_on("13387", BEFORE)
    assert {UNITS[c].level for c in codes(commune)} == {"village"}

    subtree = (await client.get(f"{UNITS_URL}/350/subtree", params={"as_of": day})).json()
    assert codes(subtree) == subtree_on("350", BEFORE)
    assert [u["level"] for u in subtree][:2] == ["district", "commune"]
    assert subtree[-1]["level"] == "village"
    whole = (await client.get(f"{UNITS_URL}/35/subtree", params={"as_of": day})).json()
    assert codes(whole) == subtree_on("35", BEFORE)


async def test_hierarchy_in_2024_still_has_nhat_tuu(client: httpx.AsyncClient) -> None:
    day = date(2024, 6, 1)
    district = (await client.get(f"{UNITS_URL}/350/children", params={"as_of": str(day)})).json()
    assert "13399" in codes(district)
    villages = (await client.get(f"{UNITS_URL}/13399/children", params={"as_of": str(day)})).json()
    assert codes(villages) == children_on("13399", day) != []


async def test_hierarchy_after_july_2025(client: httpx.AsyncClient) -> None:
    day = AFTER.isoformat()
    province = (await client.get(f"{UNITS_URL}/37/children", params={"as_of": day})).json()
    assert province == [public(c, AFTER) for c in children_on("37", AFTER)]
    assert {u["level"] for u in province} == {"commune"}
    ward = (await client.get(f"{UNITS_URL}/13396/children", params={"as_of": day})).json()
    assert codes(ward) == children_on("13396", AFTER)
    # Nguyễn Úy ward took in the villages of the old Nguyễn Úy and Tân Sơn communes.
    assert {c.split("-")[0] for c in codes(ward)} == {"13387", "13396", "13411"}

    subtree = (await client.get(f"{UNITS_URL}/37/subtree", params={"as_of": day})).json()
    assert codes(subtree) == subtree_on("37", AFTER)
    assert [u["level"] for u in subtree][:2] == ["province", "commune"]
    assert "district" not in {u["level"] for u in subtree}

    gone = (await client.get(f"{UNITS_URL}/350/children", params={"as_of": day})).json()
    assert gone == []
    today = (await client.get(f"{UNITS_URL}/37/subtree")).json()
    assert codes(today) == subtree_on("37", date.today())


@pytest.mark.parametrize(
    ("code", "as_of", "expected"),
    [
        ("13387", BEFORE, ["13387"]),
        ("13387", AFTER, ["13396"]),
        ("13423", AFTER, ["13384"]),
        ("13384", AFTER, ["13384"]),
        ("13399", date(2024, 6, 1), ["13399"]),
        ("13399", date(2025, 3, 1), ["13402"]),
        ("13399", AFTER, ["13402"]),
        ("35", BEFORE, ["35"]),
        ("35", AFTER, ["37"]),
        ("350", AFTER, []),  # districts were abolished; their communes have successors
    ],
)
async def test_successors_on_a_day(
    client: httpx.AsyncClient, code: str, as_of: date, expected: list[str]
) -> None:
    response = await client.get(f"{UNITS_URL}/{code}/successors", params={"as_of": str(as_of)})
    assert response.status_code == 200, response.text
    assert response.json() == [public(c, as_of) for c in expected]


async def test_successors_default_to_today(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{UNITS_URL}/35/successors")
    assert codes(response.json()) == ["37"]


@pytest.mark.parametrize("suffix", ["", "/children", "/subtree", "/successors"])
async def test_unknown_code_is_a_404_problem(client: httpx.AsyncClient, suffix: str) -> None:
    response = await client.get(f"{UNITS_URL}/99999{suffix}")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert (problem["status"], problem["code"]) == (404, "not_found")
    assert "99999" in problem["detail"]
    assert problem["instance"] == f"{UNITS_URL}/99999{suffix}"


async def test_invalid_unit_queries_are_422_problems(client: httpx.AsyncClient) -> None:
    too_long = await client.get(f"{UNITS_URL}/{'1' * 17}")
    assert too_long.status_code == 422
    assert too_long.json()["code"] == "validation_failed"
    bad_level = await client.get(UNITS_URL, params={"level": "hamlet"})
    assert bad_level.status_code == 422
    assert [e["path"] for e in bad_level.json()["errors"]] == ["query.level"]
    bad_day = await client.get(f"{UNITS_URL}/37/children", params={"as_of": "2025-13-01"})
    assert bad_day.status_code == 422
    assert [e["path"] for e in bad_day.json()["errors"]] == ["query.as_of"]


async def test_nul_characters_are_refused_or_match_nothing(client: httpx.AsyncClient) -> None:
    # U+0000 cannot be stored or compared in PostgreSQL text and truncates SQLite LIKE
    # patterns: it must be refused as invalid input (or match nothing), never reach the SQL.
    search = await client.get(UNITS_URL, params={"q": "hoa\x00zzz"})
    assert search.status_code in (200, 422), search.text
    if search.status_code == 200:
        assert search.json()["items"] == []
    else:
        assert [e["path"] for e in search.json()["errors"]] == ["query.q"]
    unit = await client.get(f"{UNITS_URL}/37%00")
    assert unit.status_code in (404, 422), unit.text
    assert unit.headers["content-type"] == "application/problem+json"


async def test_loading_the_reference_file_again_changes_nothing(services: Services) -> None:
    cursor = None
    for _page in range(10_000):
        page = await services.changes.page(cursor, 200)
        cursor = page.next_cursor
        if not page.has_more:
            break
    listed = await services.units.find(limit=200)
    lineages = {code: await services.units.lineage(code) for code in UNITS}

    report = await load_units(services.uow, read_file())
    await services.uow.commit()

    assert (report.created, report.updated, report.unchanged) == (0, 0, len(DATA.units))
    assert (await services.changes.page(cursor, 200)).items == []
    assert await services.units.find(limit=200) == listed
    assert {code: await services.units.lineage(code) for code in UNITS} == lineages


async def _feed_end(services: Services) -> str | None:
    cursor = None
    for _page in range(10_000):
        page = await services.changes.page(cursor, 200)
        cursor = page.next_cursor
        if not page.has_more:
            break
    return cursor


async def test_a_change_of_names_is_one_logged_update(services: Services) -> None:
    cursor = await _feed_end(services)
    data = read_file()
    unit = next(u for u in data.units if u.code == "13438")
    [only] = unit.name_periods()
    renamed = only.model_copy(update={"name": "Thanh Sơn Cũ", "valid_to": date(2019, 12, 31)})
    unit.names = [renamed, only.model_copy(update={"valid_from": date(2020, 1, 1)})]

    report = await load_units(services.uow, data)
    await services.uow.commit()

    assert (report.created, report.updated) == (0, 1)
    [change] = (await services.changes.page(cursor, 200)).items
    assert (change.entity_id, change.operation, change.version) == ("13438", "update", 2)
    assert change.changed_fields == ["names"]
    old = await services.units.public("13438", date(2019, 6, 1))
    assert (old.name, (await services.units.public("13438")).name) == ("Thanh Sơn Cũ", "Thanh Sơn")


@pytest.mark.parametrize(
    ("periods", "problem"),
    [
        ([("Thanh Sơn", "xa", "1997-01-01", "2009-12-31")], "must run from"),
        (
            [
                ("Thanh Sơn", "xa", "1997-01-01", "2009-12-31"),
                ("Thanh Sơn", "xa", "2010-01-02", "2025-06-30"),
            ],
            "gap or overlap",
        ),
        (
            [
                ("Thanh Sơn", "xa", "1997-01-01", "2009-12-31"),
                ("Thanh Sơn", "xa", "2009-12-31", "2025-06-30"),
            ],
            "gap or overlap",
        ),
        ([("Thanh Sơn", "phuong", "1997-01-01", "2025-06-30")], "last name"),
        (
            [
                ("Thanh Sơn", "huyen", "1997-01-01", "2009-12-31"),
                ("Thanh Sơn", "xa", "2010-01-01", "2025-06-30"),
            ],
            "is not a",
        ),
    ],
)
async def test_names_that_do_not_tile_the_unit_life_are_refused(
    services: Services, periods: list[tuple[str, str, str, str]], problem: str
) -> None:
    data = read_file()
    unit = next(u for u in data.units if u.code == "13438")
    unit.names = [
        UnitNameBase.model_validate(
            {"name": n, "unit_type": t, "valid_from": start, "valid_to": end}
        )
        for n, t, start, end in periods
    ]
    with pytest.raises(ValueError, match=problem):
        await load_units(services.uow, data)
