"""The facts the rules judge, read in bulk for many households: their standing on a day
(from the status history), the households themselves, their active members and needs."""

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from api.domain.benefits.rules import Standing
from api.domain.households.member_models import Member, MembershipStatus
from api.domain.households.models import Household
from api.domain.households.records import HOUSEHOLD
from api.domain.kernel.areas import within
from api.domain.kernel.registry import Registration
from api.domain.review import status as book
from api.domain.review.models import StatusRecord
from api.domain.uow import UnitOfWork

CHUNK = 5000  # engines cap the parameters of one statement


class Facts:
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.session = uow.session
        self.principal = uow.principal

    def _in_area(self, areas: Sequence[str] | None) -> Any:
        """The ids of the readable households in the areas, as a subquery."""
        stmt = HOUSEHOLD.readable(self.principal).with_only_columns(col(Household.id))
        if areas is not None and (condition := within(col(Household.unit_path), areas)) is not None:
            stmt = stmt.where(condition)
        return stmt

    async def standings(
        self,
        day: date,
        areas: Sequence[str] | None = None,
        ids: Sequence[uuid.UUID] | None = None,
    ) -> dict[uuid.UUID, Standing]:
        """Households with a recognised status by the day (in the areas, or these ones)."""
        history: dict[uuid.UUID, list[StatusRecord]] = defaultdict(list)
        chunks = [None] if ids is None else [ids[i : i + CHUNK] for i in range(0, len(ids), CHUNK)]
        for chunk in chunks:
            households = self._in_area(areas)
            if chunk is not None:
                households = households.where(col(Household.id).in_(chunk))
            stmt = select(StatusRecord).where(
                col(StatusRecord.household_id).in_(households),
                col(StatusRecord.effective_from) <= day,
            )
            for row in (await self.session.scalars(stmt)).all():
                history[row.household_id].append(row)
        found = {}
        for household_id, rows in history.items():
            rows.sort(key=lambda r: r.effective_from)
            # The rules judge escape windows themselves, from `escaped_on`; the window given
            # here only feeds `newly_escaped`, which they do not read.
            status = book.as_of(household_id, rows, day, 3, self.principal)
            found[household_id] = Standing(status.status, status.since, status.escaped_on)
        return found

    async def households(self, ids: Sequence[uuid.UUID]) -> list[Household]:
        rows: list[Household] = []
        for i in range(0, len(ids), CHUNK):
            stmt = HOUSEHOLD.readable(self.principal).where(
                col(Household.id).in_(ids[i : i + CHUNK])
            )
            rows += (await self.session.scalars(stmt)).all()
        return rows

    async def grouped(
        self, registration: Registration, ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[Any]]:
        """Live rows of a household's child type, by household."""
        found: dict[uuid.UUID, list[Any]] = defaultdict(list)
        model = registration.model
        for i in range(0, len(ids), CHUNK):
            stmt = registration.readable(self.principal).where(
                col(model.household_id).in_(ids[i : i + CHUNK])
            )
            if model is Member:
                stmt = stmt.where(col(Member.membership_status) == MembershipStatus.ACTIVE)
            for row in (await self.session.scalars(stmt)).all():
                found[row.household_id].append(row)
        return found
