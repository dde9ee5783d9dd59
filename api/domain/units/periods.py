"""A unit's name and type on a day, for the units API, the review and its reports."""

from collections.abc import Iterable
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.domain.units.models import AdminUnit, AdminUnitName, UnitPublic


async def names_on(
    session: AsyncSession, codes: Iterable[str], day: date
) -> dict[str, AdminUnitName]:
    """Each unit's period covering `day`; for a day outside the unit's life, the nearest one
    (its first before it began, its last after it ended)."""
    wanted = set(codes)
    if not wanted:
        return {}
    rows = await session.scalars(
        select(AdminUnitName)
        .where(col(AdminUnitName.code).in_(wanted))
        .order_by(col(AdminUnitName.code), col(AdminUnitName.valid_from))
    )
    out: dict[str, AdminUnitName] = {}
    for period in rows.all():
        if period.code not in out or period.valid_from <= day:
            out[period.code] = period
    return out


def to_public(unit: AdminUnit, period: AdminUnitName | None = None) -> UnitPublic:
    public = UnitPublic.model_validate(unit, from_attributes=True)
    if period is None:
        return public
    return public.model_copy(
        update={"name": period.name, "unit_type": period.unit_type, "urban": period.urban}
    )


async def publish(
    session: AsyncSession, units: Iterable[AdminUnit], day: date | None
) -> list[UnitPublic]:
    """Units as shown on `day`: with that day's name and type, or the current ones if no day."""
    units = list(units)
    if day is None:
        return [to_public(u) for u in units]
    periods = await names_on(session, (u.code for u in units), day)
    return [to_public(u, periods.get(u.code)) for u in units]
