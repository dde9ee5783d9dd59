"""The benefit slice's record types: needs (children of a household) and deliveries (the
partner's facts, filed under the household they matched)."""

from api.domain import access
from api.domain.access import Principal
from api.domain.benefits.delivery_models import Delivery, DeliveryPublic
from api.domain.benefits.need_models import Need, NeedCreate, NeedPublic, NeedUpdate
from api.domain.kernel.entities import EntityType
from api.domain.kernel.registry import Registration, register


def _need_view(row: Need, principal: Principal) -> NeedPublic:
    public = NeedPublic.model_validate(row, from_attributes=True)
    return access.mask(public, principal, EntityType.NEED)


def _delivery_view(row: Delivery, principal: Principal) -> DeliveryPublic:
    public = DeliveryPublic.model_validate(row, from_attributes=True)
    return access.mask(public, principal, EntityType.DELIVERY)


NEED = register(
    Registration(
        entity=EntityType.NEED,
        model=Need,
        public=NeedPublic,
        view=_need_view,
        create=NeedCreate,
        update=NeedUpdate,
        parent=EntityType.HOUSEHOLD,
        parent_key="household_id",
        deleted_with_parent=True,
        personal=True,
        ops=lambda services: services.needs,
    )
)
DELIVERY = register(
    Registration(
        entity=EntityType.DELIVERY,
        model=Delivery,
        public=DeliveryPublic,
        view=_delivery_view,
        parent=EntityType.HOUSEHOLD,
        parent_key="matched_household_id",
        personal=True,
    )
)
