"""The review's record types: campaigns, assessments and status periods."""

from api.domain.access import Principal
from api.domain.kernel.entities import EntityType
from api.domain.kernel.registry import Registration, register
from api.domain.review import status as book
from api.domain.review.base import assessment_view, campaign_public
from api.domain.review.models import (
    Assessment,
    AssessmentCreate,
    AssessmentPublic,
    AssessmentUpdate,
    Campaign,
    CampaignPublic,
    StatusPublic,
    StatusRecord,
)
from api.domain.review.standards import catalog


def _assessment_view(row: Assessment, principal: Principal) -> AssessmentPublic:
    return assessment_view(row, principal, catalog())


def _campaign_view(row: Campaign, _principal: Principal) -> CampaignPublic:
    return campaign_public(row)


CAMPAIGN = register(
    Registration(
        entity=EntityType.CAMPAIGN,
        model=Campaign,
        public=CampaignPublic,
        view=_campaign_view,
    )
)
ASSESSMENT = register(
    Registration(
        entity=EntityType.ASSESSMENT,
        model=Assessment,
        public=AssessmentPublic,
        view=_assessment_view,
        create=AssessmentCreate,
        update=AssessmentUpdate,
        parent=EntityType.HOUSEHOLD,
        parent_key="household_id",
        ops=lambda services: services.review,
    )
)
STATUS = register(
    Registration(
        entity=EntityType.HOUSEHOLD_STATUS,
        model=StatusRecord,
        public=StatusPublic,
        view=book.to_public,
        parent=EntityType.HOUSEHOLD,
        parent_key="household_id",
        versioned=False,
        personal=True,
    )
)
