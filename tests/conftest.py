"""Test plumbing: a real database (SQLite file, or PostgreSQL from TEST_DATABASE_URL) migrated
once per run; each test in a transaction that is rolled back, with service commits becoming
savepoint releases."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from api.config import Settings
from api.db import SerialSession, create_engine
from api.deps import get_optional_principal, get_principal, get_session
from api.domain.access import SYSTEM, Principal
from api.domain.services import Services
from api.domain.units import loader
from api.main import create_app
from api.migrate import upgrade
from tests.builders import reset_database
from tests.database import DATABASE_URL, IS_POSTGRES
from tests.live import server

__all__ = ["DATABASE_URL", "IS_POSTGRES", "server"]


def pytest_report_header() -> str:
    return f"database: {'PostgreSQL' if IS_POSTGRES else 'SQLite'} ({DATABASE_URL.split('@')[-1]})"


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings(database_url=DATABASE_URL)


@pytest.fixture(scope="session")
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(settings)
    await reset_database(engine)
    await upgrade(engine)
    async with engine.connect() as connection:
        session = AsyncSession(bind=connection, expire_on_commit=False)
        services = Services(session, SYSTEM)
        await loader.load_units(services.uow, loader.read_file())
        await services.uow.commit()
        await connection.commit()
    yield engine
    await engine.dispose()


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    async with engine.connect() as connection:
        transaction = await connection.begin()
        session = SerialSession(
            bind=connection,
            expire_on_commit=False,
            autoflush=False,
            join_transaction_mode="create_savepoint",
        )
        try:
            yield session
        finally:
            await session.close()
            await transaction.rollback()


@pytest.fixture
def services(session: AsyncSession) -> Services:
    return Services(session, SYSTEM)


@pytest.fixture
def anonymous_app(settings: Settings, session: AsyncSession) -> FastAPI:
    """The app as deployed, on the test's transaction: callers must bring tokens."""
    app = create_app(settings)

    async def test_session() -> AsyncIterator[AsyncSession]:
        yield session

    app.dependency_overrides[get_session] = test_session
    return app


@pytest.fixture
def app(anonymous_app: FastAPI) -> FastAPI:
    """The app with every caller acting as the built-in system principal (whole country)."""

    async def system() -> Principal:
        return SYSTEM

    anonymous_app.dependency_overrides[get_principal] = system
    anonymous_app.dependency_overrides[get_optional_principal] = system
    return anonymous_app


@asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(app) as client:
        yield client


@pytest.fixture
async def anonymous_client(anonymous_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(anonymous_app) as client:
        yield client


@pytest.fixture
async def statements(engine: AsyncEngine) -> AsyncIterator[list[str]]:
    """Every SQL statement the test's engine runs while the fixture is active."""
    from sqlalchemy import event

    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine.sync_engine, "before_cursor_execute", record)
