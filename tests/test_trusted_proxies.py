"""Which address a sign-in comes from, as the real server (`api.cli serve`) decides it: the
client's own, unless it is a proxy named in TRUSTED_PROXIES, whose X-Forwarded-For is believed.

Servers of their own, on a SQLite file of their own with nothing but the migrations: the
per-address limit is lowered to 3 here, and the 127.0.0.1 they lock is not the shared server's.
Unknown names are throttled like real ones, so no account is needed."""

import itertools
import tempfile
from pathlib import Path

import httpx
import pytest

from tests.live import run_cli, server_env, serving

pytestmark = pytest.mark.e2e

PER_ADDRESS = 3
_serial = itertools.count(1)


@pytest.fixture(scope="module")
async def database_url() -> str:
    url = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp(prefix='giamngheo-proxy-')) / 'p.db'}"
    await run_cli(["migrate"], server_env(url))
    return url


def _env(database_url: str, **settings: str) -> dict[str, str]:
    env = server_env(database_url, LOGIN_MAX_FAILURES_PER_ADDRESS=str(PER_ADDRESS), **settings)
    for inherited in ("TRUSTED_PROXIES", "FORWARDED_ALLOW_IPS"):
        if inherited not in settings:
            env.pop(inherited, None)
    return env


async def _wrong(client: httpx.AsyncClient, forwarded_for: str) -> httpx.Response:
    return await client.post(
        "/api/v1/auth/token",
        data={"username": f"nobody-{next(_serial)}", "password": "wrong"},
        headers={"X-Forwarded-For": forwarded_for},
    )


async def test_by_default_forwarded_for_is_not_believed(database_url: str) -> None:
    assert "TRUSTED_PROXIES" not in _env(database_url)
    async with serving(_env(database_url)) as client:
        # A different "client" each time: were the header believed, no address would fill up.
        for n in range(PER_ADDRESS):
            answer = await _wrong(client, f"198.51.100.{n + 1}")
            assert (answer.status_code, answer.json()["code"]) == (400, "invalid_grant")
        locked = await _wrong(client, "198.51.100.99")
        assert (locked.status_code, locked.json()["code"]) == (429, "account_locked")


async def test_a_trusted_proxy_names_the_client(database_url: str) -> None:
    trusted = _env(database_url, TRUSTED_PROXIES="127.0.0.1")
    async with serving(trusted) as client:
        for _ in range(PER_ADDRESS):
            assert (await _wrong(client, "203.0.113.5")).status_code == 400
        locked = await _wrong(client, "203.0.113.5")
        assert (locked.status_code, locked.json()["code"]) == (429, "account_locked")
        # Another client behind the same proxy is not locked out with it.
        assert (await _wrong(client, "203.0.113.6")).status_code == 400
