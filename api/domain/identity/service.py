"""Sign-in (password, refresh, client credentials) and reading who a token names."""

import asyncio
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.domain import access
from api.domain.access import Principal, Role
from api.domain.base import utcnow
from api.domain.errors import (
    FieldProblem,
    InvalidClient,
    InvalidGrant,
    Unauthorized,
    ValidationFailed,
)
from api.domain.identity.keys import KeyRing
from api.domain.identity.models import (
    Device,
    PartnerClient,
    RefreshToken,
    Session,
    UserAccount,
)
from api.domain.identity.secrets import new_token, token_digest, verify_secret
from api.domain.identity.shapes import DeviceInfo, HiddenFields, MePublic, TokenGrant
from api.domain.identity.throttle import Throttle, ThrottlePolicy
from api.domain.identity.tokens import issue_access_token, read_access_token
from api.domain.units.models import AdminUnit
from api.domain.uow import UnitOfWork

USER_PREFIX = "user:"
PARTNER_PREFIX = "partner:"


@dataclass(frozen=True)
class AuthConfig:
    issuer: str
    audience: str
    access_ttl: timedelta
    refresh_ttl: timedelta
    session_max: timedelta
    throttle: ThrottlePolicy
    key_secret: str


def user_subject(user_id: uuid.UUID) -> str:
    return f"{USER_PREFIX}{user_id}"


async def area_paths(session: AsyncSession, codes: list[str]) -> tuple[str, ...]:
    if not codes:
        return ()
    rows = await session.scalars(select(AdminUnit).where(col(AdminUnit.code).in_(codes)))
    return tuple(sorted(u.path for u in rows.all()))


class AuthService:
    def __init__(self, uow: UnitOfWork, ring: KeyRing, config: AuthConfig) -> None:
        self.uow = uow
        self.session = uow.session
        self.ring = ring
        self.config = config

    async def password_grant(
        self, username: str, password: str, address: str, device: DeviceInfo | None = None
    ) -> TokenGrant:
        name = username.strip().lower()
        throttle = Throttle(self.uow, self.config.throttle)
        account_key, address_key = f"user:{name}", f"addr:{address}"
        user = (
            await self.session.scalars(select(UserAccount).where(col(UserAccount.username) == name))
        ).one_or_none()
        # Committed before Argon2 runs: no transaction (nor connection) is held meanwhile.
        failures = await throttle.claim(account_key, address_key)
        valid = await verify_secret(user.password_hash if user else None, password)
        if user is None or not valid or not user.active:
            await asyncio.sleep(self.config.throttle.delay_seconds(failures))
            raise InvalidGrant("wrong username or password")
        await throttle.succeed(account_key, address_key)
        device_id = await self._register_device(user, device) if device else None
        grant = await self._open_session(user, device_id)
        await self.uow.finish()
        return grant

    async def _register_device(self, user: UserAccount, info: DeviceInfo) -> uuid.UUID:
        device = await self.session.get(Device, info.device_id)
        if device is None:
            self.session.add(Device(id=info.device_id, user_id=user.id, name=info.device_name))
        elif device.user_id != user.id:
            raise ValidationFailed(
                [
                    FieldProblem(
                        "device_id",
                        "belongs to another account; register the device afresh",
                        "device_taken",
                    )
                ]
            )
        elif device.revoked_at is not None:
            raise InvalidGrant("this device was revoked; register it again with a new id")
        else:
            device.name, device.last_seen_at = info.device_name, utcnow()
        return info.device_id

    async def _open_session(self, user: UserAccount, device_id: uuid.UUID | None) -> TokenGrant:
        now = utcnow()
        session = Session(
            id=uuid.uuid4(),
            subject=user_subject(user.id),
            device_id=device_id,
            expires_at=now + self.config.session_max,
        )
        self.session.add(session)
        await self.session.flush()
        return await self._grant(user, session)

    async def _grant(self, user: UserAccount, session: Session) -> TokenGrant:
        now = utcnow()
        refresh = new_token()
        refresh_expires = min(now + self.config.refresh_ttl, session.expires_at)
        self.session.add(
            RefreshToken(
                token_hash=token_digest(refresh), session_id=session.id, expires_at=refresh_expires
            )
        )
        principal = Principal(
            subject=user_subject(user.id),
            role=user.role,
            areas=("",)
            if user.role == Role.ADMIN
            else await area_paths(self.session, user.area_codes),
            agency=user.agency,
            session_id=str(session.id),
            client=f"device:{session.device_id}" if session.device_id else None,
        )
        return TokenGrant(
            access_token=self._sign(principal),
            expires_in=int(self.config.access_ttl.total_seconds()),
            refresh_token=refresh,
            refresh_expires_in=int((refresh_expires - now).total_seconds()),
        )

    def _sign(self, principal: Principal) -> str:
        return issue_access_token(
            self.ring,
            principal,
            issuer=self.config.issuer,
            audience=self.config.audience,
            lifetime=self.config.access_ttl,
        )

    async def refresh_grant(self, refresh_token: str, device_id: uuid.UUID | None) -> TokenGrant:
        now = utcnow()
        stored = await self.session.get(
            RefreshToken, token_digest(refresh_token), with_for_update=True
        )
        if stored is None:
            raise InvalidGrant("unknown refresh token")
        session = await self.session.get(Session, stored.session_id, with_for_update=True)
        assert session is not None
        if stored.used_at is not None:
            # A rotated token came back: someone holds a copy. End the whole family.
            await self._revoke_sessions([session.id], "refresh token reuse")
            await self.uow.finish()
            raise InvalidGrant("refresh token already used; the session has been revoked")
        if session.revoked_at is not None or session.expires_at <= now or stored.expires_at <= now:
            raise InvalidGrant("the session has ended; sign in again")
        if session.device_id is not None and session.device_id != device_id:
            raise InvalidGrant("this refresh token belongs to another device")
        if session.device_id is not None:
            device = await self.session.get(Device, session.device_id)
            if device is None or device.revoked_at is not None:
                raise InvalidGrant("this device was revoked")
            device.last_seen_at = now
        user = await self.session.get(UserAccount, uuid.UUID(session.subject[len(USER_PREFIX) :]))
        if user is None or not user.active:
            raise InvalidGrant("the account is disabled")
        stored.used_at = now
        grant = await self._grant(user, session)
        await self.uow.finish()
        return grant

    async def client_credentials_grant(self, client_id: str, secret: str) -> TokenGrant:
        client = await self.session.get(PartnerClient, client_id)
        await self.uow.finish()
        valid = await verify_secret(client.secret_hash if client else None, secret)
        if client is None or not valid or not client.active:
            raise InvalidClient("unknown client or wrong secret")
        principal = Principal(
            subject=f"{PARTNER_PREFIX}{client.client_id}",
            role=Role.PARTNER,
            areas=await area_paths(self.session, client.area_codes),
            agency=client.agency,
            client=f"partner:{client.client_id}",
        )
        return TokenGrant(
            access_token=self._sign(principal),
            expires_in=int(self.config.access_ttl.total_seconds()),
        )

    async def authenticate(self, token: str) -> Principal:
        """The principal a bearer token names, if the token and its session are still good.

        The key ring is current (`KeyRing.ensure_loaded` runs first on every request), so a
        token of a revoked or expired key is refused here whichever process revoked it."""
        principal = read_access_token(
            self.ring, token, issuer=self.config.issuer, audience=self.config.audience
        )
        if principal.subject.startswith(USER_PREFIX):
            # A person's token is only as good as the sign-in it came from: no session, no entry.
            session = await self._session_of(principal.session_id)
            if session is None or session.revoked_at is not None:
                raise Unauthorized("the session was revoked")
            if session.subject != principal.subject:
                raise Unauthorized("the token is not valid")
        elif principal.subject.startswith(PARTNER_PREFIX):
            client = await self.session.get(PartnerClient, principal.subject[len(PARTNER_PREFIX) :])
            if client is None or not client.active:
                raise Unauthorized("the client was disabled")
        else:
            raise Unauthorized("the token names nobody this service signs in")
        return principal

    async def _session_of(self, session_id: str | None) -> Session | None:
        try:
            sid = uuid.UUID(session_id or "")
        except ValueError:
            return None
        found: Session | None = await self.session.get(Session, sid)
        return found

    async def _revoke_sessions(self, ids: list[uuid.UUID], reason: str) -> None:
        if ids:
            await self.session.execute(
                update(Session)
                .where(col(Session.id).in_(ids), col(Session.revoked_at).is_(None))
                .values(revoked_at=utcnow(), revoked_reason=reason)
            )

    async def logout(self, principal: Principal) -> None:
        if principal.session_id is not None:
            await self._revoke_sessions([uuid.UUID(principal.session_id)], "signed out")
            await self.uow.finish()


def me(principal: Principal) -> MePublic:
    return MePublic(
        subject=principal.subject,
        role=principal.role,
        areas=list(principal.areas),
        agency=principal.agency,
        permissions=sorted(p.value for p in access.Permission if principal.can(p)),
        hidden_fields=[
            HiddenFields(entity=entity, fields=sorted(access.hidden_fields(principal, entity)))
            for entity in access.SENSITIVE_FIELDS
        ],
    )
