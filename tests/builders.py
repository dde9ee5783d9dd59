"""Plain async builders for test data, through the real services."""

import itertools
import uuid
from datetime import date
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel, col

import api.domain.tables  # noqa: F401
from api.domain.households.models import HouseholdCreate, HouseholdPublic
from api.domain.members.models import MemberCreate, MemberPublic, Relation, Sex
from api.domain.services import Services
from api.domain.units.models import AdminUnit, UnitLevel

_serial = itertools.count(1)
_ids = itertools.count(100_000)


async def reset_database(engine: AsyncEngine) -> None:
    """Drop every table (ours and Alembic's) so each run migrates from empty."""
    async with engine.begin() as connection:
        await connection.run_sync(SQLModel.metadata.drop_all)
        await connection.execute(text("DROP TABLE IF EXISTS alembic_version"))


async def current_villages(services: Services) -> list[AdminUnit]:
    rows = await services.session.scalars(
        select(AdminUnit)
        .where(col(AdminUnit.level) == UnitLevel.VILLAGE, col(AdminUnit.valid_to).is_(None))
        .order_by(col(AdminUnit.code))
    )
    return list(rows.all())


def unique_personal_id(born: date, sex: Sex = Sex.MALE) -> str:
    """Distinct within a test run (a counter, not chance: 500 random picks collide 12 % of the
    time in a million)."""
    digit = (0 if born.year < 2000 else 2) + (1 if sex == Sex.FEMALE else 0)
    return f"035{digit}{born.year % 100:02d}{next(_ids):06d}"


async def make_household(
    services: Services, village_code: str | None = None, **overrides: Any
) -> HouseholdPublic:
    if village_code is None:
        village_code = (await current_villages(services))[0].code
    data = {"village_code": village_code, "address": f"Số {next(_serial)}", **overrides}
    return await services.households.create(HouseholdCreate.model_validate(data))


async def make_member(
    services: Services, household_id: uuid.UUID, **overrides: Any
) -> MemberPublic:
    born = overrides.pop("date_of_birth", date(1980, 5, 17))
    sex = overrides.pop("sex", Sex.MALE)
    data = {
        "full_name": "Nguyễn Văn An",
        "sex": sex,
        "date_of_birth": born,
        "personal_id": unique_personal_id(born, sex),
        "relation_to_head": Relation.CHILD,
        **overrides,
    }
    return await services.members.create(household_id, MemberCreate.model_validate(data))
