import contextlib
import json
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy.ext.asyncio import AsyncSession

from api.config import Settings
from api.domain.access import SYSTEM, Principal
from api.domain.errors import FieldProblem, ValidationFailed
from api.domain.services import Services
from api.domain.uow import RequestKey

_ETAG = re.compile(r'^\s*(?:W/)?"(\d{1,9})"\s*$')


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.session_factory() as session:
        yield session


async def get_principal() -> Principal:
    """The caller. Token authentication replaces this one function."""
    return SYSTEM


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]


async def get_services(
    session: SessionDep, principal: PrincipalDep, settings: SettingsDep
) -> Services:
    return Services(session, principal, timedelta(hours=settings.idempotency_ttl_hours))


ServicesDep = Annotated[Services, Depends(get_services)]


def parse_if_match(value: str | None) -> int | None:
    if value is None or value.strip() == "*":
        return None
    match = _ETAG.match(value)
    if match is None:
        raise ValidationFailed(
            [
                FieldProblem(
                    "header.If-Match", 'expected an ETag of this service, e.g. "3"', "invalid_etag"
                )
            ]
        )
    return int(match.group(1))


async def get_if_match(
    if_match: Annotated[
        str | None, Header(description='ETag of the version the change is based on, e.g. "3"')
    ] = None,
) -> int | None:
    return parse_if_match(if_match)


IfMatchDep = Annotated[int | None, Depends(get_if_match)]


async def get_request_key(
    request: Request,
    idempotency_key: Annotated[
        str | None,
        Header(
            description="Any unique string (e.g. a UUID): a retry with the same key and body "
            "returns the first answer and creates nothing new"
        ),
    ] = None,
) -> RequestKey | None:
    if idempotency_key is None:
        return None
    body = await request.body()
    # Not JSON: validation will refuse the request; the raw bytes are fingerprint enough.
    with contextlib.suppress(ValueError):
        body = json.dumps(json.loads(body), sort_keys=True).encode()
    return RequestKey.checked(
        idempotency_key,
        f"{request.method} {request.url.path}\n".encode() + body,
        "header.Idempotency-Key",
    )


RequestKeyDep = Annotated[RequestKey | None, Depends(get_request_key)]
