"""Token signing keys: Ed25519, encrypted at rest, rotated without logging anyone out, and
revocable at once when one may have leaked."""

import base64
import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.domain.base import utcnow
from api.domain.errors import NotFound
from api.domain.identity.models import SigningKey
from api.domain.uow import UnitOfWork

ALGORITHM = "EdDSA"


def _fernet(secret: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(secret.encode()).digest()))


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def new_signing_key(secret: str) -> SigningKey:
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    raw_public = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    kid = uuid.uuid4().hex[:16]
    return SigningKey(
        kid=kid,
        algorithm=ALGORITHM,
        private_key=_fernet(secret).encrypt(pem).decode(),
        public_jwk={
            "kty": "OKP",
            "crv": "Ed25519",
            "x": _b64url(raw_public),
            "kid": kid,
            "alg": ALGORITHM,
            "use": "sig",
        },
    )


@dataclass(frozen=True)
class _Loaded:
    kid: str
    private: Ed25519PrivateKey | None
    public: Ed25519PublicKey
    jwk: dict[str, str]
    verifies_until: datetime | None


def _in_force(now: datetime) -> ColumnElement[bool]:
    """Keys that may verify a token: not revoked, and (if retired) not past their window."""
    return and_(
        col(SigningKey.revoked_at).is_(None),
        or_(col(SigningKey.verifies_until).is_(None), col(SigningKey.verifies_until) > now),
    )


class KeyRing:
    """The keys this process signs and verifies with, loaded from the database.

    `token_lifetime` is how long an access token lives: a retired key verifies that long after
    its retirement, since no token it signed can outlive that."""

    def __init__(self, secret: str, token_lifetime: timedelta) -> None:
        self._secret = secret
        self.token_lifetime = token_lifetime
        self._keys: dict[str, _Loaded] = {}
        self._active: str | None = None
        self._state: frozenset[tuple[str, bool]] | None = None

    async def load(self, uow: UnitOfWork, *, create_if_empty: bool = True) -> None:
        session = uow.session
        now = utcnow()
        in_force = select(SigningKey).where(_in_force(now)).order_by(col(SigningKey.created_at))
        rows = list((await session.scalars(in_force)).all())
        if create_if_empty and all(row.retired_at is not None for row in rows):
            session.add(new_signing_key(self._secret))
            await uow.finish()
            rows = list((await session.scalars(in_force)).all())
        fernet = _fernet(self._secret)
        keys: dict[str, _Loaded] = {}
        for row in rows:
            private = None
            if row.retired_at is None and row.private_key is not None:
                loaded = serialization.load_pem_private_key(
                    fernet.decrypt(row.private_key.encode()), password=None
                )
                assert isinstance(loaded, Ed25519PrivateKey)
                private = loaded
            public_raw = base64.urlsafe_b64decode(row.public_jwk["x"] + "==")
            keys[row.kid] = _Loaded(
                row.kid,
                private,
                Ed25519PublicKey.from_public_bytes(public_raw),
                row.public_jwk,
                row.verifies_until,
            )
        self._keys = keys
        self._state = frozenset((row.kid, row.retired_at is None) for row in rows)
        active = [kid for kid, key in keys.items() if key.private is not None]
        self._active = active[-1] if active else None

    async def ensure_loaded(self, uow: UnitOfWork) -> None:
        """Reload whenever the keys in force differ from those loaded: a rotation, retirement,
        expiry or revocation anywhere reaches this process on its next request."""
        rows = await uow.session.execute(
            select(col(SigningKey.kid), col(SigningKey.retired_at)).where(_in_force(utcnow()))
        )
        state = frozenset((kid, retired is None) for kid, retired in rows.all())
        if state != self._state or self._active is None:
            await self.load(uow)

    def sign(self, claims: dict[str, Any]) -> str:
        if self._active is None:
            raise RuntimeError("no active signing key")
        key = self._keys[self._active]
        assert key.private is not None
        return jwt.encode(claims, key.private, algorithm=ALGORITHM, headers={"kid": key.kid})

    def _verifying(self) -> list[_Loaded]:
        now = utcnow()
        return [
            k for k in self._keys.values() if k.verifies_until is None or k.verifies_until > now
        ]

    def public_key(self, kid: str) -> Ed25519PublicKey | None:
        return next((k.public for k in self._verifying() if k.kid == kid), None)

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        return {"keys": [k.jwk for k in self._verifying()]}


def _retire(row: SigningKey, now: datetime, token_lifetime: timedelta) -> None:
    # The private half is destroyed, not kept: a stolen backup cannot sign with a retired key.
    row.retired_at, row.private_key = now, None
    row.verifies_until = now + token_lifetime


async def rotate(session: AsyncSession, secret: str, token_lifetime: timedelta) -> SigningKey:
    """A new key signs from now on; the previous ones verify until their tokens expire."""
    now = utcnow()
    active = select(SigningKey).where(col(SigningKey.retired_at).is_(None)).with_for_update()
    for row in (await session.scalars(active)).all():
        _retire(row, now, token_lifetime)
    key = new_signing_key(secret)
    session.add(key)
    await session.flush()
    return key


async def revoke(
    session: AsyncSession, kid: str, secret: str, token_lifetime: timedelta
) -> tuple[SigningKey, bool]:
    """Stop trusting a key at once (it may have leaked); a new one signs if it was signing.
    Returns the key and whether it was revoked just now."""
    row = await session.get(SigningKey, kid, with_for_update=True, populate_existing=True)
    if row is None:
        raise NotFound(f"no signing key {kid!r}")
    if row.revoked_at is not None:
        return row, False
    if row.retired_at is None:
        await rotate(session, secret, token_lifetime)
    now = utcnow()
    row.revoked_at, row.verifies_until, row.private_key = now, now, None
    await session.flush()
    return row, True
