"""Recomputes of the same households in flight at once on PostgreSQL (two workers' idle
upkeep, an officer's button): they converge on one row per policy, subject and year, and a
later recompute finds nothing to write."""

import asyncio
import uuid
from datetime import date

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col

from api.db import session_factory
from api.domain.access import SYSTEM
from api.domain.base import new_id
from api.domain.benefits.entitlement_models import Entitlement, RecomputeResult
from api.domain.households.member_models import Relation
from api.domain.households.models import PovertyStatus
from api.domain.review.models import Movement, StatusRecord
from api.domain.services import Services
from tests.builders import make_household, make_member
from tests.conftest import IS_POSTGRES

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not IS_POSTGRES, reason="needs TEST_DATABASE_URL on PostgreSQL"),
]
DAY = date(2026, 6, 1)
ROUNDS = 5


async def test_concurrent_recomputes_converge_without_duplicates(engine: AsyncEngine) -> None:
    factory = session_factory(engine)
    async with factory() as session:
        services = Services(session, SYSTEM)
        ids = []
        for _ in range(6):
            home = await make_household(services, "13399-01")
            await make_member(services, home.id, relation_to_head=Relation.HEAD)
            await make_member(services, home.id, date_of_birth=date(2012, 3, 4))
            session.add(
                StatusRecord(
                    id=new_id(),
                    household_id=home.id,
                    unit_path=home.unit_path,
                    status=PovertyStatus.POOR,
                    movement=Movement.NEW_POOR,
                    effective_from=date(2025, 12, 20),
                    standard_code="2022-2025",
                )
            )
            ids.append(home.id)
        await session.commit()

    async def recompute(households: list[uuid.UUID]) -> RecomputeResult:
        async with factory() as session:
            return await Services(session, SYSTEM).entitlements.recompute(households, DAY)

    async def stored() -> list[tuple[str, uuid.UUID, int]]:
        async with factory() as session:
            rows = await session.execute(
                select(col(Entitlement.policy), col(Entitlement.subject_id), func.count())
                .where(col(Entitlement.household_id).in_(ids), col(Entitlement.year) == 2026)
                .group_by(col(Entitlement.policy), col(Entitlement.subject_id))
            )
            return [(p, s, int(n)) for p, s, n in rows.all()]

    try:
        # Each round: both start from nothing stored, one in each order, so their upserts of
        # the same keys cross.
        for _ in range(ROUNDS):
            async with factory() as session:
                await session.execute(
                    delete(Entitlement).where(col(Entitlement.household_id).in_(ids))
                )
                await session.commit()
            first, second = await asyncio.gather(recompute(ids), recompute(ids[::-1]))
            rows = await stored()
            assert rows, "the poor households are entitled to something"
            assert all(n == 1 for _, _, n in rows), "one row per policy, subject and year"
            # Each wrote what it did not find already stored; between them, everything.
            assert first.written + first.unchanged == second.written + second.unchanged == len(rows)
            assert first.written + second.written >= len(rows)
            assert {p for p, _, _ in rows} >= {"bhyt-poor", "electricity"}
        idle = await recompute(ids)
        assert (idle.written, idle.removed, idle.unchanged) == (0, 0, len(rows))
    finally:
        async with factory() as session:
            await session.execute(delete(Entitlement).where(col(Entitlement.household_id).in_(ids)))
            await session.commit()
