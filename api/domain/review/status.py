"""Each household's recognised status over time, and the movements reports count."""

import uuid
from collections.abc import Sequence
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.domain import access
from api.domain.access import Principal
from api.domain.households.models import PovertyStatus
from api.domain.review.assess import FLAG_SOURCES, LISTED, movement
from api.domain.review.models import Movement, StatusAsOf, StatusPublic, StatusRecord

ESCAPES = frozenset({Movement.ESCAPED_POOR, Movement.ESCAPED_NEAR_POOR})


def covering(day: date):  # type: ignore[no-untyped-def]
    """The condition for a status period that covers `day`."""
    return (col(StatusRecord.effective_from) <= day) & or_(
        col(StatusRecord.effective_to).is_(None), col(StatusRecord.effective_to) > day
    )


def to_public(row: StatusRecord, principal: Principal) -> StatusPublic:
    """The period as the reader may see it: flags drawn from fields hidden from the reader
    are left out, and named in `redacted`."""
    public = StatusPublic.model_validate(row, from_attributes=True)
    hidden = access.withheld(principal, FLAG_SOURCES)
    if not hidden:
        return public
    return public.model_copy(
        update={
            "flags": [f for f in public.flags if f not in hidden],
            "redacted": sorted(f"flags.{f.value}" for f in hidden),
        }
    )


async def history(session: AsyncSession, household_id: uuid.UUID) -> Sequence[StatusRecord]:
    return (
        await session.scalars(
            select(StatusRecord)
            .where(col(StatusRecord.household_id) == household_id)
            .order_by(col(StatusRecord.effective_from))
        )
    ).all()


def as_of(
    household_id: uuid.UUID,
    rows: Sequence[StatusRecord],
    day: date,
    window_years: int,
    principal: Principal,
) -> StatusAsOf:
    current = next(
        (
            r
            for r in rows
            if r.effective_from <= day and (r.effective_to is None or r.effective_to > day)
        ),
        None,
    )
    escapes = [r.effective_from for r in rows if r.movement in ESCAPES and r.effective_from <= day]
    escaped_on = max(escapes) if escapes else None
    newly = newly_escaped(
        None if current is None else current.status, escaped_on, day, window_years
    )
    return StatusAsOf(
        household_id=household_id,
        as_of=day,
        status=None if current is None else current.status,
        since=None if current is None else current.effective_from,
        escaped_on=escaped_on,
        newly_escaped=newly,
        record=None if current is None else to_public(current, principal),
    )


def newly_escaped(
    status: PovertyStatus | None, escaped_on: date | None, day: date, window_years: int
) -> bool:
    """Escaped poverty within the window before `day`, and not listed again since."""
    if escaped_on is None or status is None or status in LISTED:
        return False
    # 29 February has no anniversary in most years: the window then starts on the 28th.
    last = 28 if day.month == 2 else day.day
    return escaped_on > date(day.year - window_years, day.month, min(day.day, last))


def next_period(
    rows: Sequence[StatusRecord], new: PovertyStatus, effective_from: date
) -> tuple[StatusRecord | None, Movement]:
    """The period a recognition closes, and the movement it makes."""
    previous = next((r for r in reversed(rows) if r.effective_from <= effective_from), None)
    ever_listed = any(r.status in LISTED for r in rows if r.effective_from <= effective_from)
    before = None if previous is None else previous.status
    return previous, movement(before, new, ever_listed)
