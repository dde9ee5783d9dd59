"""The operator's cap on list pages (PAGE_SIZE_MAX) is obeyed by every list at every door, with
one problem: REST names `query.limit`, GraphQL `first`. Lists with their own cap keep it."""

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from api.config import Settings
from api.deps import get_optional_principal, get_principal, get_session
from api.domain.access import SYSTEM, Principal
from api.domain.services import Services
from api.main import create_app
from tests.builders import make_household, ok, refusal
from tests.conftest import DATABASE_URL, serve

Json = dict[str, Any]
CAP = 3
# The audit trail answers a bare list; the others a page with `items`.
REST_LISTS = ["/api/v1/households", "/api/v1/units", "/api/v1/changes", "/api/v1/audit/writes"]
GRAPHQL_LISTS = [
    "query($n: Int!) { households(first: $n) { edges { node { id } } } }",
    "query($n: Int!) { units(first: $n) { edges { node { code } } } }",
    "query($n: Int!) { changes(first: $n) { hasMore } }",
]


@pytest.fixture
async def capped(session: AsyncSession) -> AsyncIterator[httpx.AsyncClient]:
    app: FastAPI = create_app(Settings(database_url=DATABASE_URL, page_size_max=CAP))

    async def test_session() -> AsyncIterator[AsyncSession]:
        yield session

    async def system() -> Principal:
        return SYSTEM

    app.dependency_overrides[get_session] = test_session
    app.dependency_overrides[get_principal] = system
    app.dependency_overrides[get_optional_principal] = system
    async with serve(app) as client:
        yield client


async def test_the_operators_cap_is_one_answer_through_rest_and_graphql(
    capped: httpx.AsyncClient, services: Services
) -> None:
    for _ in range(CAP + 1):
        await make_household(services)
    for path in REST_LISTS:
        problem = refusal(
            await capped.get(path, params={"limit": CAP + 1}), 422, "validation_failed"
        )
        assert [(e["path"], e["message"]) for e in problem["errors"]] == [
            ("query.limit", f"must be between 1 and {CAP}")
        ], path
        page = ok(await capped.get(path, params={"limit": CAP}))
        assert len(page if isinstance(page, list) else page["items"]) == CAP, path
    for query in GRAPHQL_LISTS:
        answer = ok(
            await capped.post("/graphql", json={"query": query, "variables": {"n": CAP + 1}})
        )
        (error,) = answer["errors"]
        assert error["extensions"]["code"] == "validation_failed"
        assert [(e["path"], e["message"]) for e in error["extensions"]["errors"]] == [
            ("first", f"must be between 1 and {CAP}")
        ], query
        answer = ok(await capped.post("/graphql", json={"query": query, "variables": {"n": CAP}}))
        assert "errors" not in answer, answer


async def test_sync_lists_keep_their_own_caps(capped: httpx.AsyncClient) -> None:
    pulled = ok(await capped.get("/api/v1/sync/pull", params={"limit": 1000}))
    assert isinstance(pulled["changes"], list)
    problem = refusal(
        await capped.get("/api/v1/sync/pull", params={"limit": 1001}), 422, "validation_failed"
    )
    assert [(e["path"], e["message"]) for e in problem["errors"]] == [
        ("query.limit", "must be between 1 and 1000")
    ]
    problem = refusal(
        await capped.get(
            "/api/v1/sync/items", params={"limit": 501, "device_id": str(uuid.uuid4())}
        ),
        422,
        "validation_failed",
    )
    assert [e["path"] for e in problem["errors"]] == ["query.limit"]
