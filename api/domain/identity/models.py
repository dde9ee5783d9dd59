import uuid
from datetime import datetime

from sqlalchemy import JSON, Text
from sqlmodel import Field, SQLModel

from api.domain.access import Role
from api.domain.base import enum_type, utc_field, utcnow

USERNAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{2,63}$"


class UserAccount(SQLModel, table=True):
    __tablename__ = "user_account"

    id: uuid.UUID = Field(primary_key=True)
    username: str = Field(max_length=64, unique=True)
    full_name: str = Field(max_length=120)
    password_hash: str = Field(max_length=255)
    role: Role = Field(sa_type=enum_type(Role))
    # Unit codes the user works in; resolved to paths when a token is issued.
    area_codes: list[str] = Field(default_factory=list, sa_type=JSON)
    agency: str | None = Field(default=None, max_length=64)
    active: bool = True
    version: int = 1
    created_at: datetime = utc_field(default_factory=utcnow)
    updated_at: datetime = utc_field(default_factory=utcnow)


class LoginThrottle(SQLModel, table=True):
    """Failed sign-ins per account name and per client address (names need not exist)."""

    __tablename__ = "login_throttle"

    key: str = Field(primary_key=True, max_length=200)
    failures: int = 0
    window_started_at: datetime = utc_field(default_factory=utcnow)
    locked_until: datetime | None = utc_field(default=None, nullable=True)


class Device(SQLModel, table=True):
    __tablename__ = "device"

    id: uuid.UUID = Field(primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="user_account.id", index=True)
    name: str = Field(max_length=120)
    created_at: datetime = utc_field(default_factory=utcnow)
    last_seen_at: datetime = utc_field(default_factory=utcnow)
    revoked_at: datetime | None = utc_field(default=None, nullable=True)
    revoked_reason: str | None = Field(default=None, max_length=120)


class Session(SQLModel, table=True):
    """One sign-in: the family of rotating refresh tokens that descends from it."""

    __tablename__ = "auth_session"

    id: uuid.UUID = Field(primary_key=True)
    subject: str = Field(max_length=120, index=True)
    device_id: uuid.UUID | None = Field(default=None, foreign_key="device.id", index=True)
    created_at: datetime = utc_field(default_factory=utcnow)
    expires_at: datetime = utc_field()
    revoked_at: datetime | None = utc_field(default=None, nullable=True)
    revoked_reason: str | None = Field(default=None, max_length=120)


class RefreshToken(SQLModel, table=True):
    __tablename__ = "refresh_token"

    token_hash: str = Field(primary_key=True, max_length=64)
    session_id: uuid.UUID = Field(foreign_key="auth_session.id", index=True)
    issued_at: datetime = utc_field(default_factory=utcnow)
    expires_at: datetime = utc_field()
    used_at: datetime | None = utc_field(default=None, nullable=True)


class PartnerClient(SQLModel, table=True):
    __tablename__ = "partner_client"

    client_id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    agency: str = Field(max_length=64)
    secret_hash: str = Field(max_length=255)
    area_codes: list[str] = Field(default_factory=list, sa_type=JSON)
    active: bool = True
    created_at: datetime = utc_field(default_factory=utcnow)
    secret_rotated_at: datetime = utc_field(default_factory=utcnow)


class SigningKey(SQLModel, table=True):
    __tablename__ = "signing_key"

    kid: str = Field(primary_key=True, max_length=64)
    algorithm: str = Field(max_length=16)
    # PEM, encrypted with the key secret; destroyed (null) once the key is retired.
    private_key: str | None = Field(default=None, sa_type=Text, nullable=True)
    public_jwk: dict[str, str] = Field(sa_type=JSON)
    created_at: datetime = utc_field(default_factory=utcnow)
    # A retired key signs nothing new and verifies only until `verifies_until`: retirement
    # plus the access-token lifetime, when the last token it signed has expired.
    retired_at: datetime | None = utc_field(default=None, nullable=True)
    verifies_until: datetime | None = utc_field(default=None, nullable=True)
    # Revoked (it may have leaked): verifies nothing from that moment, in every process.
    revoked_at: datetime | None = utc_field(default=None, nullable=True)
