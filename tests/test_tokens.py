"""Tokens through the real token endpoint and real requests: what sign-in hands out, and every
kind of defective, forged, revoked or replayed token refused."""

import base64
import hashlib
import hmac
import itertools
import json
import time
import uuid
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI

from api.domain.access import Role
from api.domain.identity.keys import KeyRing
from api.domain.identity.shapes import PartnerCreate, UserCreate
from api.domain.services import Services

PASSWORD = "correct horse battery staple"
TOKEN_URL = "/api/v1/auth/token"
ISSUER, AUDIENCE = "giamngheo-api", "giamngheo"
_serial = itertools.count(1)


async def _user(services: Services, role: Role, codes: list[str]) -> str:
    username = f"tok-{role.value.replace('_', '-')}-{next(_serial)}"
    await services.identity.create_user(
        UserCreate(
            username=username, full_name=username, password=PASSWORD, role=role, area_codes=codes
        )
    )
    return username


async def _sign_in(client: httpx.AsyncClient, username: str, **form: str) -> dict[str, Any]:
    response = await client.post(
        TOKEN_URL,
        data={"grant_type": "password", "username": username, "password": PASSWORD, **form},
    )
    assert response.status_code == 200, response.text
    grant: dict[str, Any] = response.json()
    return grant


async def _refresh(
    client: httpx.AsyncClient, refresh_token: str, device_id: str | None = None
) -> httpx.Response:
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    if device_id is not None:
        form["device_id"] = device_id
    return await client.post(TOKEN_URL, data=form)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _me(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.get("/api/v1/auth/me", headers=_bearer(token))


def _refused(response: httpx.Response) -> str | None:
    """Why the answer is not a proper 401 refusal, or None if it is one."""
    if response.status_code != 401:
        return f"status {response.status_code}: {response.text[:200]}"
    if response.headers.get("content-type") != "application/problem+json":
        return f"content-type {response.headers.get('content-type')}"
    if response.json().get("code") != "unauthorized":
        return f"code {response.json().get('code')}"
    if not response.headers.get("www-authenticate", "").startswith("Bearer"):
        return "no WWW-Authenticate: Bearer"
    return None


def _assert_refused(response: httpx.Response) -> None:
    assert _refused(response) is None, _refused(response)


def _invalid_grant(response: httpx.Response) -> None:
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert (response.json()["code"], response.json()["error"]) == ("invalid_grant",) * 2


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _segment(value: dict[str, Any]) -> str:
    return _b64(json.dumps(value, separators=(",", ":")).encode())


def _claims_of(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def _hs256(claims: dict[str, Any], kid: str, secret: bytes) -> str:
    """An HS256 token made by hand: PyJWT rightly refuses to use a public key as an HMAC key."""
    signing_input = f"{_segment({'alg': 'HS256', 'typ': 'JWT', 'kid': kid})}.{_segment(claims)}"
    digest = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(digest)}"


async def test_password_grant_returns_access_and_refresh_tokens(
    anonymous_client: httpx.AsyncClient, services: Services
) -> None:
    username = await _user(services, Role.REVIEWER, ["13384"])
    response = await anonymous_client.post(
        TOKEN_URL, data={"grant_type": "password", "username": username, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    grant = response.json()
    assert grant["token_type"] == "bearer"
    assert grant["expires_in"] == 15 * 60
    assert grant["refresh_expires_in"] == 30 * 24 * 3600
    assert len(grant["refresh_token"]) >= 40
    assert grant["refresh_token"] not in grant["access_token"]

    header = jwt.get_unverified_header(grant["access_token"])
    claims = _claims_of(grant["access_token"])
    assert header["alg"] == "EdDSA"
    jwks = (await anonymous_client.get("/.well-known/jwks.json")).json()
    assert header["kid"] in {k["kid"] for k in jwks["keys"]}
    assert (claims["iss"], claims["aud"], claims["typ"]) == (ISSUER, AUDIENCE, "access")
    assert (claims["role"], claims["areas"]) == ("reviewer", ["37/13384"])
    assert claims["sub"].startswith("user:")
    assert claims["sid"]
    assert claims["exp"] - claims["iat"] == 15 * 60
    assert PASSWORD not in json.dumps(claims)


async def test_me_returns_role_areas_and_permissions(
    anonymous_client: httpx.AsyncClient, services: Services
) -> None:
    reviewer = await _user(services, Role.REVIEWER, ["13384"])
    district = await _user(services, Role.DISTRICT_OFFICER, ["13393", "13384", "13396"])
    token = (await _sign_in(anonymous_client, reviewer))["access_token"]
    me = (await _me(anonymous_client, token)).json()
    assert me["subject"] == _claims_of(token)["sub"]
    assert (me["role"], me["areas"], me["agency"]) == ("reviewer", ["37/13384"], None)
    assert me["permissions"] == [
        "changes:read",
        "households:read",
        "households:write",
        "personal-data:read",
        "review:read",
        "review:survey",
        "units:read",
    ]
    assert me["hidden_fields"] == [
        {"entity": "household", "fields": []},
        {"entity": "member", "fields": []},
        {"entity": "need", "fields": []},
        {"entity": "delivery", "fields": []},
    ]
    token = (await _sign_in(anonymous_client, district))["access_token"]
    me = (await _me(anonymous_client, token)).json()
    assert me["role"] == "district_officer"
    assert me["areas"] == ["37/13384", "37/13393", "37/13396"]
    assert "households:write" not in me["permissions"]
    assert {"users:manage", "devices:manage"} <= set(me["permissions"])


async def test_forged_and_defective_tokens_are_refused(
    anonymous_client: httpx.AsyncClient, anonymous_app: FastAPI, services: Services
) -> None:
    username = await _user(services, Role.REVIEWER, ["13384"])
    real = (await _sign_in(anonymous_client, username))["access_token"]
    someone_else = await _user(services, Role.REVIEWER, ["13384"])
    their_session = _claims_of((await _sign_in(anonymous_client, someone_else))["access_token"])
    ring: KeyRing = anonymous_app.state.keyring
    kid = jwt.get_unverified_header(real)["kid"]
    claims = _claims_of(real)
    now = int(time.time())

    def signed(**changes: Any) -> str:
        """The real claims, changed, signed with the service's own key."""
        return ring.sign({k: v for k, v in {**claims, **changes}.items() if v is not ...})

    # The control: the same claims signed again by the service are accepted.
    assert (await _me(anonymous_client, signed())).status_code == 200

    head, payload, signature = real.split(".")
    stranger = Ed25519PrivateKey.generate()
    public = ring.public_key(kid)
    assert public is not None
    raw_public = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    pem_public = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    escalated = {**claims, "role": "admin", "areas": [""]}
    forgeries: dict[str, str] = {
        "tampered payload, signature kept": f"{head}.{_segment(escalated)}.{signature}",
        "lifetime extended, signature kept": (
            f"{head}.{_segment({**claims, 'exp': now + 86400})}.{signature}"
        ),
        "signature removed": f"{head}.{payload}.",
        "signed with another Ed25519 key, same kid": jwt.encode(
            escalated, stranger, algorithm="EdDSA", headers={"kid": kid}
        ),
        "alg none": f"{_segment({'alg': 'none', 'kid': kid})}.{_segment(escalated)}.",
        "alg None with the real signature": (
            f"{_segment({'alg': 'None', 'kid': kid})}.{payload}.{signature}"
        ),
        "HS256 keyed with the raw public key": _hs256(escalated, kid, raw_public),
        "HS256 keyed with the PEM public key": _hs256(escalated, kid, pem_public),
        "HS256 keyed with the JWK x value": _hs256(escalated, kid, _b64(raw_public).encode()),
        "expired": signed(iat=now - 3600, nbf=now - 3600, exp=now - 60),
        "not yet valid": signed(nbf=now + 600, exp=now + 1200),
        "wrong audience": signed(aud="another-service"),
        "wrong issuer": signed(iss="https://evil.example"),
        "unknown kid": jwt.encode(claims, stranger, algorithm="EdDSA", headers={"kid": "k-0"}),
        "no kid": jwt.encode(claims, stranger, algorithm="EdDSA"),
        "not an access token": signed(typ="refresh"),
        "unknown role": signed(role="emperor"),
        "areas not a list of paths": signed(areas="37"),
        "garbage": "garbage",
        "three garbage segments": "abc.def.ghi",
        "header only": _segment({"alg": "EdDSA", "kid": kid}),
        "empty signature segments": "..",
        "a person's token without a session": signed(sid=...),
        "a session that does not exist": signed(sid=str(uuid.uuid4())),
        "a session id that is no id": signed(sid="not-a-session"),
        "another account's session": signed(sid=their_session["sid"]),
    }
    for claim in ("iss", "aud", "exp", "iat", "nbf", "sub", "jti", "role", "areas", "typ"):
        forgeries[f"missing claim {claim}"] = signed(**{claim: ...})

    wrong = {}
    for name, token in forgeries.items():
        reason = _refused(await _me(anonymous_client, token))
        if reason:
            wrong[name] = reason
    assert wrong == {}

    for header in ("Basic " + _b64(b"admin:admin"), f"Token {real}", "Bearer", "Bearer  "):
        response = await anonymous_client.get("/api/v1/auth/me", headers={"Authorization": header})
        _assert_refused(response)
    # A token the service cannot read is refused at the GraphQL door too, before any field.
    graphql = await anonymous_client.post(
        "/graphql",
        json={"query": "{ me { role } }"},
        headers=_bearer(forgeries["tampered payload, signature kept"]),
    )
    _assert_refused(graphql)


async def test_logout_revokes_the_session_and_only_that_one(
    anonymous_client: httpx.AsyncClient, services: Services
) -> None:
    username = await _user(services, Role.REVIEWER, ["13384"])
    grant = await _sign_in(anonymous_client, username)
    other = await _sign_in(anonymous_client, username)
    out = await anonymous_client.post("/api/v1/auth/logout", headers=_bearer(grant["access_token"]))
    assert out.status_code == 204
    _assert_refused(await _me(anonymous_client, grant["access_token"]))
    _assert_refused(
        await anonymous_client.post(
            "/graphql", json={"query": "{ me { role } }"}, headers=_bearer(grant["access_token"])
        )
    )
    _invalid_grant(await _refresh(anonymous_client, grant["refresh_token"]))
    # The same person's other sign-in is untouched.
    assert (await _me(anonymous_client, other["access_token"])).status_code == 200
    assert (await _refresh(anonymous_client, other["refresh_token"])).status_code == 200


async def test_refresh_rotates_and_reuse_revokes_the_whole_family(
    anonymous_client: httpx.AsyncClient, services: Services
) -> None:
    username = await _user(services, Role.REVIEWER, ["13384"])
    first = await _sign_in(anonymous_client, username)
    rotated = await _refresh(anonymous_client, first["refresh_token"])
    assert rotated.status_code == 200, rotated.text
    second = rotated.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert _claims_of(second["access_token"])["sid"] == _claims_of(first["access_token"])["sid"]
    assert (await _me(anonymous_client, second["access_token"])).status_code == 200

    # Someone replays the first refresh token (a stolen copy): the whole sign-in ends.
    reused = await _refresh(anonymous_client, first["refresh_token"])
    _invalid_grant(reused)
    assert "revoked" in reused.json()["detail"]
    _assert_refused(await _me(anonymous_client, second["access_token"]))
    _assert_refused(await _me(anonymous_client, first["access_token"]))
    _invalid_grant(await _refresh(anonymous_client, second["refresh_token"]))
    _invalid_grant(await _refresh(anonymous_client, "never-issued-" + "x" * 30))


async def test_a_device_bound_refresh_token_works_only_from_its_device(
    anonymous_client: httpx.AsyncClient, services: Services
) -> None:
    username = await _user(services, Role.REVIEWER, ["13384"])
    device = str(uuid.uuid4())
    grant = await _sign_in(
        anonymous_client, username, device_id=device, device_name="Máy tính bảng"
    )
    assert _claims_of(grant["access_token"])["cid"] == f"device:{device}"
    _invalid_grant(await _refresh(anonymous_client, grant["refresh_token"], str(uuid.uuid4())))
    _invalid_grant(await _refresh(anonymous_client, grant["refresh_token"]))
    # The refused attempts did not use the token up: its own device still refreshes with it.
    again = await _refresh(anonymous_client, grant["refresh_token"], device)
    assert again.status_code == 200, again.text
    devices = (
        await anonymous_client.get("/api/v1/auth/devices", headers=_bearer(grant["access_token"]))
    ).json()
    assert [(d["id"], d["name"], d["revoked_at"]) for d in devices] == [
        (device, "Máy tính bảng", None)
    ]


async def test_a_revoked_device_cannot_refresh_or_sign_in_again(
    anonymous_client: httpx.AsyncClient, services: Services
) -> None:
    username = await _user(services, Role.REVIEWER, ["13384"])
    lost, kept = str(uuid.uuid4()), str(uuid.uuid4())
    on_lost = await _sign_in(anonymous_client, username, device_id=lost, device_name="Máy mất")
    on_kept = await _sign_in(anonymous_client, username, device_id=kept, device_name="Máy còn")
    revoked = await anonymous_client.post(
        f"/api/v1/auth/devices/{lost}/revoke", headers=_bearer(on_kept["access_token"])
    )
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["revoked_at"] is not None

    _invalid_grant(await _refresh(anonymous_client, on_lost["refresh_token"], lost))
    _assert_refused(await _me(anonymous_client, on_lost["access_token"]))
    again = await anonymous_client.post(
        TOKEN_URL,
        data={
            "username": username,
            "password": PASSWORD,
            "device_id": lost,
            "device_name": "Máy mất",
        },
    )
    _invalid_grant(again)
    assert (await _me(anonymous_client, on_kept["access_token"])).status_code == 200
    assert (await _refresh(anonymous_client, on_kept["refresh_token"], kept)).status_code == 200


async def test_key_rotation_keeps_old_tokens_and_publishes_both_keys(
    anonymous_client: httpx.AsyncClient, services: Services
) -> None:
    admin = await _user(services, Role.ADMIN, [])
    before = (await _sign_in(anonymous_client, admin))["access_token"]
    old_kid = jwt.get_unverified_header(before)["kid"]

    rotated = await anonymous_client.post("/api/v1/keys/rotate", headers=_bearer(before))
    assert rotated.status_code == 200, rotated.text
    new_kid = rotated.json()["kid"]
    assert new_kid != old_kid
    assert rotated.json()["retired_at"] is None

    assert (await _me(anonymous_client, before)).status_code == 200
    after = (await _sign_in(anonymous_client, admin))["access_token"]
    assert jwt.get_unverified_header(after)["kid"] == new_kid
    assert (await _me(anonymous_client, after)).status_code == 200

    # (Other tests may have committed keys of their own: nothing here assumes an empty table.)
    keys = (await anonymous_client.get("/api/v1/keys", headers=_bearer(after))).json()
    retired = {k["kid"]: k["retired_at"] is not None for k in keys}
    assert (retired[old_kid], retired[new_kid]) == (True, False)
    assert [kid for kid, gone in retired.items() if not gone] == [new_kid]
    jwks = await anonymous_client.get("/.well-known/jwks.json")
    assert jwks.status_code == 200
    published = {k["kid"]: k for k in jwks.json()["keys"]}
    assert set(published) == set(retired)  # every key that may still verify a token
    assert all(set(k) == {"kty", "crv", "x", "kid", "alg", "use"} for k in published.values())
    for token, kid in ((after, new_kid), (before, old_kid)):
        verified = jwt.decode(
            token,
            jwt.PyJWK(published[kid]).key,
            algorithms=["EdDSA"],
            audience=AUDIENCE,
            issuer=ISSUER,
        )
        assert verified["role"] == "admin"
    # Each key verifies only its own tokens.
    try:
        jwt.decode(
            after, jwt.PyJWK(published[old_kid]).key, algorithms=["EdDSA"], audience=AUDIENCE
        )
    except jwt.InvalidSignatureError:
        pass
    else:
        raise AssertionError("the retired key verified a token signed by the new one")


async def test_partner_client_credentials_and_secret_rotation(
    anonymous_client: httpx.AsyncClient, services: Services
) -> None:
    client_id = f"tok-partner-{next(_serial)}"
    secret = "first secret of the partner"
    await services.identity.create_partner(
        PartnerCreate(
            client_id=client_id, name="BHXH", agency="social_insurance", area_codes=["37"]
        ),
        secret=secret,
    )

    async def grant(cid: str, sec: str) -> httpx.Response:
        return await anonymous_client.post(
            TOKEN_URL,
            data={"grant_type": "client_credentials", "client_id": cid, "client_secret": sec},
        )

    issued = await grant(client_id, secret)
    assert issued.status_code == 200, issued.text
    assert issued.json()["refresh_token"] is None
    partner_token = issued.json()["access_token"]
    me = (await _me(anonymous_client, partner_token)).json()
    assert (me["subject"], me["role"], me["agency"], me["areas"]) == (
        f"partner:{client_id}",
        "partner",
        "social_insurance",
        ["37"],
    )

    wrong = await grant(client_id, "not the secret")
    unknown = await grant("no-such-client", "not the secret")
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert (response.json()["code"], response.json()["error"]) == ("invalid_client",) * 2
    assert wrong.json()["detail"] == unknown.json()["detail"]

    admin = (await _sign_in(anonymous_client, await _user(services, Role.ADMIN, [])))[
        "access_token"
    ]
    rotation = await anonymous_client.post(
        f"/api/v1/partners/{client_id}/rotate-secret", headers=_bearer(admin)
    )
    assert rotation.status_code == 200, rotation.text
    new_secret = rotation.json()["client_secret"]
    assert new_secret != secret
    old = await grant(client_id, secret)
    assert (old.status_code, old.json()["code"]) == (401, "invalid_client")
    assert (await grant(client_id, new_secret)).status_code == 200
    listed = (await anonymous_client.get("/api/v1/partners", headers=_bearer(admin))).json()
    assert new_secret not in json.dumps(listed)
    assert "secret_hash" not in listed[0]


async def test_a_disabled_user_is_signed_out_everywhere(
    anonymous_client: httpx.AsyncClient, services: Services
) -> None:
    reviewer = await _user(services, Role.REVIEWER, ["13384"])
    officer = await _user(services, Role.COMMUNE_OFFICER, ["13384"])
    grant = await _sign_in(anonymous_client, reviewer)
    officer_token = (await _sign_in(anonymous_client, officer))["access_token"]
    user_id = _claims_of(grant["access_token"])["sub"].removeprefix("user:")

    disabled = await anonymous_client.post(
        f"/api/v1/users/{user_id}/disable", headers=_bearer(officer_token)
    )
    assert disabled.status_code == 200, disabled.text
    assert disabled.json()["active"] is False

    _assert_refused(await _me(anonymous_client, grant["access_token"]))
    _invalid_grant(await _refresh(anonymous_client, grant["refresh_token"]))
    right_password = await anonymous_client.post(
        TOKEN_URL, data={"username": reviewer, "password": PASSWORD}
    )
    _invalid_grant(right_password)
    # Exactly what a wrong password gets: a disabled account is not revealed.
    assert right_password.json()["detail"] == "wrong username or password"
