"""GraphQL types and inputs of the review. Shapes come from the domain's pydantic models;
what GraphQL cannot say directly (maps keyed by indicator code) becomes lists of entries."""

from datetime import date
from enum import Enum
from typing import Any, cast

import strawberry
from strawberry.experimental import pydantic as spyd
from strawberry.scalars import JSON

from api.domain.review import models as m
from api.domain.review import report_models as r
from api.domain.review.lifecycle import Action
from api.domain.review.standards import Standard as StandardModel


@strawberry.type(description="One indicator of a standard and how it is derived")
class Indicator:
    code: str
    dimension: str
    name_vi: str
    rule: JSON
    provisional: bool
    confidence: str


@strawberry.type(description="A poverty standard: versioned data, not code")
class Standard:
    code: str
    title: str
    legal_basis: str
    valid_from: date
    valid_to: date | None
    confidence: str
    rule: JSON
    income_lines: JSON
    local_income_lines: JSON
    dimensions: list[str]
    indicators: list[Indicator]
    notes: str


def standard_type(s: StandardModel) -> Standard:
    data = s.model_dump(mode="json")
    return Standard(
        code=s.code,
        title=s.title,
        legal_basis=s.legal_basis,
        valid_from=s.valid_from,
        valid_to=s.valid_to,
        confidence=s.confidence,
        rule=data["rule"],
        income_lines=data["income_lines"],
        local_income_lines=data["local_income_lines"],
        dimensions=s.dimensions,
        indicators=[Indicator(**i) for i in data["indicators"]],
        notes=s.notes,
    )


@spyd.type(model=m.CampaignPublic, all_fields=True, description="A review in one commune")
class Campaign:
    pass


@strawberry.type
class IndicatorAnswerEntry:
    code: str
    deprived: bool
    reason: str | None


@spyd.type(model=m.Answers)
class Answers:
    screened_out: strawberry.auto
    monthly_income_per_capita: strawberry.auto
    income_proxy_score: strawberry.auto
    agricultural: strawberry.auto
    causes: strawberry.auto
    needs: strawberry.auto
    meritorious: strawberry.auto
    social_protection: strawberry.auto
    notes: strawberry.auto

    @strawberry.field(description="The reviewer's answers by indicator code")
    def indicators(self) -> list[IndicatorAnswerEntry]:
        given = cast(m.Answers, self).indicators
        return [
            IndicatorAnswerEntry(code=k, deprived=v.deprived, reason=v.reason)
            for k, v in given.items()
        ]


@spyd.type(model=m.IndicatorResult, all_fields=True)
class IndicatorResult:
    pass


@spyd.type(model=m.Meeting, all_fields=True)
class Meeting:
    pass


@spyd.type(model=m.Complaint, all_fields=True)
class Complaint:
    pass


@spyd.type(model=m.Decision, all_fields=True)
class Decision:
    pass


@spyd.type(model=m.Certificate, all_fields=True)
class Certificate:
    pass


@spyd.type(model=m.DistrictOpinion, all_fields=True)
class DistrictOpinion:
    pass


@spyd.type(model=m.Transition, all_fields=True)
class Transition:
    pass


@spyd.type(model=m.AssessmentPublic, all_fields=True, description="One household's survey")
class Assessment:
    pass


@spyd.type(model=m.StatusPublic, all_fields=True, description="A period of recognised status")
class StatusPeriod:
    pass


@spyd.type(model=m.StatusAsOf, all_fields=True)
class StatusAsOf:
    pass


@spyd.type(model=r.RateDefinition, all_fields=True)
class RateDefinition:
    pass


@spyd.type(model=r.UnitRow, all_fields=True)
class ReportUnitRow:
    pass


@spyd.type(model=r.MovementRow, all_fields=True)
class MovementRow:
    pass


@spyd.type(model=r.DeprivationRow, all_fields=True)
class DeprivationRow:
    pass


@spyd.type(model=r.CountRow, all_fields=True)
class CountRow:
    pass


@spyd.type(model=r.ReviewReport, all_fields=True)
class ReviewReport:
    pass


@spyd.type(model=r.ClassCount, all_fields=True)
class ClassCount:
    pass


@spyd.type(model=r.ClassChange, all_fields=True)
class ClassChange:
    pass


@spyd.type(model=r.ChangedHousehold, all_fields=True)
class ChangedHousehold:
    pass


@spyd.type(model=r.WhatIf, all_fields=True)
class WhatIf:
    pass


# Inputs -------------------------------------------------------------------------------------


@spyd.input(model=m.CampaignCreate, all_fields=True)
class CampaignInput:
    pass


@strawberry.input
class IndicatorAnswerInput:
    code: str
    deprived: bool
    reason: str | None = None


@strawberry.input(description="The survey's answers; see the REST `Answers` schema")
class AnswersInput:
    screened_out: bool = False
    monthly_income_per_capita: int | None = None
    income_proxy_score: int | None = None
    agricultural: bool | None = None
    indicators: list[IndicatorAnswerInput] = strawberry.field(default_factory=list)
    causes: list[m.Cause] = strawberry.field(default_factory=list)
    needs: list[m.Need] = strawberry.field(default_factory=list)
    meritorious: bool = False
    social_protection: bool = False
    notes: str | None = None


@strawberry.input
class AssessmentInput:
    id: strawberry.ID | None = None
    campaign_id: strawberry.ID
    household_id: strawberry.ID
    surveyed_on: date
    answers: AnswersInput | None = None


@strawberry.input
class AssessmentPatch:
    surveyed_on: date | None = strawberry.UNSET
    answers: AnswersInput | None = strawberry.UNSET
    version: int | None = strawberry.UNSET


@spyd.input(model=m.Meeting, all_fields=True)
class MeetingInput:
    pass


@spyd.input(model=m.Complaint, all_fields=True)
class ComplaintInput:
    pass


@spyd.input(model=m.DistrictOpinion, all_fields=True)
class DistrictOpinionInput:
    pass


@spyd.input(model=m.Decision, all_fields=True)
class DecisionInput:
    pass


@spyd.input(model=m.Certificate, all_fields=True)
class CertificateInput:
    pass


@strawberry.input(description="One step of the review and the record it needs")
class TransitionInput:
    action: Action
    version: int | None = strawberry.UNSET
    reason: str | None = strawberry.UNSET
    meeting: MeetingInput | None = strawberry.UNSET
    posted_on: date | None = strawberry.UNSET
    complaint: ComplaintInput | None = strawberry.UNSET
    district_opinion: DistrictOpinionInput | None = strawberry.UNSET
    decision: DecisionInput | None = strawberry.UNSET
    certificate: CertificateInput | None = strawberry.UNSET


def plain(value: Any) -> Any:
    """A GraphQL input as the plain data its pydantic shape validates: unsent fields left
    out, and indicator answers keyed by code as REST sends them."""
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, IndicatorAnswerInput):
        return {"deprived": value.deprived, "reason": value.reason}
    if hasattr(value, "__dict__") and not isinstance(value, date | Enum):
        data = {k: plain(v) for k, v in vars(value).items() if v is not strawberry.UNSET}
        if isinstance(value, AnswersInput):
            data["indicators"] = {a.code: plain(a) for a in value.indicators}
        return data
    return value
