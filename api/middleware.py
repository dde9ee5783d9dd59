"""What every request goes through before a route sees it: a request id, a bounded and clean
body, and a last line of defence that turns any unexpected error into a problem."""

import json
import logging
import re
import uuid
import zlib
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.db import unavailable
from api.domain import problems
from api.outage import RETRY_AFTER_S, outages

log = logging.getLogger("api")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


async def send_problem(
    send: Send, body: dict[str, Any], headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    raw = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": body["status"],
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(raw)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": raw})


class RequestContext:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        supplied = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = supplied if _SAFE_ID.match(supplied) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            condition = unavailable(exc)
            if condition is not None:
                outages.refused(condition)
            else:
                log.exception("unexpected error (request_id=%s)", request_id)
            if started:
                raise
            headers = [(b"x-request-id", request_id.encode())]
            if condition is None:
                await send_problem(send, problems.internal_error(request_id), headers)
                return
            body = problems.problem(
                "service_unavailable",
                "Service unavailable",
                "the database cannot be reached; retry later",
                503,
                retry_after=RETRY_AFTER_S,
                request_id=request_id,
            )
            await send_problem(
                send, body, [*headers, (b"retry-after", str(RETRY_AFTER_S).encode())]
            )


BINARY_BODIES = frozenset({b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"})


class RequestBody:
    """Bounded, clean request bodies.

    - A body over the limit, as declared, as it streams (chunked bodies declare nothing) or
      once inflated from gzip, is refused with 413 before anything reads it, and no byte past
      the limit is held.
    - NUL characters have no place in this registry (PostgreSQL text cannot hold them and
      SQLite's LIKE stops at them), nor in HTTP header values (RFC 9110): refused, naming
      where they were found.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        request_id = scope.get("state", {}).get("request_id")
        declared = headers.get(b"content-length", b"0")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await send_problem(send, self._too_large(request_id))
            return
        body = await self._read(receive)
        if body is None:
            await send_problem(send, self._too_large(request_id))
            return
        if headers.get(b"content-encoding", b"").strip().lower() == b"gzip":
            inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            try:
                body = inflater.decompress(body, self.max_bytes + 1)
            except zlib.error:
                await send_problem(
                    send, _invalid("body", "not valid gzip", "invalid_encoding", request_id)
                )
                return
            if len(body) > self.max_bytes or inflater.unconsumed_tail:
                await send_problem(send, self._too_large(request_id))
                return
        kind = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        form = kind == b"application/x-www-form-urlencoded"
        # A workbook is binary: its text is checked cell by cell once it is read.
        where = _nul_in(scope, b"" if kind in BINARY_BODIES else body, form)
        if where is not None:
            message = "NUL characters are not allowed"
            await send_problem(send, _invalid(where, message, "nul_character", request_id))
            return
        scope = {
            **scope,
            "headers": [
                *((k, v) for k, v in scope["headers"] if k not in _REPLACED),
                (b"content-length", str(len(body)).encode()),
            ],
        }
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _read(self, receive: Receive) -> bytes | None:
        """The whole body, or None as soon as it passes the limit."""
        chunks: list[bytes] = []
        size, more = 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                return None
            chunks.append(chunk)
            more = message.get("more_body", False)
        return b"".join(chunks)

    def _too_large(self, request_id: str | None) -> dict[str, Any]:
        return problems.problem(
            "payload_too_large",
            "Payload too large",
            f"bodies are limited to {self.max_bytes} bytes (after gzip inflation); split a "
            "sync batch into smaller batches, keeping records that refer to each other by "
            "client id in the same or an earlier batch",
            413,
            max_bytes=self.max_bytes,
            request_id=request_id,
        )


_REPLACED = frozenset({b"content-length", b"content-encoding"})


def _invalid(where: str, message: str, code: str, request_id: str | None) -> dict[str, Any]:
    return problems.validation_problem(
        [problems.field_error(where, message, code)], request_id=request_id
    )


def _nul_in(scope: Scope, body: bytes, form: bool) -> str | None:
    if "\x00" in scope["path"]:
        return "path"
    for name, value in scope["headers"]:
        if b"\x00" in value:
            return f"header.{name.decode('latin-1').lower()}"
    for name, value in parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            return f"query.{name.replace(chr(0), '')}"
    if b"\\u0000" in body or b"\x00" in body or (form and b"%00" in body):
        return "body"
    return None
