"""Input the published contract does not allow is refused the same way at both doors, never
with a 500: cursors, range-checked arguments, methods, dates and booleans."""

import base64
from typing import Any

import httpx
import pytest

from api.domain.pagination import MAX_CURSOR_CHARS, encode_cursor
from api.domain.services import Services
from api.domain.units.loader import _rows, read_file
from tests.builders import fields, make_household, ok, open_campaign, refusal

# Deeply nested JSON arrays: json.loads gives up with RecursionError, not ValueError.
NESTED = base64.urlsafe_b64encode(b"[" * 1200).decode().rstrip("=")
TOO_LONG = "A" * (MAX_CURSOR_CHARS + 1)
BAD_CURSORS = {"nested": NESTED, "too_long": TOO_LONG}

REST_CURSORS = [
    ("/api/v1/changes", "after", {}),
    ("/api/v1/households", "after", {}),
    ("/api/v1/units", "after", {}),
    ("/api/v1/assessments", "after", {}),
    ("/api/v1/sync/pull", "cursor", {}),
    ("/api/v1/sync/snapshot", "after", {"unit": "13384"}),
]
GRAPHQL_CURSORS = {
    "units": "query($a: String) { units(after: $a) { edges { cursor } } }",
    "households": "query($a: String) { households(after: $a) { edges { cursor } } }",
    "changes": "query($a: String) { changes(after: $a) { nextCursor } }",
    "assessments": "query($a: String) { assessments(after: $a) { edges { cursor } } }",
}


async def gql(client: httpx.AsyncClient, query: str, **variables: Any) -> dict[str, Any]:
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def error_of(body: dict[str, Any]) -> dict[str, Any]:
    """The one error of a refused GraphQL request, which returned no data."""
    assert not body.get("data"), body
    [error] = body["errors"]
    extensions: dict[str, Any] = error["extensions"]
    return extensions


# --- cursors ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(BAD_CURSORS))
@pytest.mark.parametrize(("path", "name", "params"), REST_CURSORS)
async def test_rest_refuses_every_bad_cursor_with_invalid_cursor(
    client: httpx.AsyncClient, kind: str, path: str, name: str, params: dict[str, str]
) -> None:
    response = await client.get(path, params={**params, name: BAD_CURSORS[kind]})
    refusal(response, 400, "invalid_cursor")


@pytest.mark.parametrize("kind", list(BAD_CURSORS))
@pytest.mark.parametrize("field", list(GRAPHQL_CURSORS))
async def test_graphql_refuses_every_bad_cursor_with_invalid_cursor(
    client: httpx.AsyncClient, kind: str, field: str
) -> None:
    body = await gql(client, GRAPHQL_CURSORS[field], a=BAD_CURSORS[kind])
    assert error_of(body)["code"] == "invalid_cursor"


async def test_a_well_formed_cursor_over_the_limit_is_refused_at_both_doors(
    client: httpx.AsyncClient,
) -> None:
    long = encode_cursor("unit", ["9" * MAX_CURSOR_CHARS])
    refusal(await client.get("/api/v1/units", params={"after": long}), 400, "invalid_cursor")
    body = await gql(client, GRAPHQL_CURSORS["units"], a=long)
    assert error_of(body)["code"] == "invalid_cursor"


def test_the_widest_pull_cursor_a_user_can_hold_fits_the_limit() -> None:
    """A pull cursor carries the caller's areas: fifty (the most an account holds) of the
    longest paths still fit, so the limit never refuses a cursor the service issued."""
    paths = sorted((u.path for u in _rows(read_file())), key=len, reverse=True)
    widest = encode_cursor("pull", [2**63 - 1, [p + "/00000" for p in paths[:50]]])
    assert len(widest) <= MAX_CURSOR_CHARS


# --- range-checked arguments -----------------------------------------------------------------


@pytest.mark.parametrize("year", [-80, 0, 1999, 2101])
async def test_a_campaign_year_out_of_range_is_the_same_refusal_at_both_doors(
    client: httpx.AsyncClient, year: int
) -> None:
    problem = refusal(
        await client.get("/api/v1/campaigns", params={"year": year}), 422, "validation_failed"
    )
    assert fields(problem) == [("query.year", "out_of_range")]

    body = await gql(client, "query($y: Int) { campaigns(year: $y) { id } }", y=year)
    extensions = error_of(body)
    assert extensions["code"] == "validation_failed"
    assert [(e["path"], e["code"]) for e in extensions["errors"]] == [("year", "out_of_range")]
    assert extensions["errors"][0]["message"] == problem["errors"][0]["message"]


async def test_a_campaign_year_in_range_filters_at_both_doors(client: httpx.AsyncClient) -> None:
    opened = await open_campaign(client, 2024)
    await open_campaign(client, 2025)
    rest = await client.get("/api/v1/campaigns", params={"year": 2024})
    graphql = await gql(client, "{ campaigns(year: 2024) { id } }")
    assert [c["id"] for c in rest.json()] == [opened["id"]]
    assert graphql["data"]["campaigns"] == [{"id": opened["id"]}]


# --- 405 -------------------------------------------------------------------------------------

UUID = "8a3e2f4c-5b1d-4e7a-9c60-2f1b0d9e7a11"


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/api/v1/households", "GET, POST"),
        ("DELETE", "/api/v1/units/13384", "GET"),
        ("PUT", f"/api/v1/households/{UUID}", "DELETE, GET, PATCH"),
        ("GET", f"/api/v1/assessments/{UUID}/transitions", "POST"),
        ("DELETE", "/api/v1/campaigns", "GET, POST"),
        ("PATCH", "/graphql", "GET, POST"),
        ("POST", "/healthz", "GET"),
    ],
)
async def test_a_405_lists_every_method_the_path_accepts(
    client: httpx.AsyncClient, method: str, path: str, allowed: str
) -> None:
    response = await client.request(method, path)
    refusal(response, 405, "method_not_allowed")
    assert response.headers["allow"] == allowed


# --- dates and booleans ----------------------------------------------------------------------

LAX_DATES: list[Any] = ["2022-01-01T00:00:00", "2022-01-01T00:00:00Z", "20220101", "2022-W01-1"]
LAX_BOOLEANS: list[Any] = ["yes", "no", "on", "off", "1", "0", "True", "t"]


@pytest.mark.parametrize("value", [*LAX_DATES, "1640995200", "2022-1-1", " 2022-01-01"])
async def test_a_query_date_is_only_year_month_day(client: httpx.AsyncClient, value: str) -> None:
    problem = refusal(
        await client.get("/api/v1/units", params={"as_of": value}), 422, "validation_failed"
    )
    assert [p for p, _ in fields(problem)] == ["query.as_of"]


async def test_a_query_date_in_the_published_form_is_accepted(client: httpx.AsyncClient) -> None:
    page = ok(await client.get("/api/v1/units", params={"as_of": "2022-01-01", "limit": 1}))
    assert len(page["items"]) == 1


@pytest.mark.parametrize("value", [*LAX_DATES, 1640995200, 0, True, "1980-5-17"])
async def test_a_body_date_is_only_a_year_month_day_string(
    client: httpx.AsyncClient, services: Services, value: Any
) -> None:
    household = await make_household(services, "13384-01")
    response = await client.post(
        f"/api/v1/households/{household.id}/members",
        json={
            "full_name": "Trần Thị B",
            "sex": "female",
            "relation_to_head": "head",
            "date_of_birth": value,
        },
    )
    problem = refusal(response, 422, "validation_failed")
    assert [p for p, _ in fields(problem)] == ["body.date_of_birth"]


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/v1/reports/review", {"unit": "35", "from": "9999-12-30", "to": "9999-12-31"}),
        (
            "/api/v1/reports/what-if",
            {"unit": "35", "standard": "nd-351-2025", "as_of": "3000-01-01"},
        ),
        ("/api/v1/units", {"as_of": "0001-01-01"}),
    ],
)
async def test_a_date_outside_the_registry_calendar_is_refused(
    client: httpx.AsyncClient, path: str, params: dict[str, str]
) -> None:
    problem = refusal(await client.get(path, params=params), 422, "validation_failed")
    assert {code for _, code in fields(problem)} == {"date_out_of_range"}


async def test_a_campaign_opening_at_the_end_of_the_calendar_is_refused(
    client: httpx.AsyncClient,
) -> None:
    body = {"commune_code": "13384", "kind": "regular", "name": "X", "opens_on": "9999-12-30"}
    problem = refusal(await client.post("/api/v1/campaigns", json=body), 422, "validation_failed")
    assert fields(problem) == [("body.opens_on", "date_out_of_range")]


@pytest.mark.parametrize("value", LAX_BOOLEANS)
async def test_a_query_boolean_is_only_true_or_false(
    client: httpx.AsyncClient, services: Services, value: str
) -> None:
    household = await make_household(services, "13384-01")
    response = await client.get(
        f"/api/v1/households/{household.id}/members", params={"include_former": value}
    )
    problem = refusal(response, 422, "validation_failed")
    assert [p for p, _ in fields(problem)] == ["query.include_former"]


@pytest.mark.parametrize("value", ["true", "false"])
async def test_a_query_boolean_true_or_false_is_accepted(
    client: httpx.AsyncClient, services: Services, value: str
) -> None:
    household = await make_household(services, "13384-01")
    response = await client.get(
        f"/api/v1/households/{household.id}/members", params={"include_former": value}
    )
    assert (response.status_code, response.json()) == (200, [])


@pytest.mark.parametrize("value", [*LAX_BOOLEANS, "true", "false", 1, 0])
async def test_a_body_boolean_is_only_a_json_boolean(client: httpx.AsyncClient, value: Any) -> None:
    body = {"village_code": "13384-01", "address": "Số 1", "uses_telecom": value}
    problem = refusal(await client.post("/api/v1/households", json=body), 422, "validation_failed")
    assert [p for p, _ in fields(problem)] == ["body.uses_telecom"]


async def test_a_body_boolean_true_is_accepted(client: httpx.AsyncClient) -> None:
    body = {"village_code": "13384-01", "address": "Số 1", "uses_telecom": True}
    assert ok(await client.post("/api/v1/households", json=body), 201)["uses_telecom"] is True


@pytest.mark.parametrize("value", [*LAX_DATES, "9999-12-31"])
async def test_graphql_dates_are_as_strict_as_rest(client: httpx.AsyncClient, value: str) -> None:
    query = 'query($d: Date) { whatIf(unit: "35", standard: "nd-351-2025", asOf: $d) { asOf } }'
    body = await gql(client, query, d=value)
    assert body.get("data") is None, body
    assert [e["extensions"]["code"] for e in body["errors"]] == ["graphql_invalid"]
    literal = query.replace("query($d: Date) ", "").replace("$d", f'"{value}"')
    body = await gql(client, literal)
    assert [e["extensions"]["code"] for e in body["errors"]] == ["graphql_invalid"]


async def test_graphql_takes_a_year_month_day(client: httpx.AsyncClient) -> None:
    body = await gql(client, '{ unitSubtree(code: "350", asOf: "2022-12-31") { code } }')
    assert body["data"]["unitSubtree"][0]["code"] == "350"


@pytest.mark.parametrize("first", [-1, 0, 501])
async def test_a_sync_items_page_size_out_of_range_is_refused(
    client: httpx.AsyncClient, first: int
) -> None:
    """REST refuses `limit` outside 1..500; GraphQL's `first` reached SQL (PostgreSQL refuses
    a negative LIMIT: a 500)."""
    body = await gql(client, "query($f: Int!) { syncItems(first: $f) { id } }", f=first)
    extensions = error_of(body)
    assert extensions["code"] == "validation_failed"
    assert [e["path"] for e in extensions["errors"]] == ["first"]


@pytest.mark.parametrize(
    "value", ["0.5", "1640995200", "2022-01-01", "2022-01-01 00:00:00Z", "2022-01-01T00:00:00"]
)
async def test_a_query_instant_is_only_rfc_3339_with_an_offset(
    client: httpx.AsyncClient, value: str
) -> None:
    response = await client.get("/api/v1/audit/writes", params={"until": value})
    problem = refusal(response, 422, "validation_failed")
    assert [p for p, _ in fields(problem)] == ["query.until"]


@pytest.mark.parametrize("value", ["2022-01-01T00:00:00Z", "2022-01-01T07:00:00.5+07:00"])
async def test_a_query_instant_in_rfc_3339_is_accepted(
    client: httpx.AsyncClient, value: str
) -> None:
    response = await client.get("/api/v1/audit/writes", params={"until": value})
    assert (response.status_code, response.json()) == (200, [])
