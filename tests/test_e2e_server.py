"""The real server process over HTTP: start-up, migrations and demo data on first run,
readiness, and concurrency that only a real server shows (idempotent retries racing,
conditional updates racing, a client that hangs up mid-request)."""

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from api.demo import DEMO_PASSWORD
from api.domain.units.loader import read_file
from tests.live import Server, run_cli

pytestmark = pytest.mark.e2e


async def _token(client: httpx.AsyncClient, username: str) -> dict[str, str]:
    response = await client.post(
        "/api/v1/auth/token", data={"username": username, "password": DEMO_PASSWORD}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def test_first_run_migrates_loads_and_serves(
    server: Server,
) -> None:
    client, env, first_setup = server
    units = len(read_file().units)
    assert f"units: {units} created" in first_setup
    assert "households created" in first_setup
    ready = (await client.get("/readyz")).json()
    assert ready["status"] == "ok"
    assert ready["migration"] == ready["expected_migration"]
    headers = await _token(client, "rsv.kimbang")
    page = (await client.get("/api/v1/households", headers=headers)).json()
    assert page["items"]
    assert all(h["unit_path"].startswith("37/13384/") for h in page["items"])
    second = await run_cli(["setup"], env)
    assert f"units: 0 created, 0 updated, {units} unchanged" in second
    assert "demo data: already present, left alone" in second


async def test_racing_retries_with_one_key_create_one_household(
    server: Server,
) -> None:
    client, _, _ = server
    headers = {**await _token(client, "rsv.kimbang"), "Idempotency-Key": uuid.uuid4().hex}
    body = {"village_code": "13384-01", "address": f"race {uuid.uuid4().hex[:8]}"}
    responses = await asyncio.gather(
        *(client.post("/api/v1/households", json=body, headers=headers) for _ in range(10))
    )
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1
    found: list[dict[str, Any]] = []
    params: dict[str, Any] = {"unit": "13384-01", "limit": 200}
    while True:
        page = (await client.get("/api/v1/households", headers=headers, params=params)).json()
        found += page["items"]
        if not page["has_more"]:
            break
        params["after"] = page["next_cursor"]
    assert [h["address"] for h in found].count(body["address"]) == 1


async def test_racing_conditional_updates_let_exactly_one_win(
    server: Server,
) -> None:
    client, _, _ = server
    headers = await _token(client, "rsv.kimbang")
    created = (
        await client.post(
            "/api/v1/households",
            headers=headers,
            json={"village_code": "13384-01", "address": "race target"},
        )
    ).json()
    responses = await asyncio.gather(
        *(
            client.patch(
                f"/api/v1/households/{created['id']}",
                json={"address": f"writer {n}"},
                headers={**headers, "If-Match": '"1"'},
            )
            for n in range(8)
        )
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [412] * 7
    final = (await client.get(f"/api/v1/households/{created['id']}", headers=headers)).json()
    assert final["version"] == 2


async def test_a_client_hanging_up_mid_request_leaves_the_server_healthy(
    server: Server,
) -> None:
    client, env, _ = server
    headers = await _token(client, "rsv.kimbang")
    port = int(env["PORT"])
    body = b'{"village_code": "13384-01", "address": "hung up"}'
    for cut in (len(body) // 2, len(body)):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            b"POST /api/v1/households HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"Authorization: {headers['Authorization']}\r\n".encode()
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body[:cut]
        )
        await writer.drain()
        writer.close()
        await writer.wait_closed()
        del reader
    await asyncio.sleep(0.5)
    assert (await client.get("/healthz")).status_code == 200
    found = (
        await client.get(
            "/api/v1/households", headers=headers, params={"unit": "13384-01", "limit": 200}
        )
    ).json()["items"]
    # The truncated request wrote nothing; the complete one wrote once or not at all.
    assert [h["address"] for h in found].count("hung up") <= 1
