import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Request, Response

from api.deps import AuthDep, PrincipalDep, ServicesDep
from api.domain.errors import FieldProblem, ValidationFailed
from api.domain.identity.service import me
from api.domain.identity.shapes import DeviceInfo, DevicePublic, MePublic, TokenGrant
from api.routers.common import ERRORS, PROBLEM

router = APIRouter(prefix="/api/v1/auth", tags=["authentication"], responses=ERRORS)
jwks_router = APIRouter(tags=["authentication"])

TOKEN_ERRORS: dict[int | str, dict[str, object]] = {
    400: {"description": "`invalid_grant`: wrong credentials, used or expired token", **PROBLEM},
    401: {"description": "`invalid_client`: unknown partner client or wrong secret", **PROBLEM},
    422: {"description": "Missing or malformed form fields", **PROBLEM},
    429: {"description": "`account_locked`: too many failures; see Retry-After", **PROBLEM},
}


def _required(**fields: str | None) -> dict[str, str]:
    missing = [
        FieldProblem(k, "is required for this grant_type", "missing", location="form")
        for k, v in fields.items()
        if not v
    ]
    if missing:
        raise ValidationFailed(missing)
    return {k: v for k, v in fields.items() if v}


@router.post("/token", responses=TOKEN_ERRORS)
async def issue_token(
    request: Request,
    auth: AuthDep,
    response: Response,
    grant_type: Annotated[
        Literal["password", "refresh_token", "client_credentials"], Form()
    ] = "password",
    username: Annotated[str | None, Form(max_length=64)] = None,
    password: Annotated[str | None, Form(max_length=256)] = None,
    refresh_token: Annotated[str | None, Form(max_length=200)] = None,
    client_id: Annotated[str | None, Form(max_length=64)] = None,
    client_secret: Annotated[str | None, Form(max_length=200)] = None,
    device_id: Annotated[
        uuid.UUID | None,
        Form(description="A phone's own stable id: binds the refresh token to the device"),
    ] = None,
    device_name: Annotated[str | None, Form(max_length=120)] = None,
) -> TokenGrant:
    """OAuth2 token endpoint (form-encoded).

    - `password`: staff and reviewers sign in with username and password. From a phone, add
      `device_id` and `device_name`: the refresh token is then bound to that device.
    - `refresh_token`: exchange a refresh token (and the same `device_id`) for new tokens. Each
      refresh token works once; presenting a used one revokes the whole sign-in.
    - `client_credentials`: partner systems authenticate with `client_id` and `client_secret`.
    """
    response.headers["Cache-Control"] = "no-store"
    if grant_type == "password":
        creds = _required(username=username, password=password)
        device = None
        if device_id is not None or device_name is not None:
            named = _required(device_id=str(device_id or ""), device_name=device_name)
            device = DeviceInfo(
                device_id=uuid.UUID(named["device_id"]), device_name=named["device_name"]
            )
        address = request.client.host if request.client else "unknown"
        return await auth.password_grant(creds["username"], creds["password"], address, device)
    if grant_type == "refresh_token":
        creds = _required(refresh_token=refresh_token)
        return await auth.refresh_grant(creds["refresh_token"], device_id)
    creds = _required(client_id=client_id, client_secret=client_secret)
    return await auth.client_credentials_grant(creds["client_id"], creds["client_secret"])


@router.get("/me")
async def who_am_i(principal: PrincipalDep) -> MePublic:
    """Who the token names, what it may do, where, and which personal fields it cannot see."""
    return me(principal)


@router.post("/logout", status_code=204)
async def logout(auth: AuthDep, principal: PrincipalDep) -> Response:
    """End this sign-in: its refresh tokens stop working at once."""
    await auth.logout(principal)
    return Response(status_code=204)


@router.get("/devices")
async def my_devices(svc: ServicesDep) -> list[DevicePublic]:
    """The caller's registered devices."""
    return await svc.identity.devices()


@router.post(
    "/devices/{device_id}/revoke", responses={404: {"description": "No such device", **PROBLEM}}
)
async def revoke_device(svc: ServicesDep, device_id: uuid.UUID) -> DevicePublic:
    """Revoke a lost or replaced device (its owner, or a manager of the owner's area): its
    sign-ins end and its refresh tokens stop working."""
    return await svc.identity.revoke_device(device_id)


@jwks_router.get("/.well-known/jwks.json")
async def jwks(request: Request, auth: AuthDep) -> dict[str, list[dict[str, str]]]:
    """Public keys that verify this service's access tokens (EdDSA / Ed25519), by `kid`."""
    return auth.ring.jwks()
