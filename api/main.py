import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import FastAPI

from api import errors
from api.config import Settings, get_settings
from api.db import create_engine, session_factory
from api.deps import policy_of
from api.domain.benefits.entitlements import upkeep
from api.domain.identity.keys import KeyRing
from api.domain.jobs.queue import Worker, policy_services
from api.domain.sync.models import MAX_BYTES
from api.middleware import RequestBody, RequestContext
from api.migrate import script_head
from api.routers import (
    admin,
    audit,
    auth,
    benefits,
    changes,
    health,
    households,
    members,
    plans,
    reports,
    review,
    sync,
    units,
)
from api.schema.app import graphql_router

DESCRIPTION = """
Registry of the National Target Program on Sustainable Poverty Reduction: administrative
units, households and their members, and a change feed in commit order.

Every error is `application/problem+json` (RFC 9457) with a stable `code`; validation errors
list each field at fault in `errors`. Writes return an `ETag`; send it back in `If-Match` to
refuse a change based on an old version. Send an `Idempotency-Key` with every POST so that a
retry never writes twice. The same operations are available over GraphQL at `/graphql`.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings)
        app.state.engine = engine
        app.state.session_factory = session_factory(engine)
        runner = None
        if settings.jobs_in_process:
            factory, policy = app.state.session_factory, policy_of(settings)
            worker = Worker(factory, policy_services(policy))
            runner = asyncio.create_task(worker.forever(idle=upkeep(factory, policy)))
        try:
            yield
        finally:
            if runner is not None:
                runner.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await runner
            await engine.dispose()

    app = FastAPI(
        title="Giảm Nghèo API", version="0.1.0", description=DESCRIPTION, lifespan=lifespan
    )
    app.state.settings = settings
    app.state.migration_head = script_head()
    app.add_middleware(RequestBody, max_bytes=MAX_BYTES)
    app.add_middleware(RequestContext)
    errors.install(app)
    app.state.keyring = KeyRing(
        settings.key_secret.get_secret_value(), timedelta(minutes=settings.access_token_minutes)
    )
    for module in (
        health,
        auth,
        units,
        households,
        members,
        review,
        benefits,
        plans,
        reports,
        sync,
        changes,
        admin,
        audit,
    ):
        app.include_router(module.router)
    app.include_router(auth.jwks_router)
    app.include_router(
        graphql_router(settings.graphql_ide), prefix="/graphql", include_in_schema=False
    )
    return app
