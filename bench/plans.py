"""Plan progress on the demo (BENCH_DATABASE_URL for PostgreSQL): the seed's 2023 plan of
the former Kim Bảng district, read live (24 targets: rates from the review report, coverage
from the deliveries, a reported figure, the 18 communes' cascade, the task board), and the
same targets set by the province, against the bare reference: the review report of the unit
alone (the one query the rates cannot do without)."""

import asyncio
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from api.config import Settings
from api.db import create_engine
from api.demo_benefits import load_demo_benefits
from api.demo_district import load_district
from api.demo_plan import TARGETS, load_demo_plan
from api.domain.access import SYSTEM
from api.domain.plans.models import PlanCreate, TargetCreate
from api.domain.review.report_models import RateBasis
from api.domain.services import Services
from api.domain.units import loader
from api.migrate import upgrade
from tests.builders import reset_database

ROUNDS = 3


async def _timed(action: Callable[[], Awaitable[object]]) -> float:
    times = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        await action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


async def main() -> None:
    url = os.environ.get("BENCH_DATABASE_URL") or (
        f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    )
    engine = create_engine(Settings(database_url=url))
    await reset_database(engine)
    await upgrade(engine)
    async with AsyncSession(engine, expire_on_commit=False) as session:
        services = Services(session, SYSTEM)
        await loader.load_units(services.uow, loader.read_file())
        await services.uow.commit()
        await load_district(services.uow)
        await load_demo_benefits(session)
        await load_demo_plan(session)
        (district,) = await services.plans.plans(2023)
        province = await services.plans.create_plan(
            PlanCreate(
                unit_code="35",
                title_vi="Kế hoạch giảm nghèo năm 2023 của tỉnh",
                issuing_agency="UBND tỉnh Hà Nam",
                programme="mtqg-gnbv-2021-2025",
                year=2023,
                period_from=date(2023, 1, 1),
                period_to=date(2023, 12, 31),
            )
        )
        for indicator, baseline, target, tolerance in TARGETS:
            await services.plans.add_target(
                province.id,
                TargetCreate(
                    indicator=indicator,
                    baseline_value=baseline,
                    baseline_on=date(2022, 12, 31),
                    target_value=target,
                    target_on=date(2023, 12, 31),
                    tolerance=tolerance,
                ),
            )
        print(f"database: {url.split('@')[-1]}")
        for name, plan_id, unit in (
            ("district", district.id, "350"),
            ("province", province.id, "35"),
        ):

            async def progress(plan_id: uuid.UUID = plan_id) -> object:
                return await Services(session, SYSTEM).tracking.progress(plan_id)

            async def report(unit: str = unit) -> object:
                return await Services(session, SYSTEM).reports.review(
                    unit, date(2023, 1, 1), date(2023, 12, 31), RateBasis.HOUSEHOLDS
                )

            took, bare = await _timed(progress), await _timed(report)
            print(
                f"{name} plan progress: {took:6.2f} s (median of {ROUNDS}); its review report "
                f"alone: {bare:6.2f} s; ratio {bare / took:5.2f}"
            )
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
