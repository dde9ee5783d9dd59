"""A request, however it ends, gives its connection back and leaves no trace on the others:
GraphQL siblings that fail together, and clients that hang up, against the real server."""

import asyncio
import uuid

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url

from api.demo import DEMO_PASSWORD
from tests.database import IS_POSTGRES
from tests.live import Server

pytestmark = pytest.mark.e2e

# Three root fields that all fail: the executor cancels the siblings of the first to fail
# while they share the request's session.
FAILING_SIBLINGS = """{
  a: household(id: "%s") { id }
  b: member(id: "%s") { id personalId }
  c: householdStatus(householdId: "%s") { status }
}"""


async def _token(client: httpx.AsyncClient, username: str) -> dict[str, str]:
    response = await client.post(
        "/api/v1/auth/token", data={"username": username, "password": DEMO_PASSWORD}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def _idle_in_transaction(database_url: str) -> int:
    url = make_url(database_url)
    connection = await asyncpg.connect(
        host=url.host, port=url.port or 5432, user=url.username or "postgres", database="postgres"
    )
    try:
        count: int = await connection.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 "
            "AND state LIKE 'idle in transaction%'",
            url.database,
        )
        return count
    finally:
        await connection.close()


async def test_failing_graphql_siblings_leave_the_pool_and_other_requests_alone(
    server: Server,
) -> None:
    client, env, _ = server
    headers = await _token(client, "rsv.kimbang")

    async def failing() -> httpx.Response:
        query = FAILING_SIBLINGS % tuple(uuid.uuid4() for _ in range(3))
        return await client.post("/graphql", json={"query": query}, headers=headers)

    async def unrelated() -> httpx.Response:
        return await client.get("/api/v1/households", params={"limit": 5}, headers=headers)

    answers = await asyncio.gather(*(failing() if i % 2 else unrelated() for i in range(24)))
    for answer in answers[1::2]:
        assert answer.status_code == 200
        assert answer.json()["errors"][0]["extensions"]["code"] == "not_found"
    for answer in answers[::2]:
        assert answer.status_code == 200, answer.text
        assert len(answer.json()["items"]) == 5

    # Afterwards the service answers at once, as if nothing had happened.
    async with asyncio.timeout(5):
        ready = await client.get("/readyz")
        page = await unrelated()
    assert ready.json()["status"] == "ok"
    assert page.status_code == 200
    assert len(page.json()["items"]) == 5
    if IS_POSTGRES:
        await asyncio.sleep(0.5)
        assert await _idle_in_transaction(env["DATABASE_URL"]) == 0


@pytest.mark.skipif(not IS_POSTGRES, reason="terminating server connections is a PostgreSQL test")
async def test_connections_killed_mid_request_are_503_or_answered_never_500(
    server: Server,
) -> None:
    client, env, _ = server
    headers = await _token(client, "huyen.kimbang")
    report = {"unit": "350", "from": "2022-01-01", "to": "2022-12-31"}
    url = make_url(env["DATABASE_URL"])
    admin = await asyncpg.connect(
        host=url.host, port=url.port or 5432, user=url.username or "postgres", database="postgres"
    )

    async def kill() -> None:
        await asyncio.sleep(0.2)
        for _ in range(10):
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = $1 AND pid <> pg_backend_pid()",
                url.database,
            )
            await asyncio.sleep(0.05)

    try:
        killing = asyncio.ensure_future(kill())
        answers = await asyncio.gather(
            *(
                client.get("/api/v1/reports/review", params=report, headers=headers)
                for _ in range(8)
            ),
        )
        await killing
    finally:
        await admin.close()
    statuses = [a.status_code for a in answers]
    assert set(statuses) <= {200, 503}, statuses
    for refused in (a for a in answers if a.status_code == 503):
        assert refused.json()["code"] == "service_unavailable"
        assert refused.headers["retry-after"]
    async with asyncio.timeout(10):
        after = await client.get("/api/v1/households", params={"limit": 5}, headers=headers)
    assert after.status_code == 200
