"""Request ids, and a last line of defence that turns any unexpected error into a problem."""

import json
import logging
import re
import uuid
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

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
        except Exception:
            log.exception("unexpected error (request_id=%s)", request_id)
            if started:
                raise
            body = json.dumps(
                {
                    "type": "https://giamngheo.example/problems/internal_error",
                    "title": "Internal error",
                    "status": 500,
                    "code": "internal_error",
                    "detail": UNEXPECTED,
                    "request_id": request_id,
                }
            ).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [
                        (b"content-type", b"application/problem+json"),
                        (b"content-length", str(len(body)).encode()),
                        (b"x-request-id", request_id.encode()),
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


async def _refuse(send: Send, where: str, request_id: str | None) -> None:
    body = json.dumps(
        {
            "type": "https://giamngheo.example/problems/validation_failed",
            "title": "Validation failed",
            "status": 422,
            "code": "validation_failed",
            "detail": f"{where}: NUL characters are not allowed",
            "errors": [
                {
                    "path": where,
                    "message": "NUL characters are not allowed",
                    "code": "nul_character",
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
