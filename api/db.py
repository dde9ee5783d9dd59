"""The one module that knows which database engine is behind the service."""

import asyncio
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy import event, text
from sqlalchemy import exc as sa_exc
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


# SQLSTATE classes of a server that is starting, stopping or full (PostgreSQL appendix A).
_UNAVAILABLE_SQLSTATE_CLASSES = ("08", "53", "57")
_UNAVAILABLE_SQLITE = ("unable to open database file", "database is locked", "disk i/o error")


def unavailable(error: BaseException) -> str | None:
    """What is wrong, when `error` means the database cannot serve now (the request may be
    retried later), rather than a fault in the request or the code."""
    if isinstance(error, sa_exc.TimeoutError):
        return "no connection free in the pool"
    if isinstance(error, OSError):
        return f"cannot connect ({type(error).__name__})"
    if not isinstance(error, sa_exc.DBAPIError):
        return None
    if error.connection_invalidated:
        return "the connection was lost"
    sqlstate = getattr(error.orig, "sqlstate", None)
    if isinstance(sqlstate, str) and sqlstate[:2] in _UNAVAILABLE_SQLSTATE_CLASSES:
        return f"the server refuses work (SQLSTATE {sqlstate})"
    message = str(error.orig).lower()
    if isinstance(error, sa_exc.OperationalError) and message.startswith(_UNAVAILABLE_SQLITE):
        return message
    return None


async def ping(engine: AsyncEngine) -> None:
    """Raises unless the database answers."""
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


class SessionRetired(RuntimeError):
    """A statement was asked of a request's session after the request let it go."""


class SerialSession(AsyncSession):
    """An AsyncSession that runs one database operation at a time, to completion.

    GraphQL resolves sibling fields concurrently and cancels the rest when one fails; an
    AsyncSession used by two coroutines at once, or cancelled mid-statement, is left unusable.
    Each operation therefore runs in a task of its own, behind a lock: a caller cancelled
    while the statement runs leaves it to finish, and one cancelled while still waiting for
    the lock withdraws it. `close` waits for every operation still running before it rolls
    back and hands the connection back, and refuses any that would start afterwards, so no
    statement of a finished request ever reaches the pool's next borrower.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._serial = asyncio.Lock()
        self._running: set[asyncio.Task[Any]] = set()
        self._retired = False

    async def _one_at_a_time(self, operation: Coroutine[Any, Any, T]) -> T:
        if self._retired:
            operation.close()
            raise SessionRetired("the request that owned this session has ended")
        withdrawn = asyncio.Event()
        task = asyncio.ensure_future(self._when_free(operation, withdrawn))
        self._running.add(task)
        task.add_done_callback(_settled)
        task.add_done_callback(self._running.discard)
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            withdrawn.set()
            raise

    async def _when_free(self, operation: Coroutine[Any, Any, T], withdrawn: asyncio.Event) -> T:
        async with self._serial:
            if withdrawn.is_set() or self._retired:
                operation.close()
                raise SessionRetired("withdrawn before it started")
            return await operation

    async def close(self) -> None:
        self._retired = True
        while self._running:
            await asyncio.wait(set(self._running))
        await super().close()

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


def _settled(task: asyncio.Task[Any]) -> None:
    # The caller may have been cancelled and gone: the outcome is read here so that an
    # abandoned failure is not reported as "never retrieved".
    if not task.cancelled():
        task.exception()


def upsert(session: AsyncSession, table: Any, keys: list[str], rows: list[dict[str, Any]]) -> Any:
    """INSERT … ON CONFLICT (keys) DO UPDATE, in the session's own dialect: concurrent writers
    of the same keys converge on one row."""
    from sqlalchemy.dialects import postgresql, sqlite

    name = session.get_bind().dialect.name
    insert = postgresql.insert if name == "postgresql" else sqlite.insert
    stmt = insert(table).values(rows)
    columns = {c: stmt.excluded[c] for c in rows[0] if c not in keys and c != "id"}
    return stmt.on_conflict_do_update(index_elements=keys, set_=columns)
