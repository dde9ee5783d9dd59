import uuid
from datetime import datetime

from sqlmodel import Field, SQLModel

from api.domain.access import Role
from api.domain.base import Input
from api.domain.identity.models import USERNAME_PATTERN

CLIENT_ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{2,63}$"


class TokenGrant(SQLModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int = Field(description="Seconds until the access token expires")
    refresh_token: str | None = Field(
        default=None, description="Rotating; each use returns a new one and retires the old"
    )
    refresh_expires_in: int | None = None


class DeviceInfo(SQLModel):
    device_id: uuid.UUID
    device_name: str = Field(min_length=1, max_length=120)


class HiddenFields(SQLModel):
    entity: str
    fields: list[str]


class MePublic(SQLModel):
    subject: str
    role: Role
    areas: list[str] = Field(description="Administrative paths the caller may see")
    agency: str | None
    permissions: list[str]
    hidden_fields: list[HiddenFields] = Field(
        description="Personal fields masked for this caller, by record type"
    )


class DevicePublic(SQLModel):
    id: uuid.UUID
    user_id: uuid.UUID
    name: str
    created_at: datetime
    last_seen_at: datetime
    revoked_at: datetime | None
    revoked_reason: str | None


class UserCreate(Input):
    username: str = Field(schema_extra={"pattern": USERNAME_PATTERN}, max_length=64)
    full_name: str = Field(min_length=1, max_length=120)
    password: str = Field(min_length=12, max_length=256)
    role: Role
    area_codes: list[str] = Field(default_factory=list, max_length=50)
    agency: str | None = Field(default=None, max_length=64)


class UserPublic(SQLModel):
    id: uuid.UUID
    username: str
    full_name: str
    role: Role
    area_codes: list[str]
    agency: str | None
    active: bool
    created_at: datetime


class PartnerCreate(Input):
    client_id: str = Field(schema_extra={"pattern": CLIENT_ID_PATTERN}, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    agency: str = Field(min_length=1, max_length=64)
    area_codes: list[str] = Field(min_length=1, max_length=50)


class PartnerPublic(SQLModel):
    client_id: str
    name: str
    agency: str
    area_codes: list[str]
    active: bool
    created_at: datetime
    secret_rotated_at: datetime


class PartnerSecret(SQLModel):
    client_id: str
    client_secret: str = Field(description="Shown once; only a hash is kept")


class KeyPublic(SQLModel):
    kid: str
    algorithm: str
    created_at: datetime
    retired_at: datetime | None = Field(description="When it stopped signing")
    verifies_until: datetime | None = Field(
        description="A retired key verifies tokens until then (its last token's expiry)"
    )
    revoked_at: datetime | None = Field(description="Revoked: verifies nothing from then on")
