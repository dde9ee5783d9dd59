"""Two batches of one user, in flight at once on PostgreSQL, carry the same operation (a phone
that re-sent it under a new batch id before the first answer came). The operation is applied
once: the batch that commits second answers it `duplicate` and applies the rest."""

import asyncio
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col

from api.db import session_factory
from api.domain.access import Principal, Role
from api.domain.households.models import Household
from api.domain.identity.service import area_paths
from api.domain.services import Services
from api.domain.sync.models import PushRequest, PushResponse, SyncItem
from api.domain.sync.service import Client
from tests.conftest import IS_POSTGRES

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not IS_POSTGRES, reason="needs TEST_DATABASE_URL on PostgreSQL"),
]


def _create(op_id: str, hid: uuid.UUID) -> dict[str, Any]:
    return {
        "op_id": op_id,
        "op": "create",
        "entity": "household",
        "id": str(hid),
        "data": {"village_code": "13384-01", "address": f"Số {op_id}"},
    }


async def test_a_shared_operation_is_a_duplicate_in_the_batch_that_commits_second(
    engine: AsyncEngine,
) -> None:
    factory = session_factory(engine)
    async with factory() as session:
        areas = await area_paths(session, ["13384"])
    reviewer = Principal(subject=f"user:{uuid.uuid4()}", role=Role.REVIEWER, areas=areas)
    shared, own_a, own_b = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    batches = {
        "a": PushRequest.model_validate(
            {"batch_id": f"a-{shared}", "items": [_create("shared", shared), _create("a", own_a)]}
        ),
        "b": PushRequest.model_validate(
            {"batch_id": f"b-{shared}", "items": [_create("shared", shared), _create("b", own_b)]}
        ),
    }

    async def push(name: str) -> PushResponse:
        async with factory() as session:
            return (await Services(session, reviewer).sync.push(batches[name], Client())).model

    # Commits wait for this lock on the change log's head, so both batches are in flight
    # (one of them waiting on the other's new household) before either commits.
    async with engine.connect() as blocker:
        await blocker.execute(text("SELECT last_seq FROM change_log_head WHERE id = 1 FOR UPDATE"))
        running = [asyncio.create_task(push(name)) for name in batches]
        for _ in range(200):
            # Activity statistics are read once per transaction unless the snapshot is cleared.
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
        assert waiting == 2, "both batches should be in flight, waiting"
        await blocker.rollback()
    answers = dict(zip(batches, await asyncio.wait_for(asyncio.gather(*running), 30), strict=True))

    outcomes = {name: [i.outcome.value for i in r.items] for name, r in answers.items()}
    assert sorted(outcomes.values()) == [["applied", "applied"], ["duplicate", "applied"]]
    (first,) = [n for n, o in outcomes.items() if o[0] == "applied"]
    (second,) = [n for n, o in outcomes.items() if o[0] == "duplicate"]
    assert answers[second].committed
    assert answers[second].items[0].duplicate_of == {
        "batch_id": batches[first].batch_id,
        "index": 0,
        "outcome": "applied",
    }
    async with factory() as session:
        made = await session.scalar(
            select(func.count()).where(col(Household.id).in_([shared, own_a, own_b]))
        )
        kept = await session.scalar(
            select(func.count()).where(
                col(SyncItem.actor) == reviewer.subject, col(SyncItem.op_id) == "shared"
            )
        )
    assert (made, kept) == (3, 1)
