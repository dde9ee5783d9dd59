"""Two imports of the same deliveries, in flight at once on PostgreSQL (a partner that re-sent
its batch before the first answer came): one writes them, the other is refused whole with 409
`conflict` and changes nothing, and its retry finds every delivery unchanged. Never two rows
for one external id."""

import asyncio
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col

from api.db import session_factory
from api.domain.access import Principal, Role
from api.domain.benefits.delivery_models import BatchResult, Delivery, DeliveryBatch, Outcome
from api.domain.errors import Conflict
from api.domain.services import Services
from tests.conftest import IS_POSTGRES

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not IS_POSTGRES, reason="needs TEST_DATABASE_URL on PostgreSQL"),
]


def _items(tag: str) -> list[dict[str, Any]]:
    return [
        {
            "external_id": f"{tag}-{n}",
            "policy": "bhyt-poor",
            "kind": "issued",
            "occurred_on": "2026-01-05",
            "household_id": str(uuid.uuid4()),  # nobody: kept unmatched
            "source_version": 1,
        }
        for n in range(20)
    ]


async def test_the_same_import_twice_at_once_writes_each_delivery_once(
    engine: AsyncEngine,
) -> None:
    partner = Principal(
        subject=f"partner:conc-{uuid.uuid4()}",
        role=Role.PARTNER,
        areas=("37",),
        agency="social_insurance",
    )
    tag = uuid.uuid4().hex[:8]
    batch = DeliveryBatch.model_validate({"items": _items(tag)})
    factory = session_factory(engine)

    async def upsert() -> BatchResult | Conflict:
        async with factory() as session:
            try:
                return await Services(session, partner).deliveries.upsert(batch)
            except Conflict as refused:
                return refused

    async def stored() -> int:
        async with factory() as session:
            count = await session.scalar(
                select(func.count()).where(col(Delivery.partner) == partner.subject)
            )
            return int(count or 0)

    async with engine.connect() as blocker:
        await blocker.execute(text("SELECT last_seq FROM change_log_head WHERE id = 1 FOR UPDATE"))
        running = [asyncio.create_task(upsert()) for _ in range(2)]
        waiting = 0
        for _ in range(200):
            await blocker.execute(text("SELECT pg_stat_clear_snapshot()"))
            waiting = await blocker.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                    " AND datname = current_database()"
                )
            )
            if waiting == 2:
                break
            await asyncio.sleep(0.05)
        assert waiting == 2, "both imports should be in flight, waiting"
        await blocker.rollback()
    first, second = await asyncio.wait_for(asyncio.gather(*running), 30)
    answers = sorted([first, second], key=lambda a: isinstance(a, Conflict))
    written, refused = answers
    assert isinstance(written, BatchResult)
    assert written.counts[Outcome.UNMATCHED] == 20
    assert isinstance(refused, Conflict)
    assert await stored() == 20

    retried = await upsert()
    assert isinstance(retried, BatchResult)
    assert retried.counts[Outcome.UNCHANGED] == 20
    assert await stored() == 20
