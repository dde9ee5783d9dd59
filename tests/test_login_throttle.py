"""Brute force against the password grant: failures lock the account name and the client
address, a lock holds even against the right password and lifts after its period, and a name
that does not exist is answered and throttled exactly like a wrong password."""

import itertools
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.config import Settings
from api.deps import get_session
from api.domain.access import Role
from api.domain.base import utcnow
from api.domain.identity.models import LoginThrottle
from api.domain.identity.shapes import UserCreate
from api.domain.services import Services
from api.main import create_app
from tests.conftest import serve

PASSWORD = "correct horse battery staple"
WRONG = "not the password at all"
MAX_FAILURES, MAX_PER_ADDRESS = 3, 5
_serial = itertools.count(1)


@pytest.fixture
def strict_app(settings: Settings, session: AsyncSession) -> FastAPI:
    """The app with a tight sign-in policy and no slow-down, on the test's transaction."""
    app = create_app(
        settings.model_copy(
            update={
                "login_max_failures": MAX_FAILURES,
                "login_max_failures_per_address": MAX_PER_ADDRESS,
                "login_slowdown_after": 100,
                "login_lock_minutes": 1,
            }
        )
    )

    async def test_session() -> AsyncIterator[AsyncSession]:
        yield session

    app.dependency_overrides[get_session] = test_session
    return app


@pytest.fixture
async def client(strict_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client at 127.0.0.1 (the app's lifespan runs while it is open)."""
    async with serve(strict_app) as client:
        yield client


def _from(app: FastAPI, address: str) -> httpx.AsyncClient:
    """Another client address on the same running app."""
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://test")


async def _user(services: Services) -> str:
    username = f"throttle-{next(_serial)}"
    await services.identity.create_user(
        UserCreate(
            username=username,
            full_name=username,
            password=PASSWORD,
            role=Role.REVIEWER,
            area_codes=["13384"],
        )
    )
    return username


async def _attempt(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post(
        "/api/v1/auth/token",
        data={"grant_type": "password", "username": username, "password": password},
    )


def _answer(response: httpx.Response) -> dict[str, Any]:
    """What a client can compare between two answers (the request id differs by design)."""
    body = response.json()
    body.pop("request_id")
    return {
        "status": response.status_code,
        "content-type": response.headers["content-type"],
        "www-authenticate": response.headers.get("www-authenticate"),
        **body,
    }


def _assert_wrong_credentials(response: httpx.Response) -> None:
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "invalid_grant"
    assert response.json()["detail"] == "wrong username or password"


def _assert_locked(response: httpx.Response) -> int:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "account_locked"
    retry_after = int(response.headers["retry-after"])
    assert 0 < retry_after <= 61  # the lock lasts one minute here
    assert problem["retry_after"] == retry_after
    return retry_after


async def _unlock(session: AsyncSession, key: str) -> None:
    """The lock period passes (rather than waiting a minute)."""
    result = await session.execute(
        update(LoginThrottle)
        .where(col(LoginThrottle.key) == key)
        .values(locked_until=utcnow() - timedelta(seconds=1))
    )
    assert result.rowcount == 1  # type: ignore[attr-defined]


async def test_failures_lock_the_account_even_against_the_right_password(
    client: httpx.AsyncClient, services: Services
) -> None:
    username = await _user(services)
    for _ in range(MAX_FAILURES):
        _assert_wrong_credentials(await _attempt(client, username, WRONG))
    _assert_locked(await _attempt(client, username, PASSWORD))
    _assert_locked(await _attempt(client, username, WRONG))
    # Another account from the same address is not locked by this one.
    other = await _user(services)
    assert (await _attempt(client, other, PASSWORD)).status_code == 200


async def test_the_lock_lifts_after_its_period(
    client: httpx.AsyncClient, services: Services, session: AsyncSession
) -> None:
    username = await _user(services)
    for _ in range(MAX_FAILURES):
        await _attempt(client, username, WRONG)
    _assert_locked(await _attempt(client, username, PASSWORD))

    await _unlock(session, f"user:{username}")
    released = await _attempt(client, username, PASSWORD)
    assert released.status_code == 200, released.text
    # The count started afresh: one more mistake is only a mistake.
    _assert_wrong_credentials(await _attempt(client, username, WRONG))


async def test_a_successful_sign_in_resets_the_count(
    client: httpx.AsyncClient, services: Services
) -> None:
    username = await _user(services)
    for _ in range(2):
        for _ in range(MAX_FAILURES - 1):
            _assert_wrong_credentials(await _attempt(client, username, WRONG))
        assert (await _attempt(client, username, PASSWORD)).status_code == 200


async def test_spelling_the_name_differently_does_not_escape_the_lock(
    client: httpx.AsyncClient, services: Services
) -> None:
    username = await _user(services)
    for variant in (username.upper(), f"  {username} ", username.capitalize()):
        _assert_wrong_credentials(await _attempt(client, variant, WRONG))
    _assert_locked(await _attempt(client, username, PASSWORD))


async def test_one_address_trying_many_names_is_locked_out(
    strict_app: FastAPI, client: httpx.AsyncClient, services: Services
) -> None:
    real = [await _user(services) for _ in range(2)]
    victim = await _user(services)
    # Fewer failures per name than lock a name, but more than an address may make.
    names = [*real, *(f"guess-{next(_serial)}" for _ in range(MAX_PER_ADDRESS - len(real)))]
    for name in names:
        _assert_wrong_credentials(await _attempt(client, name, WRONG))
    _assert_locked(await _attempt(client, victim, PASSWORD))
    _assert_locked(await _attempt(client, f"guess-{next(_serial)}", WRONG))
    # The lock is on the address: the same person elsewhere signs in.
    async with _from(strict_app, "203.0.113.7") as elsewhere:
        assert (await _attempt(elsewhere, victim, PASSWORD)).status_code == 200
        assert (await _attempt(elsewhere, real[0], PASSWORD)).status_code == 200


async def test_unknown_names_are_answered_and_throttled_like_wrong_passwords(
    strict_app: FastAPI, client: httpx.AsyncClient, services: Services
) -> None:
    known = await _user(services)
    unknown = f"nobody-{next(_serial)}"
    wrong_password = await _attempt(client, known, WRONG)
    no_such_name = await _attempt(client, unknown, WRONG)
    _assert_wrong_credentials(wrong_password)
    assert _answer(no_such_name) == _answer(wrong_password)

    # From two addresses, so that neither address limit is what locks.
    async with _from(strict_app, "198.51.100.1") as a, _from(strict_app, "198.51.100.2") as b:
        for _ in range(MAX_FAILURES - 1):
            assert _answer(await _attempt(a, known, WRONG)) == _answer(wrong_password)
            assert _answer(await _attempt(b, unknown, WRONG)) == _answer(wrong_password)
        locked_known = await _attempt(a, known, PASSWORD)
        locked_unknown = await _attempt(b, unknown, WRONG)
    _assert_locked(locked_known)
    _assert_locked(locked_unknown)
    known_answer, unknown_answer = _answer(locked_known), _answer(locked_unknown)
    for answer in (known_answer, unknown_answer):
        answer.pop("retry_after")  # whole seconds left: may differ by one between the two
    assert unknown_answer == known_answer
