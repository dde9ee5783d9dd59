"""Request bodies are bounded by what arrives, not by what the client declares: a chunked body
with no length is counted as it streams and refused at the limit, before anything reads it
whole and before authentication."""

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from api.domain.sync.models import MAX_BYTES
from tests.live import Server

CHUNK = 1024 * 1024


class Streamed:
    """A chunked request body that counts how much of it the server asked for."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.sent = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while self.sent < self.total:
            self.sent += CHUNK
            yield b" " * CHUNK


@pytest.mark.parametrize("path", ["/api/v1/sync/push", "/graphql", "/api/v1/households"])
async def test_a_chunked_body_over_the_limit_is_refused_without_reading_it_all(
    anonymous_client: httpx.AsyncClient, path: str
) -> None:
    body = Streamed(64 * CHUNK)
    response = await anonymous_client.post(
        path, content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    problem = response.json()
    assert (problem["code"], problem["max_bytes"]) == ("payload_too_large", MAX_BYTES)
    assert response.headers["content-type"] == "application/problem+json"
    # Stopped at the limit: at most one chunk past it was pulled from the client.
    assert body.sent <= MAX_BYTES + CHUNK


async def test_a_chunked_body_under_the_limit_still_arrives_whole(
    anonymous_client: httpx.AsyncClient,
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"username": '
        yield b'"nobody"}'

    response = await anonymous_client.post(
        "/api/v1/households", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"


@pytest.mark.e2e
async def test_the_real_server_refuses_a_200_mib_chunked_body_without_a_token(
    server: Server,
) -> None:
    client, env, _ = server
    reader, writer = await asyncio.open_connection("127.0.0.1", int(env["PORT"]))
    writer.write(
        b"POST /api/v1/sync/push HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    chunk = f"{CHUNK:x}\r\n".encode() + b" " * CHUNK + b"\r\n"
    sent, head = 0, b""
    read = asyncio.ensure_future(reader.read(4096))
    async with asyncio.timeout(60):
        while sent < 200 * CHUNK and not read.done():
            writer.write(chunk)
            await writer.drain()
            sent += CHUNK
            await asyncio.sleep(0)
        head = await read
        while b"payload_too_large" not in head and not reader.at_eof():
            head += await reader.read(4096)
    writer.close()
    assert head.startswith(b"HTTP/1.1 413"), head[:200]
    assert b"payload_too_large" in head
    # The answer came at the limit (plus what socket buffers hold), not after 200 MiB.
    assert sent < 2 * MAX_BYTES
    assert (await client.get("/healthz")).status_code == 200
