"""The request session: siblings cancelled mid-statement or while waiting, then closed, leave
no connection checked out and no statement behind."""

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from api.db import SessionRetired, session_factory
from tests.database import IS_POSTGRES

# Long enough to be still running when the test acts 50 ms in: 300,000 rows took 55 ms on
# SQLite here, so the statement sometimes finished first and the test failed.
ROWS = 3_000_000  # as in SLOW below
SLOW = (
    "SELECT 1 FROM pg_sleep(0.3)"
    if IS_POSTGRES
    else "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3000000) "
    "SELECT count(*) FROM c"
)


async def test_cancelled_siblings_finish_or_withdraw_and_close_returns_the_connection(
    engine: AsyncEngine,
) -> None:
    before = engine.pool.checkedout()  # type: ignore[attr-defined]
    session = session_factory(engine)()
    running = asyncio.ensure_future(session.execute(text(SLOW)))
    waiting = [asyncio.ensure_future(session.execute(text("SELECT 1"))) for _ in range(3)]
    await asyncio.sleep(0.05)
    for task in [running, *waiting]:
        task.cancel()
    results = await asyncio.gather(running, *waiting, return_exceptions=True)
    assert all(isinstance(r, asyncio.CancelledError) for r in results)
    await session.close()
    assert engine.pool.checkedout() == before  # type: ignore[attr-defined]
    with pytest.raises(SessionRetired):
        await session.execute(text("SELECT 1"))
    assert engine.pool.checkedout() == before  # type: ignore[attr-defined]


async def test_a_session_closed_while_a_statement_runs_waits_for_it(engine: AsyncEngine) -> None:
    session = session_factory(engine)()
    statement = asyncio.ensure_future(session.execute(text(SLOW)))
    await asyncio.sleep(0.05)
    await session.close()
    assert statement.done()
    assert (await statement).scalar() == (1 if IS_POSTGRES else ROWS)
