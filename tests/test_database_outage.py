"""While the database cannot be reached, every request is told to come back (503 with
Retry-After), not given a 500, and the log gets one line for the outage, not a stack trace
per request."""

import logging
import tempfile
from pathlib import Path

import pytest

from api.config import Settings
from api.main import create_app
from tests.conftest import serve
from tests.database import IS_POSTGRES


def _unreachable_url() -> str:
    if IS_POSTGRES:
        return "postgresql+asyncpg://postgres@127.0.0.1:1/down"  # nothing listens on port 1
    return f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'gone' / 'down.db'}"


async def test_an_unreachable_database_answers_503_with_retry_after(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = create_app(Settings(database_url=_unreachable_url()))
    caplog.set_level(logging.INFO, logger="api")
    async with serve(app) as client:
        answers = [
            await client.get("/api/v1/households", headers={"Authorization": "Bearer x.y.z"})
            for _ in range(10)
        ] + [await client.post("/graphql", json={"query": "{ __typename }"}) for _ in range(10)]
        for answer in answers:
            assert answer.status_code == 503, answer.text
            assert answer.headers["content-type"] == "application/problem+json"
            assert int(answer.headers["retry-after"]) > 0
            body = answer.json()
            assert body["code"] == "service_unavailable"
            assert body["retry_after"] == int(answer.headers["retry-after"])
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.get("/readyz")).status_code == 503
    lines = [r for r in caplog.records if r.name == "api"]
    assert len(lines) == 1, [r.getMessage() for r in lines]
    assert lines[0].exc_info is None
    assert "database unavailable" in lines[0].getMessage()
