"""Benefit benchmarks on the 40,520-household demo district (BENCH_DATABASE_URL for
PostgreSQL), over HTTP as a partner and an officer would call:

1. a batch upsert of 5,000 BHYT cards for people in the registry (matched by personal ID),
   then the same batch again (all unchanged), against the bare reference: one executemany
   INSERT of the same 5,000 rows through the driver;
2. the coverage of BHYT for the poor over the whole province (the funnel, gap and leakage);
3. a full recompute of the stored entitlements of the district (as of 30 June 2023), then
   an incremental one after needs were recorded for 200 households of one commune;
4. an import of a 50,000-row XLSX by the job worker (upload, then the job to the end), with
   the peak of Python's allocations while it runs (tracemalloc, which slows it down: the time
   is measured in a second run without it).
"""

import asyncio
import io
import os
import tempfile
import time
import tracemalloc
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from openpyxl import Workbook
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.config import Settings
from api.db import create_engine, session_factory
from api.demo_district import load_district
from api.deps import policy_of
from api.domain.access import SYSTEM, Principal, Role
from api.domain.benefits import imports
from api.domain.benefits.delivery_models import Delivery, Match
from api.domain.benefits.need_models import NeedCreate, NeedKind
from api.domain.households.member_models import Member
from api.domain.households.models import Household
from api.domain.identity.shapes import PartnerCreate
from api.domain.jobs.models import Job
from api.domain.jobs.queue import Worker, policy_services
from api.domain.services import Services
from api.domain.units import loader
from api.main import create_app
from api.migrate import upgrade
from tests.builders import reset_database

SECRET = "bench partner secret"  # noqa: S105 - a throwaway benchmark database
Json = dict[str, Any]


def card(n: int, personal_id: str, version: int = 1) -> Json:
    return {
        "external_id": f"BENCH-{n:06d}",
        "policy": "bhyt-poor",
        "kind": "issued",
        "occurred_on": "2023-01-03",
        "valid_from": "2023-01-01",
        "valid_to": "2023-12-31",
        "instrument": f"HN2{n:010d}",
        "state_share": 1.0,
        "personal_id": personal_id,
        "source_version": version,
    }


async def _bare_insert(session: AsyncSession, members: list[Member]) -> float:
    rows = [
        {
            **card(n, m.personal_id or ""),
            "external_id": f"RAW-{n:06d}",
            "occurred_on": date(2023, 1, 3),
            "valid_from": date(2023, 1, 1),
            "valid_to": date(2023, 12, 31),
            "id": uuid.uuid4(),
            "partner": "partner:raw",
            "agency": "social_insurance",
            "unit_path": m.unit_path,
            "match": Match.PERSON.value,
            "matched_member_id": m.id,
            "matched_household_id": m.household_id,
            "funding": {"state": 1.0},
            "version": 1,
        }
        for n, m in enumerate(members)
    ]
    started = time.perf_counter()
    await session.execute(insert(Delivery), rows)
    await session.commit()
    return time.perf_counter() - started


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
        await load_district(services.uow)
        await services.identity.create_partner(
            PartnerCreate(
                client_id="bench", name="BHXH", agency="social_insurance", area_codes=["37"]
            ),
            secret=SECRET,
        )
        found = await session.scalars(
            select(Member)
            .where(col(Member.personal_id).is_not(None))
            .order_by(col(Member.id))
            .limit(10_000)
        )
        people = list(found.all())
        reference = await _bare_insert(session, people[5000:10_000])
    await engine.dispose()
    print(f"database: {url.split('@')[-1]}")
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://bench", timeout=600
        ) as c:
            token = (
                await c.post(
                    "/api/v1/auth/token",
                    data={
                        "grant_type": "client_credentials",
                        "client_id": "bench",
                        "client_secret": SECRET,
                    },
                )
            ).json()["access_token"]
            partner = {"Authorization": f"Bearer {token}", "X-Purpose": "the BHYT"}
            items = [card(n, m.personal_id or "") for n, m in enumerate(people[:5000])]
            for label, expect in (("first", "created"), ("again", "unchanged")):
                started = time.perf_counter()
                response = await c.post(
                    "/api/v1/deliveries/batch", json={"items": items}, headers=partner
                )
                took = time.perf_counter() - started
                assert response.status_code == 200, response.text
                counts = response.json()["counts"]
                assert counts[expect] == len(items), counts
                print(
                    f"batch upsert of 5,000 cards ({label}, all {expect}): {took:6.2f} s "
                    f"({len(items) / took:5.0f} items/s); bare executemany INSERT of 5,000: "
                    f"{reference:5.2f} s; ratio {reference / took:.3f}"
                )
            started = time.perf_counter()
            response = await c.get(
                "/api/v1/coverage",
                params={"policy": "bhyt-poor", "unit": "37", "as_of": "2023-06-30"},
                headers={"Authorization": f"Bearer {token}"},
            )
            took = time.perf_counter() - started
            assert response.status_code == 200, response.text
            totals = response.json()["totals"]
            print(
                f"coverage of BHYT for the poor, whole province (40,520 households): {took:5.2f} s"
                f" (entitled {totals['entitled']}, delivered {totals['delivered']})"
            )
    await _recompute(url)
    await _import(url, people, traced=False)
    await _import(url, people, traced=True)


async def _recompute(url: str) -> None:
    engine = create_engine(Settings(database_url=url))
    day = date(2023, 6, 30)
    async with session_factory(engine)() as session:
        services = Services(session, SYSTEM)
        started = time.perf_counter()
        full = await services.entitlements.recompute_all(day)
        took = time.perf_counter() - started
        print(
            f"full recompute of the entitlements ({full.households:,} households with a status):"
            f" {took:6.2f} s, {full.written:,} written"
        )
        found = await session.scalars(
            select(col(Household.id)).where(col(Household.unit_path).like("37/13384/%")).limit(200)
        )
        async with services.uow.batch():
            for hid in found.all():
                await services.needs.create(hid, NeedCreate(kind=NeedKind.CREDIT))
        await services.uow.finish()
        started = time.perf_counter()
        step = await services.entitlements.catch_up(day)
        took = time.perf_counter() - started
        print(
            f"incremental recompute after needs in 200 households of one commune: {took:6.2f} s"
            f" ({step.households} households, {step.written} written)"
        )
    await engine.dispose()


def _xlsx(people: list[Member], rows: int) -> bytes:
    book = Workbook(write_only=True)
    ws = book.create_sheet()
    ws.append(imports.HEADERS)
    for n in range(rows):
        pid = people[n % len(people)].personal_id or ""
        ws.append(
            [
                f"XLSX-{n:06d}",
                "bhyt-poor",
                "issued",
                date(2023, 1, 3),
                date(2023, 1, 1),
                date(2023, 12, 31),
                None,
                f"HN{n:010d}",
                1,
                int(pid),  # as a spreadsheet holds it: a number, leading zero lost
                None,
                None,
                1,
            ]
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def _import(url: str, people: list[Member], traced: bool) -> None:
    settings = Settings(database_url=url)
    engine = create_engine(settings)
    factory = session_factory(engine)
    content = _xlsx(people, 50_000)
    partner = Principal(
        subject=f"partner:xlsx-{traced}",
        role=Role.PARTNER,
        areas=("37",),
        agency="social_insurance",
    )
    if traced:
        tracemalloc.start()
    started = time.perf_counter()
    async with factory() as session:
        job, _ = await Services(session, partner).imports.upload(content, "xlsx")
    await Worker(factory, policy_services(policy_of(settings))).drain()
    took = time.perf_counter() - started
    async with factory() as session:
        done = await session.get(Job, job.id)
        assert done is not None
        assert (done.state.value, done.done) == ("done", 50_000), (done.state, done.error)
    if traced:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"  peak of Python allocations during the import: {peak / 1e6:6.1f} MB")
    else:
        print(
            f"import of a 50,000-row XLSX ({len(content) / 1e6:.1f} MB) by the job: "
            f"{took:6.2f} s ({50_000 / took:5.0f} rows/s), counts {done.result['counts']}"
        )
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
