"""Request ids, and a last line of defence that turns any unexpected error into a problem."""

import json
import logging
import re
import uuid
import zlib
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.db import unavailable
from api.outage import RETRY_AFTER_S, outages

log = logging.getLogger("api")
UNEXPECTED = "An unexpected error occurred; quote the request id when reporting it."
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


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
            if condition is not None:
                status, extra, headers = (
                    503,
                    {
                        "type": "https://giamngheo.example/problems/service_unavailable",
                        "title": "Service unavailable",
                        "code": "service_unavailable",
                        "detail": "the database cannot be reached; retry later",
                        "retry_after": RETRY_AFTER_S,
                    },
                    [(b"retry-after", str(RETRY_AFTER_S).encode())],
                )
            else:
                status, extra, headers = (
                    500,
                    {
                        "type": "https://giamngheo.example/problems/internal_error",
                        "title": "Internal error",
                        "code": "internal_error",
                        "detail": UNEXPECTED,
                    },
                    [],
                )
            body = json.dumps({**extra, "status": status, "request_id": request_id}).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": status,
                    "headers": [
                        (b"content-type", b"application/problem+json"),
                        (b"content-length", str(len(body)).encode()),
                        (b"x-request-id", request_id.encode()),
                        *headers,
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})


class RejectNul:
    """NUL characters have no place in this registry: PostgreSQL text cannot hold them and
    SQLite's LIKE stops at them. Refuse them at the door, naming where they were found."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        where = None
        if "\x00" in scope["path"]:
            where = "path"
        else:
            for name, value in parse_qsl(
                scope["query_string"].decode("latin-1"), keep_blank_values=True
            ):
                if "\x00" in name or "\x00" in value:
                    where = f"query.{name.replace(chr(0), '')}"
                    break
        chunks: list[bytes] = []
        more = True
        while where is None and more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
            if message["type"] != "http.request":
                break
        body = b"".join(chunks)
        form = (
            dict(scope["headers"])
            .get(b"content-type", b"")
            .startswith(b"application/x-www-form-urlencoded")
        )
        if where is None and (b"\\u0000" in body or b"\x00" in body or (form and b"%00" in body)):
            where = "body"
        if where is not None:
            await _refuse(send, where, scope.get("state", {}).get("request_id"))
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _refuse(
    send: Send,
    where: str,
    request_id: str | None,
    message: str = "NUL characters are not allowed",
    code: str = "nul_character",
) -> None:
    body = json.dumps(
        {
            "type": "https://giamngheo.example/problems/validation_failed",
            "title": "Validation failed",
            "status": 422,
            "code": "validation_failed",
            "detail": f"{where}: {message}",
            "errors": [
                {
                    "path": where,
                    "message": message,
                    "code": code,
                }
            ],
            "request_id": request_id,
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 422,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class RequestBody:
    """Bounded request bodies, gzip accepted: a body over the limit, as declared, as it
    streams (chunked bodies declare nothing) or once inflated, is refused with 413 before
    anything reads it, and no byte past the limit is held."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        gzipped = headers.get(b"content-encoding", b"").strip().lower() == b"gzip"
        declared = headers.get(b"content-length", b"0")
        request_id = scope.get("state", {}).get("request_id")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await _too_large(send, self.max_bytes, request_id)
            return
        chunks: list[bytes] = []
        size, more = 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await _too_large(send, self.max_bytes, request_id)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if gzipped:
            inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            try:
                body = inflater.decompress(body, self.max_bytes + 1)
            except zlib.error:
                await _refuse(send, "body", request_id, "not valid gzip", "invalid_encoding")
                return
            if len(body) > self.max_bytes or inflater.unconsumed_tail:
                await _too_large(send, self.max_bytes, request_id)
                return
            scope = {
                **scope,
                "headers": [
                    (k, v) if k != b"content-length" else (k, str(len(body)).encode())
                    for k, v in scope["headers"]
                    if k != b"content-encoding"
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


async def _too_large(send: Send, limit: int, request_id: str | None) -> None:
    body = json.dumps(
        {
            "type": "https://giamngheo.example/problems/payload_too_large",
            "title": "Payload too large",
            "status": 413,
            "code": "payload_too_large",
            "detail": f"bodies are limited to {limit} bytes (after gzip inflation); split a "
            "sync batch into smaller batches, keeping records that refer to each other by "
            "client id in the same or an earlier batch",
            "max_bytes": limit,
            "request_id": request_id,
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
