"""Guessing in parallel against the real server: however many sign-ins for one account arrive
at once, at most `login_max_failures` (5) passwords are checked, and the right one sent once the
limit is taken is refused like the rest. A test of its own account (created through the admin
API), so that the demo accounts the other server tests sign in with stay usable."""

import asyncio
import itertools
import uuid

import httpx
import pytest

from api.demo import DEMO_PASSWORD
from tests.live import Server

pytestmark = pytest.mark.e2e

MAX_FAILURES = 5  # the default `login_max_failures`
PASSWORD = "the right password, at last"
PARALLEL = 30
_serial = itertools.count(1)


async def _admin(client: httpx.AsyncClient) -> dict[str, str]:
    response = await client.post(
        "/api/v1/auth/token", data={"username": "admin", "password": DEMO_PASSWORD}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def _new_reviewer(client: httpx.AsyncClient) -> str:
    username = f"guessed-{uuid.uuid4().hex[:8]}-{next(_serial)}"
    created = await client.post(
        "/api/v1/users",
        headers=await _admin(client),
        json={
            "username": username,
            "full_name": "Người Bị Đoán Mật Khẩu",
            "password": PASSWORD,
            "role": "reviewer",
            "area_codes": ["13384"],
        },
    )
    assert created.status_code == 201, created.text
    return username


async def test_parallel_guesses_check_at_most_the_limit_and_then_refuse_the_right_one(
    server: Server,
) -> None:
    client, _, _ = server
    username = await _new_reviewer(client)

    async def attempt(password: str) -> httpx.Response:
        return await client.post(
            "/api/v1/auth/token",
            data={"grant_type": "password", "username": username, "password": password},
            timeout=120,
        )

    wrong = [asyncio.create_task(attempt(f"guess number {n}")) for n in range(PARALLEL)]
    # The right password arrives while the wrong ones are still being verified, once the
    # server has begun refusing: the limit has been reached by then.
    for finished in asyncio.as_completed(wrong):
        if (await finished).status_code == 429:
            break
    right = await attempt(PASSWORD)
    answers = [await task for task in wrong]

    checked = [r for r in answers if r.status_code == 400]
    refused = [r for r in answers if r.status_code == 429]
    assert len(checked) + len(refused) == PARALLEL, [r.text for r in answers]
    assert len(checked) == MAX_FAILURES  # the slots are claimed one at a time, none wasted
    assert all(r.json()["code"] == "invalid_grant" for r in checked)
    assert all(r.json()["code"] == "account_locked" for r in refused)
    assert right.status_code == 429, right.text
    assert right.json()["code"] == "account_locked"
    assert int(right.headers["retry-after"]) > 0
    # Still locked afterwards, against the right password too.
    after = await attempt(PASSWORD)
    assert (after.status_code, after.json()["code"]) == (429, "account_locked")
