"""Where a village stood on a date: its commune, whether that commune was urban on that date,
and its province. The review applies the line of the commune the household belonged to, as
that commune was on the review date (a xã until 2024 may be a phường now)."""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.domain.review.standards import Area
from api.domain.units.models import AdminUnit, AdminUnitParent, UnitLevel
from api.domain.units.periods import names_on


@dataclass(frozen=True)
class Place:
    commune_code: str
    area: Area
    province_code: str | None


async def parents_on(session: AsyncSession, codes: set[str], day: date) -> dict[str, str]:
    rows = await session.execute(
        select(col(AdminUnitParent.child_code), col(AdminUnitParent.parent_code)).where(
            col(AdminUnitParent.child_code).in_(codes),
            col(AdminUnitParent.valid_from) <= day,
            or_(col(AdminUnitParent.valid_to).is_(None), col(AdminUnitParent.valid_to) >= day),
        )
    )
    return {child: parent for child, parent in rows}


async def place_of(session: AsyncSession, village_code: str, day: date) -> Place:
    commune = (await parents_on(session, {village_code}, day)).get(village_code, village_code)
    period = (await names_on(session, {commune}, day)).get(commune)
    code, province = commune, None
    for _ in range(4):
        up = (await parents_on(session, {code}, day)).get(code)
        if up is None:
            break
        parent = await session.get(AdminUnit, up)
        code = up
        if parent is not None and parent.level == UnitLevel.PROVINCE:
            province = up
            break
    urban = bool(period and period.urban)
    return Place(commune, Area.URBAN if urban else Area.RURAL, province)
