import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Request

from api.deps import ServicesDep
from api.domain.identity.shapes import (
    DevicePublic,
    KeyPublic,
    PartnerCreate,
    PartnerPublic,
    PartnerSecret,
    UserCreate,
    UserPublic,
)
from api.routers.common import ERRORS, PROBLEM, WRITE_ERRORS

router = APIRouter(prefix="/api/v1", tags=["administration"], responses=ERRORS)


@router.post("/users", status_code=201, responses=WRITE_ERRORS)
async def create_user(svc: ServicesDep, body: UserCreate) -> UserPublic:
    """Create an account in your area, with a role below yours."""
    return await svc.identity.create_user(body)


@router.get("/users")
async def list_users(svc: ServicesDep) -> list[UserPublic]:
    """Accounts whose areas lie inside yours."""
    return await svc.identity.list_users()


DISABLE_ERRORS: dict[int | str, dict[str, object]] = {
    **WRITE_ERRORS,
    409: {
        "description": "`cannot_disable_self`: your own account; "
        "`last_admin`: the last active admin",
        **PROBLEM,
    },
}


@router.post("/users/{user_id}/disable", responses=DISABLE_ERRORS)
async def disable_user(svc: ServicesDep, user_id: uuid.UUID) -> UserPublic:
    """Disable an account; its sign-ins end at once. Nobody disables their own account, and
    the last active admin stays."""
    return await svc.identity.set_user_active(user_id, False)


@router.post("/users/{user_id}/enable", responses=WRITE_ERRORS)
async def enable_user(svc: ServicesDep, user_id: uuid.UUID) -> UserPublic:
    """Enable a disabled account."""
    return await svc.identity.set_user_active(user_id, True)


@router.get("/users/{user_id}/devices")
async def user_devices(svc: ServicesDep, user_id: uuid.UUID) -> list[DevicePublic]:
    """Devices of an account in your area (managers and supervisors of that account)."""
    return await svc.identity.devices(user_id)


@router.post("/partners", status_code=201, responses=WRITE_ERRORS)
async def create_partner(svc: ServicesDep, body: PartnerCreate) -> PartnerSecret:
    """Register a partner system. The secret is shown once; only its hash is kept."""
    return await svc.identity.create_partner(body)


@router.get("/partners")
async def list_partners(svc: ServicesDep) -> list[PartnerPublic]:
    """Registered partner systems (never their secrets)."""
    return await svc.identity.list_partners()


@router.post("/partners/{client_id}/rotate-secret", responses=WRITE_ERRORS)
async def rotate_partner_secret(svc: ServicesDep, client_id: str) -> PartnerSecret:
    """Issue a new secret; the old one stops working immediately."""
    return await svc.identity.rotate_partner_secret(client_id)


@router.get("/keys")
async def list_keys(svc: ServicesDep) -> list[KeyPublic]:
    """Token signing keys (public parts only)."""
    return await svc.identity.list_keys()


@router.post("/keys/rotate", responses=WRITE_ERRORS)
async def rotate_keys(svc: ServicesDep, request: Request) -> KeyPublic:
    """Sign new tokens with a fresh key. The retired key's private half is destroyed; tokens
    it signed stay valid until they expire, then it leaves the JWKS."""
    return await svc.identity.rotate_keys(request.app.state.keyring)


@router.post(
    "/keys/{kid}/revoke",
    responses={**WRITE_ERRORS, 404: {"description": "No such key", **PROBLEM}},
)
async def revoke_key(
    svc: ServicesDep, request: Request, kid: Annotated[str, Path(max_length=64)]
) -> KeyPublic:
    """Emergency: the key may have leaked. Every token it signed is refused at once, in every
    instance of the service, and it leaves the JWKS. If it was the signing key, a new one signs
    from now on (everyone it had signed in must sign in again)."""
    return await svc.identity.revoke_key(kid, request.app.state.keyring)
