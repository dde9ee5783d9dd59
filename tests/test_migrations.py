"""The migrations build exactly the schema the models describe."""

from pprint import pformat
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel, col

import api.domain.tables  # noqa: F401  (registers every table on the metadata)
from api.domain.changes.models import ChangeLogHead
from api.migrate import current_revision, script_head


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection,
        opts={
            "target_metadata": SQLModel.metadata,
            "compare_type": True,
            "compare_server_default": False,
        },
    )
    return list(compare_metadata(context, SQLModel.metadata))


async def test_autogenerate_finds_no_difference_after_upgrade_from_empty(
    engine: AsyncEngine,
) -> None:
    async with engine.connect() as connection:
        differences = await connection.run_sync(_differences)
    assert differences == [], "models and migrations differ:\n" + pformat(differences)


async def test_metadata_knows_every_table() -> None:
    # An empty diff means nothing if the metadata were missing the tables.
    assert {"admin_unit", "household", "member", "change_log", "change_log_head"} <= set(
        SQLModel.metadata.tables
    )


async def test_database_is_at_the_migration_head(engine: AsyncEngine) -> None:
    head = script_head()
    assert head is not None
    assert await current_revision(engine) == head


async def test_change_log_head_row_exists(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        rows = (
            await connection.execute(select(col(ChangeLogHead.id), col(ChangeLogHead.last_seq)))
        ).all()
    assert len(rows) == 1
    (row_id, last_seq) = rows[0]
    assert row_id == 1
    # The session fixture loaded the reference units, each a logged creation.
    assert last_seq >= 1
