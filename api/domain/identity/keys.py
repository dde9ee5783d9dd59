"""Token signing keys: Ed25519, encrypted at rest, rotated without logging anyone out."""

import base64
import hashlib
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.domain.base import utcnow
from api.domain.identity.models import SigningKey

ALGORITHM = "EdDSA"
RELOAD_INTERVAL_S = 300


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


class KeyRing:
    """The keys this process signs and verifies with, loaded from the database."""

    def __init__(self, secret: str) -> None:
        self._secret = secret
        self._keys: dict[str, _Loaded] = {}
        self._active: str | None = None
        self._loaded_at: float | None = None

    async def load(self, session: AsyncSession, *, create_if_empty: bool = True) -> None:
        rows = list(
            (await session.scalars(select(SigningKey).order_by(col(SigningKey.created_at)))).all()
        )
        if not rows and create_if_empty:
            session.add(new_signing_key(self._secret))
            await session.commit()
            rows = list((await session.scalars(select(SigningKey))).all())
        fernet = _fernet(self._secret)
        keys: dict[str, _Loaded] = {}
        for row in rows:
            private = None
            if row.retired_at is None:
                loaded = serialization.load_pem_private_key(
                    fernet.decrypt(row.private_key.encode()), password=None
                )
                assert isinstance(loaded, Ed25519PrivateKey)
                private = loaded
            public_raw = base64.urlsafe_b64decode(row.public_jwk["x"] + "==")
            keys[row.kid] = _Loaded(
                row.kid, private, Ed25519PublicKey.from_public_bytes(public_raw), row.public_jwk
            )
        self._keys = keys
        self._loaded_at = time.monotonic()
        active = [row.kid for row in rows if row.retired_at is None]
        self._active = active[-1] if active else None

    async def ensure_loaded(self, session: AsyncSession) -> None:
        """Load once, then again every RELOAD_INTERVAL so rotations elsewhere reach us."""
        if self._loaded_at is None or time.monotonic() - self._loaded_at > RELOAD_INTERVAL_S:
            await self.load(session)

    def knows(self, kid: str) -> bool:
        return kid in self._keys

    def sign(self, claims: dict[str, Any]) -> str:
        if self._active is None:
            raise RuntimeError("no active signing key")
        key = self._keys[self._active]
        assert key.private is not None
        return jwt.encode(claims, key.private, algorithm=ALGORITHM, headers={"kid": key.kid})

    def public_key(self, kid: str) -> Ed25519PublicKey | None:
        key = self._keys.get(kid)
        return None if key is None else key.public

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        return {"keys": [k.jwk for k in self._keys.values()]}


async def rotate(session: AsyncSession, secret: str) -> SigningKey:
    """A new key signs from now on; the previous ones keep verifying until tokens expire."""
    now = utcnow()
    for row in (
        await session.scalars(select(SigningKey).where(col(SigningKey.retired_at).is_(None)))
    ).all():
        row.retired_at = now
    key = new_signing_key(secret)
    session.add(key)
    await session.flush()
    return key
