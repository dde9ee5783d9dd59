"""Access tokens: short-lived JWTs naming the caller's role, areas and agency."""

import uuid
from datetime import timedelta
from typing import Any

import jwt

from api.domain.access import Principal, Role
from api.domain.base import utcnow
from api.domain.errors import Unauthorized
from api.domain.identity.keys import ALGORITHM, KeyRing

REQUIRED_CLAIMS = ["iss", "aud", "exp", "iat", "nbf", "sub", "jti", "role", "areas"]


def issue_access_token(
    ring: KeyRing, principal: Principal, *, issuer: str, audience: str, lifetime: timedelta
) -> str:
    now = utcnow()
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": audience,
        "sub": principal.subject,
        "jti": uuid.uuid4().hex,
        "iat": now,
        "nbf": now,
        "exp": now + lifetime,
        "typ": "access",
        "role": principal.role.value,
        "areas": list(principal.areas),
        "agency": principal.agency,
        "sid": principal.session_id,
        "cid": principal.client,
    }
    return ring.sign(claims)


def read_access_token(ring: KeyRing, token: str, *, issuer: str, audience: str) -> Principal:
    """The principal a token names, or Unauthorized for any defect whatsoever."""
    try:
        header = jwt.get_unverified_header(token)
        kid = header.get("kid")
        if header.get("alg") != ALGORITHM or not isinstance(kid, str):
            raise Unauthorized("the token is not signed by this service")
        key = ring.public_key(kid)
        if key is None:
            raise Unauthorized("the token's signing key is unknown")
        claims = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=audience,
            issuer=issuer,
            options={"require": REQUIRED_CLAIMS},
        )
        if claims.get("typ") != "access":
            raise Unauthorized("not an access token")
        areas = claims["areas"]
        if not isinstance(areas, list) or not all(isinstance(a, str) for a in areas):
            raise Unauthorized("malformed token")
        return Principal(
            subject=str(claims["sub"]),
            role=Role(claims["role"]),
            areas=tuple(areas),
            agency=claims.get("agency"),
            session_id=claims.get("sid"),
            client=claims.get("cid"),
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("the token has expired") from exc
    except jwt.ImmatureSignatureError as exc:
        raise Unauthorized("the token is not valid yet") from exc
    except (jwt.InvalidTokenError, ValueError, KeyError) as exc:
        raise Unauthorized("the token is not valid") from exc
