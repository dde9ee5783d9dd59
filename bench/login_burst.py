"""Sign-in burst: `python -m bench.login_burst` (SQLite; BENCH_DATABASE_URL for PostgreSQL).

Starts the real server (`python -m api.cli serve`, one uvicorn worker) on a fresh database and
measures GET /api/v1/auth/me, sent at a steady rate, first on a quiet server and then while a
burst of wrong sign-ins arrives (4 a second for 15 s by default). Each wrong sign-in costs one
Argon2 verification; what is measured is how much that slows everybody else down. The sign-in
limits are raised for the run so that every attempt is verified rather than locked out.

Open loop: requests leave on schedule whether or not earlier ones have been answered, so a
stalled server shows as latency instead of as fewer samples.
"""

import argparse
import asyncio
import os
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from api.config import Settings
from api.db import create_engine
from api.domain.access import SYSTEM, Role
from api.domain.identity.shapes import UserCreate
from api.domain.services import Services
from api.migrate import upgrade
from tests.builders import reset_database

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "bench-password-2026"  # noqa: S105 - a throwaway benchmark database
ENOUGH = "1000000"  # sign-in limits for the run: every attempt is verified, none is locked


async def _prepare(url: str) -> None:
    engine = create_engine(Settings(database_url=url))
    await reset_database(engine)
    await upgrade(engine)
    async with AsyncSession(engine, expire_on_commit=False) as session:
        services = Services(session, SYSTEM)
        for name in ("bench", "victim"):
            await services.identity.create_user(
                UserCreate(username=name, full_name=name, password=PASSWORD, role=Role.ADMIN)
            )
    await engine.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def _start(url: str, port: int) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "LOGIN_MAX_FAILURES": ENOUGH,
        "LOGIN_MAX_FAILURES_PER_ADDRESS": ENOUGH,
        "LOGIN_SLOWDOWN_AFTER": ENOUGH,
    }
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "api.cli",
        "serve",
        env=env,
        cwd=ROOT,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


async def _wait_ready(client: httpx.AsyncClient) -> None:
    for _ in range(200):
        try:
            if (await client.get("/healthz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError("the server did not start")


async def _at_rate(
    rate: float, seconds: float, call: Callable[[], Coroutine[Any, Any, float]]
) -> list[float]:
    """Start `call` `rate` times a second for `seconds`, without waiting for answers."""
    started = time.perf_counter()
    tasks: list[asyncio.Task[float]] = []
    for n in range(int(rate * seconds)):
        delay = started + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(call()))
    return list(await asyncio.gather(*tasks))


def _summary(label: str, latencies: list[float]) -> str:
    ms = sorted(x * 1000 for x in latencies)
    p50 = statistics.median(ms)
    p90 = statistics.quantiles(ms, n=10)[-1]
    return (
        f"{label:<40} n={len(ms):4d}   p50 {p50:7.1f} ms   p90 {p90:7.1f} ms   max {ms[-1]:7.1f} ms"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.login_burst")
    parser.add_argument("--rate", type=float, default=4.0, help="wrong sign-ins per second")
    parser.add_argument("--seconds", type=float, default=15.0, help="length of the burst")
    parser.add_argument("--probe-rate", type=float, default=10.0, help="GET /auth/me per second")
    args = parser.parse_args()
    load = os.getloadavg()[0]

    url = os.environ.get("BENCH_DATABASE_URL") or (
        f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    )
    await _prepare(url)
    port = _free_port()
    server = await _start(url, port)
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}",
            timeout=120,
            limits=httpx.Limits(max_connections=500, max_keepalive_connections=500),
        ) as client:
            await _wait_ready(client)
            grant = await client.post(
                "/api/v1/auth/token", data={"username": "bench", "password": PASSWORD}
            )
            assert grant.status_code == 200, grant.text
            bearer = {"Authorization": f"Bearer {grant.json()['access_token']}"}

            async def me() -> float:
                sent = time.perf_counter()
                response = await client.get("/api/v1/auth/me", headers=bearer)
                assert response.status_code == 200, response.text
                return time.perf_counter() - sent

            async def wrong_sign_in() -> float:
                sent = time.perf_counter()
                response = await client.post(
                    "/api/v1/auth/token", data={"username": "victim", "password": "not it"}
                )
                assert response.status_code == 400, response.text
                return time.perf_counter() - sent

            await _at_rate(args.probe_rate, 2, me)  # warm up
            quiet = await _at_rate(args.probe_rate, args.seconds, me)
            probe = asyncio.create_task(_at_rate(args.probe_rate, args.seconds, me))
            burst = await _at_rate(args.rate, args.seconds, wrong_sign_in)
            busy = await probe

            print(f"database: {url.split('@')[-1]}; {os.cpu_count()} CPUs")
            print(f"load average (1 min) before the run: {load:.2f}")
            print(_summary("GET /auth/me, quiet", quiet))
            print(_summary(f"GET /auth/me, {args.rate:g} wrong sign-ins/s", busy))
            print(_summary("the wrong sign-ins themselves", burst))
    finally:
        server.terminate()
        await asyncio.wait_for(server.wait(), timeout=10)


if __name__ == "__main__":
    asyncio.run(main())
