import uuid

from strawberry.dataloader import DataLoader
from strawberry.fastapi import BaseContext

from api.domain.errors import Unauthorized
from api.domain.households.member_models import MemberPublic, MembershipEventPublic
from api.domain.households.models import HouseholdPublic
from api.domain.services import Services
from api.domain.units.models import UnitPublic
from api.domain.units.service import to_public as unit_public


class Context(BaseContext):
    """Per request: the shared Services and DataLoaders that batch through them."""

    def __init__(self, services: Services | None) -> None:
        super().__init__()
        self._services = services
        self.units = DataLoader[str, UnitPublic | None](load_fn=self._units)
        self.households = DataLoader[uuid.UUID, HouseholdPublic | None](load_fn=self._households)
        self.members = DataLoader[uuid.UUID, list[MemberPublic]](load_fn=self._members)
        self.all_members = DataLoader[uuid.UUID, list[MemberPublic]](load_fn=self._all_members)
        self.membership_events = DataLoader[uuid.UUID, list[MembershipEventPublic]](
            load_fn=self._membership_events
        )

    @property
    def signed_in(self) -> bool:
        return self._services is not None

    @property
    def services(self) -> Services:
        """Every field needs a signed-in caller; only the IDE page is served without one."""
        if self._services is None:
            raise Unauthorized("send a bearer token (see POST /api/v1/auth/token)")
        return self._services

    async def _units(self, codes: list[str]) -> list[UnitPublic | None]:
        found = await self.services.units.by_codes(codes)
        return [unit_public(found[c]) if c in found else None for c in codes]

    async def _households(self, ids: list[uuid.UUID]) -> list[HouseholdPublic | None]:
        found = await self.services.households.by_ids(ids)
        return [found.get(i) for i in ids]

    async def _members(self, ids: list[uuid.UUID]) -> list[list[MemberPublic]]:
        found = await self.services.members.for_households(ids)
        return [found.get(i, []) for i in ids]

    async def _membership_events(self, ids: list[uuid.UUID]) -> list[list[MembershipEventPublic]]:
        found = await self.services.members.histories(ids)
        return [found.get(i, []) for i in ids]

    async def _all_members(self, ids: list[uuid.UUID]) -> list[list[MemberPublic]]:
        found = await self.services.members.for_households(ids, include_former=True)
        return [found.get(i, []) for i in ids]
