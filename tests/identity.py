"""Helpers for identity tests: accounts through the real services, tokens through the real
token endpoint."""

import itertools
from typing import Any

import httpx

from api.domain.access import Role
from api.domain.identity.shapes import PartnerCreate, UserCreate
from api.domain.services import Services

PASSWORD = "correct horse battery"
PARTNER_SECRET = "partner-secret-for-tests"
_serial = itertools.count(1)


async def make_user(services: Services, role: Role, areas: list[str]) -> str:
    username = f"{role.value.replace('_', '-')}-{next(_serial)}"
    await services.identity.create_user(
        UserCreate(
            username=username, full_name=username, password=PASSWORD, role=role, area_codes=areas
        )
    )
    return username


async def make_partner(services: Services, agency: str = "social_insurance") -> str:
    client_id = f"partner-{next(_serial)}"
    await services.identity.create_partner(
        PartnerCreate(client_id=client_id, name=client_id, agency=agency, area_codes=["37"]),
        secret=PARTNER_SECRET,
    )
    return client_id


async def sign_in(client: httpx.AsyncClient, username: str, **form: str) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/auth/token", data={"username": username, "password": PASSWORD, **form}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def partner_token(client: httpx.AsyncClient, client_id: str) -> str:
    response = await client.post(
        "/api/v1/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": PARTNER_SECRET,
        },
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
