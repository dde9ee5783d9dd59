"""Accounts, devices, partner clients and signing keys, each managed within the caller's area."""

import uuid

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.domain import access
from api.domain.access import Permission, Principal, Role
from api.domain.base import new_id, utcnow
from api.domain.changes.models import Operation
from api.domain.errors import (
    CannotDisableSelf,
    Conflict,
    FieldProblem,
    Forbidden,
    LastAdmin,
    NotFound,
    ValidationFailed,
)
from api.domain.identity import keys
from api.domain.identity.models import Device, PartnerClient, Session, SigningKey, UserAccount
from api.domain.identity.secrets import hash_secret, new_token
from api.domain.identity.service import USER_PREFIX, area_paths, user_subject
from api.domain.identity.shapes import (
    DevicePublic,
    KeyPublic,
    PartnerCreate,
    PartnerPublic,
    PartnerSecret,
    UserCreate,
    UserPublic,
)
from api.domain.kernel.entities import EntityType
from api.domain.plans.vocabulary import vocabulary
from api.domain.uow import UnitOfWork


class IdentityAdmin:
    def __init__(self, uow: UnitOfWork, key_secret: str) -> None:
        self.uow = uow
        self.session: AsyncSession = uow.session
        self.principal: Principal = uow.principal
        self.key_secret = key_secret

    async def _paths_in_scope(self, codes: list[str], field: str) -> tuple[str, ...]:
        paths = await area_paths(self.session, codes)
        if len(paths) != len(set(codes)):
            raise ValidationFailed([FieldProblem(field, "names an unknown unit", "unknown_unit")])
        if not all(access.in_scope(self.principal, p) for p in paths):
            raise ValidationFailed([FieldProblem(field, "outside your area", "out_of_scope")])
        return paths

    async def create_user(self, data: UserCreate) -> UserPublic:
        access.require(self.principal, Permission.USERS_MANAGE)
        if data.role not in access.MANAGEABLE_ROLES.get(self.principal.role, frozenset()):
            raise Forbidden(f"a {self.principal.role.value} may not create a {data.role.value}")
        if data.role != Role.ADMIN and not data.area_codes:
            raise ValidationFailed([FieldProblem("area_codes", "at least one unit is needed")])
        if data.role == Role.AGENCY_OFFICER and not data.agency:
            raise ValidationFailed(
                [FieldProblem("agency", "an agency officer is bound to an agency", "missing")]
            )
        if data.role == Role.AGENCY_OFFICER and data.agency:
            vocabulary().agency(data.agency, "agency")
        paths = await self._paths_in_scope(data.area_codes, "area_codes")
        name = data.username.lower()
        taken = await self.session.scalar(
            select(col(UserAccount.id)).where(col(UserAccount.username) == name)
        )
        if taken is not None:
            raise Conflict(f"the username {name!r} is taken")
        user = UserAccount(
            id=new_id(),
            username=name,
            full_name=data.full_name,
            password_hash=await hash_secret(data.password),
            role=data.role,
            area_codes=sorted(set(data.area_codes)),
            agency=data.agency,
        )
        self.session.add(user)
        await self.uow.flush()
        public = UserPublic.model_validate(user, from_attributes=True)
        self.uow.record(
            EntityType.USER_ACCOUNT,
            user.id,
            Operation.CREATE,
            user.version,
            paths[0] if paths else "",
            {k: [None, v] for k, v in public.model_dump(mode="json").items()},
        )
        await self.uow.commit()
        return public

    async def _user_paths(self, user: UserAccount) -> tuple[str, ...]:
        return await area_paths(self.session, user.area_codes)

    async def _visible_user(self, user_id: uuid.UUID) -> UserAccount:
        user = await self.session.get(UserAccount, user_id)
        if user is None or not self._manages(await self._user_paths(user), user.role):
            raise NotFound(f"no user {user_id}")
        return user

    async def _managed_user(self, user_id: uuid.UUID) -> UserAccount:
        """A user whose devices the caller may see and revoke: in the caller's area and of a
        role the caller manages (a commune officer cannot cut off a peer's phone)."""
        user = await self._visible_user(user_id)
        if user.role not in access.MANAGEABLE_ROLES.get(self.principal.role, frozenset()):
            raise NotFound(f"no user {user_id}")
        return user

    def _manages(self, paths: tuple[str, ...], role: Role) -> bool:
        if self.principal.role in (Role.ADMIN, Role.SYSTEM):
            return True
        return bool(paths) and all(access.in_scope(self.principal, p) for p in paths)

    async def list_users(self) -> list[UserPublic]:
        access.require(self.principal, Permission.USERS_MANAGE)
        users = (
            await self.session.scalars(select(UserAccount).order_by(col(UserAccount.username)))
        ).all()
        visible = [u for u in users if self._manages(await self._user_paths(u), u.role)]
        return [UserPublic.model_validate(u, from_attributes=True) for u in visible]

    async def set_user_active(self, user_id: uuid.UUID, active: bool) -> UserPublic:
        access.require(self.principal, Permission.USERS_MANAGE)
        user = await self._visible_user(user_id)
        if user.role not in access.MANAGEABLE_ROLES.get(self.principal.role, frozenset()):
            raise Forbidden(f"a {self.principal.role.value} may not change a {user.role.value}")
        if user.active and not active:
            await self._keep_an_admin(user)
        if user.active != active:
            user.active = active
            if not active:
                await self._revoke(
                    col(Session.subject) == user_subject(user.id), "account disabled"
                )
            paths = await self._user_paths(user)
            self.uow.bump(
                EntityType.USER_ACCOUNT,
                user,
                user.id,
                paths[0] if paths else "",
                diff={"active": [not active, active]},
            )
            await self.uow.commit()
        return UserPublic.model_validate(user, from_attributes=True)

    async def _keep_an_admin(self, user: UserAccount) -> None:
        """Refuse to disable oneself, or the last active admin (nobody could manage the
        service any more)."""
        if user.id == self._own_id():
            raise CannotDisableSelf("you cannot disable yourself; ask another admin")
        if user.role != Role.ADMIN:
            return
        # Locked, so that two admins disabling each other at once cannot both succeed.
        admins = await self.session.scalars(
            select(col(UserAccount.id))
            .where(col(UserAccount.role) == Role.ADMIN, col(UserAccount.active).is_(True))
            .order_by(col(UserAccount.id))
            .with_for_update()
        )
        if set(admins.all()) <= {user.id}:
            raise LastAdmin(f"{user.username} is the last active admin; enable another first")

    async def devices(self, user_id: uuid.UUID | None = None) -> list[DevicePublic]:
        """The caller's own devices, or (for a manager) those of a user in their area."""
        owner = self._own_id() if user_id is None else user_id
        if owner is None:
            raise NotFound("only people have devices")
        if owner != self._own_id():
            access.require(self.principal, Permission.DEVICES_MANAGE)
            await self._managed_user(owner)
        rows = (
            await self.session.scalars(
                select(Device).where(col(Device.user_id) == owner).order_by(col(Device.created_at))
            )
        ).all()
        return [DevicePublic.model_validate(d, from_attributes=True) for d in rows]

    async def revoke_device(self, device_id: uuid.UUID) -> DevicePublic:
        device = await self.session.get(Device, device_id)
        own = self._own_id()
        if device is None:
            raise NotFound(f"no device {device_id}")
        if device.user_id != own:
            if not self.principal.can(Permission.DEVICES_MANAGE):
                raise NotFound(f"no device {device_id}")
            try:
                await self._managed_user(device.user_id)
            except NotFound:
                raise NotFound(f"no device {device_id}") from None
        if device.revoked_at is None:
            device.revoked_at, device.revoked_reason = (
                utcnow(),
                f"revoked by {self.principal.subject}",
            )
            await self._revoke(col(Session.device_id) == device.id, "device revoked")
            await self.uow.commit()
        return DevicePublic.model_validate(device, from_attributes=True)

    def _own_id(self) -> uuid.UUID | None:
        subject = self.principal.subject
        return uuid.UUID(subject[len(USER_PREFIX) :]) if subject.startswith(USER_PREFIX) else None

    async def _revoke(self, condition: object, reason: str) -> None:
        await self.session.execute(
            update(Session)
            .where(condition, col(Session.revoked_at).is_(None))  # type: ignore[arg-type]
            .values(revoked_at=utcnow(), revoked_reason=reason)
        )

    async def create_partner(self, data: PartnerCreate, secret: str | None = None) -> PartnerSecret:
        access.require(self.principal, Permission.PARTNERS_MANAGE)
        await self._paths_in_scope(data.area_codes, "area_codes")
        if await self.session.get(PartnerClient, data.client_id) is not None:
            raise Conflict(f"the client id {data.client_id!r} is taken")
        secret = secret or new_token()
        self.session.add(
            PartnerClient(
                client_id=data.client_id,
                name=data.name,
                agency=data.agency,
                area_codes=data.area_codes,
                secret_hash=await hash_secret(secret),
            )
        )
        self.uow.record(
            EntityType.PARTNER_CLIENT,
            data.client_id,
            Operation.CREATE,
            1,
            "",
            {k: [None, v] for k, v in data.model_dump(mode="json").items()},
        )
        await self.uow.commit()
        return PartnerSecret(client_id=data.client_id, client_secret=secret)

    async def rotate_partner_secret(self, client_id: str) -> PartnerSecret:
        access.require(self.principal, Permission.PARTNERS_MANAGE)
        client = await self.session.get(PartnerClient, client_id)
        if client is None:
            raise NotFound(f"no partner client {client_id!r}")
        secret = new_token()
        client.secret_hash, client.secret_rotated_at = await hash_secret(secret), utcnow()
        self.uow.record(
            EntityType.PARTNER_CLIENT,
            client_id,
            Operation.UPDATE,
            1,
            "",
            {"secret": ["(hidden)", "(rotated)"]},
        )
        await self.uow.commit()
        return PartnerSecret(client_id=client_id, client_secret=secret)

    async def list_partners(self) -> list[PartnerPublic]:
        access.require(self.principal, Permission.PARTNERS_MANAGE)
        rows = (
            await self.session.scalars(select(PartnerClient).order_by(col(PartnerClient.client_id)))
        ).all()
        return [PartnerPublic.model_validate(p, from_attributes=True) for p in rows]

    async def rotate_keys(self, ring: keys.KeyRing) -> KeyPublic:
        """The new key signs from now on, in every process from its next request."""
        access.require(self.principal, Permission.KEYS_MANAGE)
        key = await keys.rotate(self.session, self.key_secret, ring.token_lifetime)
        self.uow.record(
            EntityType.SIGNING_KEY, key.kid, Operation.CREATE, 1, "", {"kid": [None, key.kid]}
        )
        await self.uow.commit()
        await ring.load(self.uow)
        return KeyPublic.model_validate(key, from_attributes=True)

    async def revoke_key(self, kid: str, ring: keys.KeyRing) -> KeyPublic:
        """Tokens the key signed fail at once, in every process from its next request."""
        access.require(self.principal, Permission.KEYS_MANAGE)
        key, newly = await keys.revoke(self.session, kid, self.key_secret, ring.token_lifetime)
        if newly:
            assert key.revoked_at is not None
            self.uow.record(
                EntityType.SIGNING_KEY,
                kid,
                Operation.UPDATE,
                1,
                "",
                {"revoked_at": [None, key.revoked_at.isoformat()]},
            )
        await self.uow.commit()
        await ring.load(self.uow)
        return KeyPublic.model_validate(key, from_attributes=True)

    async def list_keys(self) -> list[KeyPublic]:
        access.require(self.principal, Permission.KEYS_MANAGE)
        rows = (
            await self.session.scalars(select(SigningKey).order_by(col(SigningKey.created_at)))
        ).all()
        return [KeyPublic.model_validate(k, from_attributes=True) for k in rows]
