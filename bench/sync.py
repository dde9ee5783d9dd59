"""Sync benchmarks: `make bench` runs them after bench.run (BENCH_DATABASE_URL for PostgreSQL).

1. One push of 500 new households, each with 3 members and an assessment (2,000 items), then
   the same batch again (a retry after a lost answer: answered from the stored response).
2. The first download of a commune holding 3,000 households: the snapshot in pages of 500,
   then a pull to the end of the change log.
"""

import asyncio
import os
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

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
COMMUNE, VILLAGES = "13384", ["13384-01", "13384-02", "13384-03"]
Json = dict[str, Any]


def families(count: int, campaign: str | None) -> list[Json]:
    items: list[Json] = []
    for n in range(count):
        hid = str(uuid.uuid4())
        items.append(
            {
                "op_id": str(uuid.uuid4()),
                "op": "create",
                "entity": "household",
                "id": hid,
                "data": {
                    "village_code": VILLAGES[n % 3],
                    "address": f"Số {n}",
                    "floor_area_m2": 40,
                    "wall_material": "durable",
                    "column_material": "durable",
                    "roof_material": "durable",
                    "water_source": "piped",
                    "latrine_type": "flush_septic",
                    "uses_telecom": True,
                    "information_assets": ["tv"],
                },
            }
        )
        for who, born in (
            ("head", "1970-01-01"),
            ("spouse", "1972-05-05"),
            ("child", "2012-09-09"),
        ):
            items.append(
                {
                    "op_id": str(uuid.uuid4()),
                    "op": "create",
                    "entity": "member",
                    "id": str(uuid.uuid4()),
                    "data": {
                        "household_id": hid,
                        "full_name": f"Phạm {who} {n}",
                        "sex": "female" if who == "spouse" else "male",
                        "date_of_birth": born,
                        "relation_to_head": who,
                        "health_insurance": True,
                        "attending_school": who == "child",
                        "education_level": "upper_secondary" if who != "child" else "primary",
                        "employment": "self_employed" if who != "child" else None,
                        "labour_capacity": who != "child",
                    },
                }
            )
        if campaign:
            items.append(
                {
                    "op_id": str(uuid.uuid4()),
                    "op": "create",
                    "entity": "assessment",
                    "id": str(uuid.uuid4()),
                    "data": {
                        "campaign_id": campaign,
                        "household_id": hid,
                        "surveyed_on": "2026-10-01",
                        "answers": {
                            "monthly_income_per_capita": 2_500_000,
                            "indicators": {"nutrition": {"deprived": False}},
                        },
                    },
                }
            )
    return items


async def _push(client: httpx.AsyncClient, items: list[Json], batch: str) -> tuple[float, Json]:
    started = time.perf_counter()
    response = await client.post("/api/v1/sync/push", json={"batch_id": batch, "items": items})
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.text
    body: Json = response.json()
    return elapsed, body


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
            UserCreate(
                username="bench",
                full_name="Bench",
                password=PASSWORD,
                role=Role.COMMUNE_OFFICER,
                area_codes=[COMMUNE],
            )
        )
    await engine.dispose()
    print(f"database: {url.split('@')[-1]}")
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://bench", timeout=600
        ) as client:
            token = (
                await client.post(
                    "/api/v1/auth/token", data={"username": "bench", "password": PASSWORD}
                )
            ).json()["access_token"]
            client.headers["Authorization"] = f"Bearer {token}"
            campaign = (
                await client.post(
                    "/api/v1/campaigns",
                    json={
                        "commune_code": COMMUNE,
                        "kind": "periodic",
                        "name": "Bench",
                        "opens_on": "2026-09-01",
                    },
                )
            ).json()["id"]
            items = families(500, campaign)
            took, body = await _push(client, items, "bench-500")
            assert body["counts"] == {"applied": len(items)}, body["counts"]
            print(
                f"push 500 households + 1,500 members + 500 assessments ({len(items)} items)"
                f": {took:6.2f} s ({len(items) / took:5.0f} items/s)"
            )
            again, replay = await _push(client, items, "bench-500")
            assert replay == body
            print(f"the same batch again (lost answer, replayed):        {again:6.2f} s")

            for n in range(5):  # 3,000 households in the commune
                await _push(client, families(500, None), f"fill-{n}")
            started = time.perf_counter()
            params: dict[str, Any] = {"unit": COMMUNE, "limit": 500}
            households = pages = size = 0
            while True:
                response = await client.get("/api/v1/sync/snapshot", params=params)
                page = response.json()
                households += len(page["households"])
                size += len(response.content)
                pages += 1
                if not page["has_more"]:
                    break
                params["after"] = page["next"]
            snap = time.perf_counter() - started
            cursor, changes = page["cursor"], 0
            while True:
                pulled = (await client.get("/api/v1/sync/pull", params={"cursor": cursor})).json()
                changes += len(pulled["changes"])
                cursor = pulled["cursor"]
                if not pulled["has_more"]:
                    break
            total = time.perf_counter() - started
            print(
                f"first sync of a {households:,}-household commune: snapshot {snap:6.2f} s "
                f"({pages} pages, {size / 1e6:.1f} MB), then pull ({changes} changes): "
                f"{total:6.2f} s in all"
            )


if __name__ == "__main__":
    asyncio.run(main())
