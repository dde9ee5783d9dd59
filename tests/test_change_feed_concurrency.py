"""The feed's guarantee under concurrency, on PostgreSQL with real commits: a reader paging by
cursor while many transactions write (and commit in another order than they wrote, or roll
back) sees every committed change exactly once and nothing else."""

import asyncio
import random

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from api.db import session_factory
from api.domain.access import SYSTEM
from api.domain.households.models import HouseholdCreate
from api.domain.kernel.entities import EntityType
from api.domain.services import Services
from tests.builders import current_villages
from tests.conftest import IS_POSTGRES

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not IS_POSTGRES, reason="needs TEST_DATABASE_URL on PostgreSQL"),
]

WRITERS = 24
WRITES_EACH = 4


async def test_paging_reader_never_misses_or_repeats_a_committed_change(
    engine: AsyncEngine,
) -> None:
    factory = session_factory(engine)
    rng = random.Random(2022)
    async with factory() as session:
        villages = [v.code for v in await current_villages(Services(session, SYSTEM))]
        cursor = None
        while True:  # start from the current end of the feed
            page = await Services(session, SYSTEM).changes.page(cursor, 200)
            cursor = page.next_cursor
            if not page.has_more:
                break

    committed: set[tuple[str, int]] = set()
    rolled_back: set[str] = set()
    done = asyncio.Event()

    async def writer(n: int) -> None:
        for i in range(WRITES_EACH):
            async with factory() as session:
                services = Services(session, SYSTEM)
                household = await services.households.create(
                    HouseholdCreate(
                        village_code=villages[(n + i) % len(villages)], address=f"w{n}-{i}"
                    )
                )
                committed.add((str(household.id), 1))
                # A second transaction that writes early and commits late (or never).
                row = await services.households.load(household.id, for_update=True)
                row.address = f"w{n}-{i} updated"
                services.uow.touch(EntityType.HOUSEHOLD, row, diff={"address": ["", row.address]})
                await services.uow.flush()
                await asyncio.sleep(rng.uniform(0, 0.05))
                if rng.random() < 0.25:
                    await services.uow.rollback()
                    rolled_back.add(str(household.id))
                else:
                    await services.uow.commit()
                    committed.add((str(household.id), 2))

    read: list[tuple[int, str, int]] = []

    async def reader() -> None:
        nonlocal cursor
        async with factory() as session:
            services = Services(session, SYSTEM)
            while True:
                finished = done.is_set()
                while True:
                    page = await services.changes.page(cursor, 7)
                    await session.rollback()  # a fresh snapshot for the next page
                    read.extend((e.seq, e.entity_id, e.version) for e in page.items)
                    cursor = page.next_cursor
                    if not page.has_more:
                        break
                if finished:
                    return
                await asyncio.sleep(0.005)

    reading = asyncio.create_task(reader())
    await asyncio.wait_for(asyncio.gather(*(writer(n) for n in range(WRITERS))), timeout=60)
    done.set()
    await asyncio.wait_for(reading, timeout=30)

    seqs = [seq for seq, _, _ in read]
    assert seqs == sorted(seqs), "read out of commit order"
    assert len(seqs) == len(set(seqs)), "a change was read twice"
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "a gap: a change was skipped"
    ours = {
        (entity, version) for _, entity, version in read if any(entity == c for c, _ in committed)
    }
    assert ours == committed
    assert len(read) == len(committed)
    assert not any((entity, 2) in ours for entity in rolled_back)
    assert 0 < len(rolled_back) < WRITERS * WRITES_EACH
