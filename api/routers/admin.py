import uuid

from fastapi import APIRouter, Request

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
from api.routers.common import ERRORS, WRITE_ERRORS

router = APIRouter(prefix="/api/v1", tags=["administration"], responses=ERRORS)


@router.post("/users", status_code=201, responses=WRITE_ERRORS)
async def create_user(svc: ServicesDep, body: UserCreate) -> UserPublic:
    """Create an account in your area, with a role below yours."""
    return await svc.identity.create_user(body)


@router.get("/users")
async def list_users(svc: ServicesDep) -> list[UserPublic]:
    """Accounts whose areas lie inside yours."""
    return await svc.identity.list_users()


@router.post("/users/{user_id}/disable", responses=WRITE_ERRORS)
async def disable_user(svc: ServicesDep, user_id: uuid.UUID) -> UserPublic:
    """Disable an account; its sign-ins end at once."""
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
    """Sign new tokens with a fresh key. Tokens signed before stay valid until they expire."""
    return await svc.identity.rotate_keys(request.app.state.keyring)
