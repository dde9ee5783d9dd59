import contextlib
import json
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from api.config import Settings
from api.domain.access import SYSTEM, Principal
from api.domain.errors import FieldProblem, Unauthorized, ValidationFailed
from api.domain.identity.keys import KeyRing
from api.domain.identity.service import AuthConfig, AuthService
from api.domain.identity.throttle import ThrottlePolicy
from api.domain.policy import Policy
from api.domain.services import Services
from api.domain.uow import RequestKey, UnitOfWork

_ETAG = re.compile(r'^\s*(?:W/)?"(\d{1,9})"\s*$')
TOKEN_URL = "/api/v1/auth/token"  # noqa: S105 - a path, not a secret
_bearer = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False)


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.session_factory() as session:
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]


def auth_config(settings: Settings) -> AuthConfig:
    return AuthConfig(
        issuer=settings.token_issuer,
        audience=settings.token_audience,
        access_ttl=timedelta(minutes=settings.access_token_minutes),
        refresh_ttl=timedelta(days=settings.refresh_token_days),
        session_max=timedelta(days=settings.session_max_days),
        throttle=ThrottlePolicy(
            max_failures=settings.login_max_failures,
            max_failures_per_address=settings.login_max_failures_per_address,
            lock=timedelta(minutes=settings.login_lock_minutes),
            slowdown_after=settings.login_slowdown_after,
        ),
        key_secret=settings.key_secret.get_secret_value(),
    )


async def get_auth(request: Request, session: SessionDep, settings: SettingsDep) -> AuthService:
    ring: KeyRing = request.app.state.keyring
    uow = UnitOfWork(session, SYSTEM)
    await ring.ensure_loaded(uow)
    return AuthService(uow, ring, auth_config(settings))


AuthDep = Annotated[AuthService, Depends(get_auth)]


async def get_principal(
    auth: AuthDep,
    token: Annotated[str | None, Depends(_bearer)],
    x_purpose: Annotated[
        str | None,
        Header(max_length=300, description="Why a partner reads personal data (logged)"),
    ] = None,
) -> Principal:
    """The caller, from the bearer token. Nothing else in the service decides who is calling."""
    if not token:
        raise Unauthorized("send a bearer token (see POST /api/v1/auth/token)")
    principal = await auth.authenticate(token)
    if not x_purpose:
        return principal
    # Header values arrive as latin-1; clients send UTF-8 Vietnamese text.
    with contextlib.suppress(UnicodeError):
        x_purpose = x_purpose.encode("latin-1").decode("utf-8")
    return replace(principal, purpose=x_purpose.strip() or None)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


async def get_optional_principal(
    auth: AuthDep,
    token: Annotated[str | None, Depends(_bearer)],
    x_purpose: Annotated[str | None, Header(max_length=300)] = None,
) -> Principal | None:
    """The caller if a token was sent (the GraphQL IDE page itself needs none)."""
    return None if not token else await get_principal(auth, token, x_purpose)


def policy_of(settings: Settings) -> Policy:
    return Policy(
        idempotency_ttl=timedelta(hours=settings.idempotency_ttl_hours),
        key_secret=settings.key_secret.get_secret_value(),
        newly_escaped_years=settings.newly_escaped_years,
        personal_id_checks_per_hour=settings.personal_id_checks_per_hour,
        report_small_cells_below=settings.report_small_cells_below,
        page_size_max=settings.page_size_max,
    )


def make_services(session: AsyncSession, principal: Principal, settings: Settings) -> Services:
    return Services(session, principal, policy_of(settings))


async def get_services(
    session: SessionDep, principal: PrincipalDep, settings: SettingsDep
) -> Services:
    return make_services(session, principal, settings)


ServicesDep = Annotated[Services, Depends(get_services)]


def parse_if_match(value: str | None) -> int | None:
    if value is None or value.strip() == "*":
        return None
    match = _ETAG.match(value)
    if match is None:
        raise ValidationFailed(
            [
                FieldProblem(
                    "If-Match",
                    'expected an ETag of this service, e.g. "3"',
                    "invalid_etag",
                    location="header",
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
    # Not JSON, or nested too deeply to parse: validation will refuse the request; the raw
    # bytes are fingerprint enough.
    with contextlib.suppress(ValueError, RecursionError):
        body = json.dumps(json.loads(body), sort_keys=True).encode()
    return RequestKey.checked(
        idempotency_key,
        f"{request.method} {request.url.path}\n".encode() + body,
        FieldProblem("Idempotency-Key", "", location="header"),
    )


RequestKeyDep = Annotated[RequestKey | None, Depends(get_request_key)]
