"""The one module that knows which database engine is behind the service."""

import asyncio
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry

from api.config import Settings

SQLITE_BUSY_TIMEOUT_MS = 30_000
T = TypeVar("T")


def is_sqlite_url(url: str) -> bool:
    return url.startswith("sqlite")


def _configure_sqlite(engine: AsyncEngine) -> None:
    # pysqlite/aiosqlite's legacy transaction handling breaks SAVEPOINT and lets SELECTs run
    # outside the transaction; SQLAlchemy's documented remedy is to emit BEGIN ourselves.
    # IMMEDIATE takes the write lock up front, so two writers queue on busy_timeout instead of
    # failing when a reader upgrades to a writer.
    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_engine(settings: Settings, url: str | None = None) -> AsyncEngine:
    database_url = url or settings.database_url
    kwargs: dict[str, Any] = {"echo": settings.db_echo}
    if is_sqlite_url(database_url):
        # SQLite has one writer at a time (ADR 2). One pooled connection makes requests queue
        # fairly in the pool instead of sleep-polling on busy_timeout.
        kwargs |= {"pool_size": 1, "max_overflow": 0, "pool_timeout": 60}
    else:
        kwargs |= {
            "pool_size": settings.db_pool_size,
            "max_overflow": settings.db_max_overflow,
            "pool_pre_ping": True,
            "pool_recycle": 1800,
        }
    engine = create_async_engine(database_url, **kwargs)
    if is_sqlite_url(database_url):
        _configure_sqlite(engine)
    return engine


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, class_=SerialSession, expire_on_commit=False, autoflush=False)


@asynccontextmanager
async def session_scope(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with factory() as session:
        yield session


async def ping(engine: AsyncEngine) -> None:
    """Raises unless the database answers."""
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


class SerialSession(AsyncSession):
    """An AsyncSession that runs one database operation at a time, to completion.

    GraphQL resolves sibling fields concurrently and cancels the rest when one fails; an
    AsyncSession used by two coroutines at once, or cancelled mid-statement, is left unusable.
    Each operation therefore holds a lock and is shielded from cancellation.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._serial = asyncio.Lock()

    async def _one_at_a_time(self, operation: Coroutine[Any, Any, T]) -> T:
        async def locked() -> T:
            async with self._serial:
                return await operation

        return await asyncio.shield(locked())

    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        return await self._one_at_a_time(super().execute(*args, **kwargs))

    async def scalar(self, *args: Any, **kwargs: Any) -> Any:
        return await self._one_at_a_time(super().scalar(*args, **kwargs))

    async def get(self, *args: Any, **kwargs: Any) -> Any:
        return await self._one_at_a_time(super().get(*args, **kwargs))

    async def flush(self, *args: Any, **kwargs: Any) -> None:
        await self._one_at_a_time(super().flush(*args, **kwargs))

    async def commit(self) -> None:
        await self._one_at_a_time(super().commit())

    async def rollback(self) -> None:
        await self._one_at_a_time(super().rollback())

    async def delete(self, instance: object) -> None:
        await self._one_at_a_time(super().delete(instance))
