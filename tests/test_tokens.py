"""Tokens: the real sign-in flows, and every kind of defective token refused with 401."""

import base64
import json
import uuid
from datetime import timedelta
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI

from api.domain.access import Principal, Role
from api.domain.base import utcnow
from api.domain.identity.keys import KeyRing
from api.domain.identity.tokens import issue_access_token
from api.domain.services import Services
from tests.identity import (
    PARTNER_SECRET,
    bearer,
    make_partner,
    make_user,
    partner_token,
    sign_in,
)

ISS, AUD = "giamngheo-api", "giamngheo"


async def _me(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.get("/api/v1/auth/me", headers=bearer(token))


def _assert_refused(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "unauthorized"
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_sign_in_and_me(anonymous_client: httpx.AsyncClient, services: Services) -> None:
    username = await make_user(services, Role.REVIEWER, ["13384"])
    grant = await sign_in(anonymous_client, username)
    assert grant["token_type"] == "bearer"
    assert grant["expires_in"] == 15 * 60
    assert grant["refresh_token"]
    me = (await _me(anonymous_client, grant["access_token"])).json()
    assert me["role"] == "reviewer"
    assert me["areas"] == ["37/13384"]
    assert "households:write" in me["permissions"]
    assert "users:manage" not in me["permissions"]
    anonymous = await anonymous_client.get("/api/v1/households")
    _assert_refused(anonymous)


def _claims(**overrides: Any) -> dict[str, Any]:
    now = utcnow()
    claims: dict[str, Any] = {
        "iss": ISS,
        "aud": AUD,
        "sub": "user:x",
        "jti": uuid.uuid4().hex,
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(minutes=5),
        "typ": "access",
        "role": "admin",
        "areas": [""],
        "agency": None,
        "sid": None,
        "cid": None,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not ...}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _forgeries(ring: KeyRing, valid: str) -> dict[str, str]:
    kid = jwt.get_unverified_header(valid)["kid"]
    header, payload, signature = valid.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    tampered = _b64(json.dumps({**claims, "role": "admin", "areas": [""]}).encode())
    stranger = Ed25519PrivateKey.generate()
    public_raw = ring.public_key(kid).public_bytes(  # type: ignore[union-attr]
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return {
        "tampered payload": f"{header}.{tampered}.{signature}",
        "another key, same kid": jwt.encode(
            _claims(), stranger, algorithm="EdDSA", headers={"kid": kid}
        ),
        "alg none": f"{_b64(json.dumps({'alg': 'none', 'kid': kid}).encode())}."
        f"{_b64(json.dumps(_claims(), default=str).encode())}.",
        "HS256 with the public key": jwt.encode(
            _claims(), public_raw, algorithm="HS256", headers={"kid": kid}
        ),
        "expired": ring.sign(_claims(exp=utcnow() - timedelta(seconds=5))),
        "not yet valid": ring.sign(_claims(nbf=utcnow() + timedelta(minutes=5))),
        "wrong audience": ring.sign(_claims(aud="someone-else")),
        "wrong issuer": ring.sign(_claims(iss="someone-else")),
        "missing areas": ring.sign(_claims(areas=...)),
        "unknown kid": jwt.encode(
            _claims(), stranger, algorithm="EdDSA", headers={"kid": "not-a-key"}
        ),
        "refresh token as access token": ring.sign(_claims(typ="refresh")),
        "unknown role": ring.sign(_claims(role="emperor")),
        "garbage": "not.a.token",
    }


async def test_defective_tokens_are_refused(
    anonymous_client: httpx.AsyncClient, anonymous_app: FastAPI, services: Services
) -> None:
    username = await make_user(services, Role.REVIEWER, ["13384"])
    valid = (await sign_in(anonymous_client, username))["access_token"]
    assert (await _me(anonymous_client, valid)).status_code == 200
    ring: KeyRing = anonymous_app.state.keyring
    for name, token in _forgeries(ring, valid).items():
        response = await _me(anonymous_client, token)
        assert response.status_code == 401, f"{name}: {response.text}"
        _assert_refused(response)


async def test_logout_revokes_the_session(
    anonymous_client: httpx.AsyncClient, services: Services
) -> None:
    grant = await sign_in(anonymous_client, await make_user(services, Role.REVIEWER, ["13384"]))
    out = await anonymous_client.post("/api/v1/auth/logout", headers=bearer(grant["access_token"]))
    assert out.status_code == 204
    _assert_refused(await _me(anonymous_client, grant["access_token"]))
    refresh = await anonymous_client.post(
        "/api/v1/auth/token",
        data={"grant_type": "refresh_token", "refresh_token": grant["refresh_token"]},
    )
    assert refresh.status_code == 400
    assert refresh.json()["code"] == "invalid_grant"


async def test_device_refresh_rotates_and_reuse_revokes_the_family(
    anonymous_client: httpx.AsyncClient, services: Services
) -> None:
    username = await make_user(services, Role.REVIEWER, ["13384"])
    device = str(uuid.uuid4())
    first = await sign_in(anonymous_client, username, device_id=device, device_name="Máy A")

    async def refresh(token: str, device_id: str = device) -> httpx.Response:
        return await anonymous_client.post(
            "/api/v1/auth/token",
            data={"grant_type": "refresh_token", "refresh_token": token, "device_id": device_id},
        )

    wrong_device = await refresh(first["refresh_token"], str(uuid.uuid4()))
    assert wrong_device.json()["code"] == "invalid_grant"
    second = await refresh(first["refresh_token"])
    assert second.status_code == 200
    assert second.json()["refresh_token"] != first["refresh_token"]
    third = (await refresh(second.json()["refresh_token"])).json()
    assert (await _me(anonymous_client, third["access_token"])).status_code == 200

    reused = await refresh(first["refresh_token"])  # stolen copy of a rotated token
    assert reused.status_code == 400
    assert reused.json()["code"] == "invalid_grant"
    _assert_refused(await _me(anonymous_client, third["access_token"]))
    assert (await refresh(third["refresh_token"])).status_code == 400


async def test_revoked_device_cannot_refresh(
    anonymous_client: httpx.AsyncClient, services: Services
) -> None:
    reviewer = await make_user(services, Role.REVIEWER, ["13384"])
    officer = await make_user(services, Role.COMMUNE_OFFICER, ["13384"])
    device = str(uuid.uuid4())
    grant = await sign_in(anonymous_client, reviewer, device_id=device, device_name="Máy B")
    officer_token = (await sign_in(anonymous_client, officer))["access_token"]
    mine = (
        await anonymous_client.get("/api/v1/auth/devices", headers=bearer(grant["access_token"]))
    ).json()
    assert [d["id"] for d in mine] == [device]
    revoked = await anonymous_client.post(
        f"/api/v1/auth/devices/{device}/revoke", headers=bearer(officer_token)
    )
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    refresh = await anonymous_client.post(
        "/api/v1/auth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": grant["refresh_token"],
            "device_id": device,
        },
    )
    assert refresh.json()["code"] == "invalid_grant"
    _assert_refused(await _me(anonymous_client, grant["access_token"]))


async def test_key_rotation_logs_nobody_out(
    anonymous_client: httpx.AsyncClient, services: Services
) -> None:
    admin = (await sign_in(anonymous_client, await make_user(services, Role.ADMIN, [])))[
        "access_token"
    ]
    old_kid = jwt.get_unverified_header(admin)["kid"]
    rotated = await anonymous_client.post("/api/v1/keys/rotate", headers=bearer(admin))
    assert rotated.status_code == 200
    new_kid = rotated.json()["kid"]
    assert new_kid != old_kid
    assert (await _me(anonymous_client, admin)).status_code == 200
    fresh = (await sign_in(anonymous_client, await make_user(services, Role.REVIEWER, ["13384"])))[
        "access_token"
    ]
    assert jwt.get_unverified_header(fresh)["kid"] == new_kid
    jwks = (await anonymous_client.get("/.well-known/jwks.json")).json()
    published = {k["kid"]: k for k in jwks["keys"]}
    assert {old_kid, new_kid} <= set(published)
    claims = jwt.decode(
        fresh, jwt.PyJWK(published[new_kid]).key, algorithms=["EdDSA"], audience=AUD, issuer=ISS
    )
    assert claims["role"] == "reviewer"


async def test_partner_client_credentials(
    anonymous_client: httpx.AsyncClient, services: Services
) -> None:
    client_id = await make_partner(services)
    token = await partner_token(anonymous_client, client_id)
    me = (await _me(anonymous_client, token)).json()
    assert (me["role"], me["agency"], me["areas"]) == ("partner", "social_insurance", ["37"])
    wrong = await anonymous_client.post(
        "/api/v1/auth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": "nope"},
    )
    assert wrong.status_code == 401
    assert wrong.json()["code"] == "invalid_client"
    admin = (await sign_in(anonymous_client, await make_user(services, Role.ADMIN, [])))[
        "access_token"
    ]
    rotated = (
        await anonymous_client.post(
            f"/api/v1/partners/{client_id}/rotate-secret", headers=bearer(admin)
        )
    ).json()
    assert rotated["client_secret"] != PARTNER_SECRET
    old = await anonymous_client.post(
        "/api/v1/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": PARTNER_SECRET,
        },
    )
    assert old.json()["code"] == "invalid_client"
    listed = (await anonymous_client.get("/api/v1/partners", headers=bearer(admin))).json()
    assert "secret" not in str(listed).replace("secret_rotated_at", "")


async def test_disabled_user_is_signed_out(
    anonymous_client: httpx.AsyncClient, services: Services
) -> None:
    reviewer = await make_user(services, Role.REVIEWER, ["13384"])
    officer = await make_user(services, Role.COMMUNE_OFFICER, ["13384"])
    token = (await sign_in(anonymous_client, reviewer))["access_token"]
    officer_token = (await sign_in(anonymous_client, officer))["access_token"]
    users = (await anonymous_client.get("/api/v1/users", headers=bearer(officer_token))).json()
    target = next(u for u in users if u["username"] == reviewer)
    disabled = await anonymous_client.post(
        f"/api/v1/users/{target['id']}/disable", headers=bearer(officer_token)
    )
    assert disabled.json()["active"] is False
    _assert_refused(await _me(anonymous_client, token))
    again = await anonymous_client.post(
        "/api/v1/auth/token", data={"username": reviewer, "password": "x" * 12}
    )
    assert again.json()["code"] == "invalid_grant"


@pytest.mark.parametrize("grant", ["password", "refresh_token", "client_credentials"])
async def test_missing_form_fields_name_the_field(
    anonymous_client: httpx.AsyncClient, grant: str
) -> None:
    response = await anonymous_client.post("/api/v1/auth/token", data={"grant_type": grant})
    assert response.status_code == 422
    assert all(e["path"].startswith("form.") for e in response.json()["errors"])


async def test_issued_tokens_carry_the_documented_claims(
    anonymous_app: FastAPI, services: Services
) -> None:
    ring: KeyRing = anonymous_app.state.keyring
    await ring.ensure_loaded(services.session)
    token = issue_access_token(
        ring,
        Principal(subject="user:x", role=Role.SUPERVISOR, areas=("37",)),
        issuer=ISS,
        audience=AUD,
        lifetime=timedelta(minutes=15),
    )
    claims = jwt.decode(token, options={"verify_signature": False})
    assert {
        "iss",
        "aud",
        "sub",
        "jti",
        "iat",
        "nbf",
        "exp",
        "role",
        "areas",
        "agency",
        "sid",
        "cid",
    } <= set(claims)
    assert claims["exp"] - claims["iat"] == 15 * 60


async def test_graphql_ide_opens_without_a_token_but_queries_need_one(
    anonymous_client: httpx.AsyncClient,
) -> None:
    page = await anonymous_client.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "graphiql" in page.text.lower()
    answer = (await anonymous_client.post("/graphql", json={"query": "{ me { role } }"})).json()
    assert answer["errors"][0]["extensions"]["code"] == "unauthorized"
