"""The real server process, started once per run on a fresh database by `api.cli setup`
(migrations, units, the demo district and sign-ins), as `make run` starts it."""

import asyncio
import os
import socket
import sys
import tempfile
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.database import DATABASE_URL, IS_POSTGRES

ROOT = Path(__file__).resolve().parents[1]
Server = tuple[httpx.AsyncClient, dict[str, str], str]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def run_cli(args: list[str], env: dict[str, str]) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "api.cli",
        *args,
        env=env,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=300)
    assert process.returncode == 0, err.decode()
    return out.decode()


async def _database_url(folder: Path) -> AsyncGenerator[str]:
    """The suite's own database kind: a fresh SQLite file, or a fresh PostgreSQL database
    beside the one the suite runs on."""
    if not IS_POSTGRES:
        yield f"sqlite+aiosqlite:///{folder / 'e2e.db'}"
        return
    url = make_url(DATABASE_URL)
    name = f"{url.database}_e2e"
    admin = await asyncpg.connect(
        host=url.host, port=url.port or 5432, user=url.username or "postgres", database="postgres"
    )
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield url.set(database=name).render_as_string(hide_password=False)
        finally:
            # Closing the generator raises GeneratorExit at the yield: drop it here, always.
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@asynccontextmanager
async def serving(env: dict[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    """`api.cli serve` with `env` (its PORT and DATABASE_URL among them), until ready."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "api.cli",
        "serve",
        env=env,
        cwd=ROOT,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{env['PORT']}", timeout=10
        ) as client:
            for _ in range(100):
                try:
                    if (await client.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            else:
                pytest.fail("the server did not start")
            yield client
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), timeout=10)


def server_env(database_url: str, **settings: str) -> dict[str, str]:
    """The environment of a server of our own on a free port; `settings` override ours."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "PORT": str(_free_port()),
        "HOST": "127.0.0.1",
        **settings,
    }


@pytest.fixture(scope="session")
async def server() -> AsyncIterator[Server]:
    folder = Path(tempfile.mkdtemp(prefix="giamngheo-e2e-"))
    databases = _database_url(folder)
    try:
        env = server_env(await anext(databases))
        first_setup = await run_cli(["setup"], env)
        async with serving(env) as client:
            yield client, env, first_setup
    finally:
        await databases.aclose()
