"""Benchmarks: `make bench` (SQLite) or `BENCH_DATABASE_URL=postgresql+asyncpg://... make bench`.

Runs the real app in-process over httpx's ASGI transport against a freshly migrated database,
and prints requests per second for the hot paths. Bounded: a fixed number of requests each.
"""

import asyncio
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
from asgi_lifespan import LifespanManager
from sqlalchemy.ext.asyncio import AsyncSession

from api.config import Settings
from api.db import create_engine
from api.domain.access import SYSTEM, Role
from api.domain.identity.shapes import UserCreate
from api.domain.services import Services
from api.domain.units import loader
from api.main import create_app
from api.migrate import upgrade
from tests.builders import reset_database

PASSWORD = "bench-password-2026"  # noqa: S105 - a throwaway benchmark database

GRAPHQL_PAGE = """query($first: Int!) { households(first: $first) { edges { node {
  id address village { name } commune { name } members { fullName personalId } } } } }"""


async def _timed(
    label: str, count: int, call: Callable[[int], Awaitable[None]], concurrency: int = 8
) -> None:
    latencies: list[float] = []
    queue = iter(range(count))

    async def worker() -> None:
        for i in queue:
            started = time.perf_counter()
            await call(i)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    p50 = statistics.median(latencies) * 1000
    p95 = statistics.quantiles(latencies, n=20)[-1] * 1000
    print(f"{label:<44} {count / elapsed:8.0f} req/s   p50 {p50:6.1f} ms   p95 {p95:6.1f} ms")


async def main() -> None:
    url = os.environ.get("BENCH_DATABASE_URL") or (
        f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    )
    settings = Settings(database_url=url)
    engine = create_engine(settings)
    await reset_database(engine)
    await upgrade(engine)
    async with AsyncSession(engine, expire_on_commit=False) as session:
        services = Services(session, SYSTEM)
        await loader.load_units(services.uow, loader.read_file())
        await services.uow.commit()
        await services.identity.create_user(
            UserCreate(username="bench", full_name="Bench", password=PASSWORD, role=Role.ADMIN)
        )
    await engine.dispose()
    print(f"database: {url.split('@')[-1]}")

    app = create_app(settings)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            token = (
                await client.post(
                    "/api/v1/auth/token", data={"username": "bench", "password": PASSWORD}
                )
            ).json()["access_token"]
            client.headers["Authorization"] = f"Bearer {token}"
            units = (
                await client.get("/api/v1/units", params={"level": "village", "limit": 200})
            ).json()["items"]
            villages = [u["code"] for u in units if u["valid_to"] is None]
            ids: list[str] = []

            async def create(i: int) -> None:
                response = await client.post(
                    "/api/v1/households",
                    json={"village_code": villages[i % len(villages)], "address": f"Số {i}"},
                    headers={"Idempotency-Key": uuid.uuid4().hex},
                )
                assert response.status_code == 201, response.text
                household = response.json()["id"]
                ids.append(household)
                member = await client.post(
                    f"/api/v1/households/{household}/members",
                    json={
                        "full_name": "Nguyễn Văn An",
                        "sex": "male",
                        "date_of_birth": "1980-01-01",
                        "relation_to_head": "head",
                    },
                )
                assert member.status_code == 201, member.text

            async def read(i: int) -> None:
                response = await client.get(f"/api/v1/households/{ids[i % len(ids)]}")
                assert response.status_code == 200

            async def page(_i: int) -> None:
                response = await client.get("/api/v1/households", params={"limit": 50})
                assert response.status_code == 200

            async def graphql(_i: int) -> None:
                response = await client.post(
                    "/graphql", json={"query": GRAPHQL_PAGE, "variables": {"first": 100}}
                )
                assert response.status_code == 200
                assert "errors" not in response.json()

            async def feed(_i: int) -> None:
                response = await client.get("/api/v1/changes", params={"limit": 100})
                assert response.status_code == 200

            await _timed("POST household + POST member (pairs)", 400, create)
            await _timed("GET /households/{id}", 1000, read)
            await _timed("GET /households?limit=50", 300, page)
            await _timed("GraphQL 100 households + members/village/commune", 100, graphql)
            await _timed("GET /changes?limit=100", 300, feed)


if __name__ == "__main__":
    asyncio.run(main())
