"""Signing keys that can recover from a compromise: a retired key loses its private half at
once and verifies only while the tokens it signed can still be alive; an emergency revocation
(REST or CLI) makes its tokens fail at once in every process and takes it out of the JWKS."""

import itertools
import tempfile
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.config import DEV_KEY_SECRET, Settings
from api.db import create_engine
from api.deps import get_session
from api.domain.access import SYSTEM, Role
from api.domain.base import utcnow
from api.domain.identity.keys import KeyRing
from api.domain.identity.models import SigningKey
from api.domain.identity.shapes import UserCreate
from api.domain.services import Services
from api.main import create_app
from tests.conftest import serve
from tests.live import run_cli, server_env, serving

PASSWORD = "correct horse battery staple"
TOKEN_URL = "/api/v1/auth/token"
_serial = itertools.count(1)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _kid(token: str) -> str:
    kid: str = jwt.get_unverified_header(token)["kid"]
    return kid


async def _admin_token(client: httpx.AsyncClient, services: Services | None = None) -> str:
    username = f"keys-admin-{next(_serial)}"
    if services is not None:
        await services.identity.create_user(
            UserCreate(username=username, full_name=username, password=PASSWORD, role=Role.ADMIN)
        )
    response = await client.post(TOKEN_URL, data={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


async def _me(client: httpx.AsyncClient, token: str) -> int:
    return (await client.get("/api/v1/auth/me", headers=_bearer(token))).status_code


async def _published(client: httpx.AsyncClient) -> set[str]:
    return {k["kid"] for k in (await client.get("/.well-known/jwks.json")).json()["keys"]}


async def _listed(client: httpx.AsyncClient, token: str) -> dict[str, dict[str, Any]]:
    listed = (await client.get("/api/v1/keys", headers=_bearer(token))).json()
    return {k["kid"]: k for k in listed}


@pytest.fixture
async def other_process(
    settings: Settings, session: AsyncSession
) -> AsyncIterator[httpx.AsyncClient]:
    """A second instance of the service with a key ring of its own, on the same database."""
    app = create_app(settings)

    async def test_session() -> AsyncIterator[AsyncSession]:
        yield session

    app.dependency_overrides[get_session] = test_session
    async with serve(app) as client:
        yield client


async def test_a_retired_key_loses_its_private_half_and_verifies_only_while_its_tokens_live(
    anonymous_client: httpx.AsyncClient, services: Services, session: AsyncSession
) -> None:
    before = await _admin_token(anonymous_client, services)
    old_kid = _kid(before)
    # Someone copied the key before it was retired (a backup, a memory dump).
    copy = KeyRing(DEV_KEY_SECRET, timedelta(minutes=15))
    await copy.load(services.uow)

    rotated = await anonymous_client.post("/api/v1/keys/rotate", headers=_bearer(before))
    assert rotated.status_code == 200, rotated.text
    row = await session.get(SigningKey, old_kid, populate_existing=True)
    assert row is not None
    assert row.retired_at is not None
    assert row.private_key is None
    assert row.verifies_until == row.retired_at + timedelta(minutes=15)
    listed = await _listed(anonymous_client, before)
    assert listed[old_kid]["verifies_until"] is not None
    assert listed[old_kid]["revoked_at"] is None

    # Until then, nobody is signed out, and the key is still published.
    assert await _me(anonymous_client, before) == 200
    assert old_kid in await _published(anonymous_client)

    # The longest-lived token it signed has expired (rather than waiting 15 minutes).
    await session.execute(
        update(SigningKey)
        .where(col(SigningKey.kid) == old_kid)
        .values(verifies_until=utcnow() - timedelta(seconds=1))
    )
    forged = copy.sign(
        {
            **jwt.decode(before, options={"verify_signature": False}),
            "iat": utcnow(),
            "nbf": utcnow(),
            "exp": utcnow() + timedelta(days=1),
        }
    )
    assert _kid(forged) == old_kid
    assert await _me(anonymous_client, before) == 401
    assert await _me(anonymous_client, forged) == 401
    assert old_kid not in await _published(anonymous_client)
    after = await _admin_token(anonymous_client, services)
    assert _kid(after) == rotated.json()["kid"]
    assert old_kid in await _listed(anonymous_client, after)  # still listed, as history


async def test_revoking_a_key_refuses_its_tokens_at_once_in_every_process(
    anonymous_client: httpx.AsyncClient,
    other_process: httpx.AsyncClient,
    services: Services,
    session: AsyncSession,
) -> None:
    token = await _admin_token(anonymous_client, services)
    kid = _kid(token)
    assert await _me(other_process, token) == 200  # the other process has loaded the key
    assert kid in await _published(other_process)

    revoked = await anonymous_client.post(f"/api/v1/keys/{kid}/revoke", headers=_bearer(token))
    assert revoked.status_code == 200, revoked.text
    body = revoked.json()
    assert body["kid"] == kid
    assert body["revoked_at"] is not None
    assert body["retired_at"] is not None

    for process in (anonymous_client, other_process):
        assert await _me(process, token) == 401
        assert kid not in await _published(process)
    row = await session.get(SigningKey, kid, populate_existing=True)
    assert row is not None
    assert row.private_key is None

    # It was the signing key: a new one took over, and signing in works in both processes.
    fresh = await _admin_token(other_process, services)
    assert _kid(fresh) != kid
    assert await _me(anonymous_client, fresh) == 200
    listed = await _listed(anonymous_client, fresh)
    assert [k for k, v in listed.items() if v["retired_at"] is None] == [_kid(fresh)]
    assert listed[kid]["revoked_at"] == body["revoked_at"]

    again = await anonymous_client.post(f"/api/v1/keys/{kid}/revoke", headers=_bearer(fresh))
    assert (again.status_code, again.json()["revoked_at"]) == (200, body["revoked_at"])
    unknown = await anonymous_client.post("/api/v1/keys/no-such-key/revoke", headers=_bearer(fresh))
    assert (unknown.status_code, unknown.json()["code"]) == (404, "not_found")


async def test_revoking_a_retired_key_leaves_the_signing_key_alone(
    anonymous_client: httpx.AsyncClient, services: Services
) -> None:
    before = await _admin_token(anonymous_client, services)
    rotated = await anonymous_client.post("/api/v1/keys/rotate", headers=_bearer(before))
    active = rotated.json()["kid"]
    after = await _admin_token(anonymous_client, services)
    revoked = await anonymous_client.post(
        f"/api/v1/keys/{_kid(before)}/revoke", headers=_bearer(after)
    )
    assert revoked.status_code == 200, revoked.text
    assert await _me(anonymous_client, before) == 401
    assert await _me(anonymous_client, after) == 200
    assert await _published(anonymous_client) >= {active}
    assert _kid(before) not in await _published(anonymous_client)


@pytest.mark.e2e
async def test_the_cli_revokes_a_key_under_a_running_server() -> None:
    url = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp(prefix='giamngheo-keys-')) / 'k.db'}"
    env = server_env(url)
    await run_cli(["migrate"], env)
    engine = create_engine(Settings(database_url=url))
    async with AsyncSession(engine, expire_on_commit=False) as session:
        await Services(session, SYSTEM).identity.create_user(
            UserCreate(username="keys-admin", full_name="K", password=PASSWORD, role=Role.ADMIN)
        )
    await engine.dispose()

    async with serving(env) as client:
        grant = await client.post(TOKEN_URL, data={"username": "keys-admin", "password": PASSWORD})
        token = grant.json()["access_token"]
        kid = _kid(token)
        assert await _me(client, token) == 200

        out = await run_cli(["revoke-key", kid], env)
        assert kid in out
        assert "revoked" in out

        assert await _me(client, token) == 401
        assert kid not in await _published(client)
        again = await client.post(TOKEN_URL, data={"username": "keys-admin", "password": PASSWORD})
        assert _kid(again.json()["access_token"]) != kid
        assert await _me(client, again.json()["access_token"]) == 200
