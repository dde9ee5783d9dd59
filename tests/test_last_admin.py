"""The service never loses its last administrator: an admin cannot disable themselves, nobody
(not even the system) can disable the last active admin, and two admins disabling each other at
the same moment leave one of them standing."""

import asyncio
import itertools
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlmodel import col

from api.db import session_factory
from api.domain.access import SYSTEM, Principal, Role
from api.domain.errors import DomainError
from api.domain.identity.models import UserAccount
from api.domain.identity.shapes import UserCreate
from api.domain.services import Services

PASSWORD = "correct horse battery staple"
_serial = itertools.count(1)


async def _admin(services: Services) -> uuid.UUID:
    name = f"last-admin-{uuid.uuid4().hex[:6]}-{next(_serial)}"
    user = await services.identity.create_user(
        UserCreate(username=name, full_name=name, password=PASSWORD, role=Role.ADMIN)
    )
    return user.id


async def _active_admins(session: AsyncSession) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(UserAccount)
        .where(col(UserAccount.role) == Role.ADMIN, col(UserAccount.active).is_(True))
    )
    return int(count or 0)


async def _nobody_else_is_admin(session: AsyncSession) -> None:
    """Within the test's transaction (rolled back): other admins in the database step aside."""
    await session.execute(
        update(UserAccount).where(col(UserAccount.role) == Role.ADMIN).values(active=False)
    )


def _refused(response: httpx.Response, code: str) -> dict[str, Any]:
    assert response.status_code == 409, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    assert problem["code"] == code
    return problem


async def test_an_admin_cannot_disable_themselves(
    anonymous_client: httpx.AsyncClient, services: Services
) -> None:
    me, other = await _admin(services), await _admin(services)
    (username,) = [u.username for u in await services.identity.list_users() if u.id == me]
    grant = await anonymous_client.post(
        "/api/v1/auth/token", data={"username": username, "password": PASSWORD}
    )
    headers = {"Authorization": f"Bearer {grant.json()['access_token']}"}

    problem = _refused(
        await anonymous_client.post(f"/api/v1/users/{me}/disable", headers=headers),
        "cannot_disable_self",
    )
    assert "yourself" in problem["detail"]
    # Nothing changed: still active, still signed in.
    assert (await anonymous_client.get("/api/v1/auth/me", headers=headers)).status_code == 200
    disabled = await anonymous_client.post(f"/api/v1/users/{other}/disable", headers=headers)
    assert disabled.status_code == 200, disabled.text
    assert disabled.json()["active"] is False


async def test_the_last_active_admin_cannot_be_disabled(
    client: httpx.AsyncClient, services: Services, session: AsyncSession
) -> None:
    await _nobody_else_is_admin(session)
    first = await _admin(services)
    # `client` acts as the built-in system principal, which manages every role.
    problem = _refused(await client.post(f"/api/v1/users/{first}/disable"), "last_admin")
    assert "last active admin" in problem["detail"]
    assert await _active_admins(session) == 1

    second = await _admin(services)
    assert (await client.post(f"/api/v1/users/{first}/disable")).status_code == 200
    _refused(await client.post(f"/api/v1/users/{second}/disable"), "last_admin")
    assert (await client.post(f"/api/v1/users/{first}/enable")).status_code == 200
    assert (await client.post(f"/api/v1/users/{second}/disable")).status_code == 200
    assert await _active_admins(session) == 1


@pytest.fixture
async def two_admins(engine: AsyncEngine) -> tuple[uuid.UUID, uuid.UUID]:
    """Two admins committed for real, and nobody else an active admin."""
    async with session_factory(engine)() as session:
        await _nobody_else_is_admin(session)
        await session.commit()
        services = Services(session, SYSTEM)
        return await _admin(services), await _admin(services)


async def test_two_admins_disabling_each_other_at_once_leave_one(
    engine: AsyncEngine, two_admins: tuple[uuid.UUID, uuid.UUID]
) -> None:
    factory = session_factory(engine)

    async def disable(actor: uuid.UUID, target: uuid.UUID) -> str:
        async with factory() as session:
            principal = Principal(subject=f"user:{actor}", role=Role.ADMIN)
            try:
                await Services(session, principal).identity.set_user_active(target, False)
            except DomainError as exc:
                return exc.code
            return "ok"

    for _round in range(3):
        a, b = two_admins
        outcomes = await asyncio.gather(disable(a, b), disable(b, a))
        assert sorted(outcomes) == ["last_admin", "ok"]
        async with factory() as session:
            assert await _active_admins(session) == 1
            survivor = a if outcomes[0] == "ok" else b
            loser = b if survivor == a else a
            await Services(session, SYSTEM).identity.set_user_active(loser, True)
