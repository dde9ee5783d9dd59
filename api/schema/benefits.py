"""GraphQL types and queries of the benefit policies and eligibility. Policies are data with
nested rule shapes: their clauses, parameters and coverage travel as JSON, as a standard's
rule does."""

import uuid
from datetime import date

import strawberry
from strawberry.experimental import pydantic as spyd
from strawberry.scalars import JSON

from api.domain.benefits import coverage_models as cm
from api.domain.benefits import delivery_models as dm
from api.domain.benefits import models as m
from api.domain.benefits import need_models as nm
from api.domain.benefits import preview as pm
from api.domain.benefits.policies import Agency, Confidence, SubjectKind
from api.domain.benefits.policies import Policy as PolicyModel
from api.schema.types import Info, as_type

strawberry.enum(Agency)
strawberry.enum(SubjectKind)
strawberry.enum(Confidence)


@strawberry.type(description="One version of a benefit policy, valid over a period")
class BenefitPolicyVersion:
    version: str
    valid_from: date
    valid_to: date | None
    clauses: JSON = strawberry.field(description="The ways to qualify; the first that holds")
    parameters: JSON
    amount: list[str] = strawberry.field(description="The amount is their product")
    coverage: JSON = strawberry.field(description="What counts as served")
    legal_basis: str
    confidence: Confidence
    overrides: JSON = strawberry.field(description="Provinces' top-ups")
    notes: str


@strawberry.type(description="A support policy: versioned data, not code")
class BenefitPolicy:
    code: str
    name_vi: str
    subject: SubjectKind
    agency: Agency
    versions: list[BenefitPolicyVersion]


def policy_type(p: PolicyModel) -> BenefitPolicy:
    data = p.model_dump(mode="json", by_alias=True)
    return BenefitPolicy(
        code=p.code,
        name_vi=p.name_vi,
        subject=p.subject,
        agency=p.agency,
        versions=[
            BenefitPolicyVersion(
                version=v.version,
                valid_from=v.valid_from,
                valid_to=v.valid_to,
                clauses=raw["clauses"],
                parameters=raw["parameters"],
                amount=v.amount,
                coverage=raw["coverage"],
                legal_basis=v.legal_basis,
                confidence=v.confidence,
                overrides=raw["overrides"],
                notes=v.notes,
            )
            for v, raw in zip(p.versions, data["versions"], strict=True)
        ],
    )


@spyd.type(model=m.Reason, all_fields=True)
class EligibilityReason:
    pass


@spyd.type(model=m.Verdict, all_fields=True)
class EligibilityVerdict:
    parameters: JSON


@spyd.type(model=m.Eligibility, all_fields=True)
class Eligibility:
    pass


@spyd.type(model=cm.CoverageRow, all_fields=True)
class CoverageRow:
    pass


@spyd.type(model=cm.GapEntry, all_fields=True)
class CoverageGap:
    pass


@spyd.type(model=cm.LeakEntry, all_fields=True)
class CoverageLeak:
    pass


@spyd.type(model=cm.CoverageReport, all_fields=True)
class CoverageReport:
    pass


@spyd.type(model=dm.DeliveryPublic, all_fields=True, description="A partner's delivery")
class Delivery:
    pass


@spyd.type(model=nm.NeedPublic, all_fields=True)
class HouseholdNeed:
    pass


@spyd.type(model=pm.PreviewChange, all_fields=True)
class EntitlementPreviewChange:
    pass


@spyd.type(model=pm.EntitlementPreview, all_fields=True)
class EntitlementPreview:
    pass


@strawberry.type
class BenefitQuery:
    @strawberry.field(description="Support policies; `on`: only the versions in force that day")
    def benefit_policies(self, info: Info, on: date | None = None) -> list[BenefitPolicy]:
        return [policy_type(p) for p in info.context.services.benefits.policies(on)]

    @strawberry.field
    def benefit_policy(self, info: Info, code: str) -> BenefitPolicy:
        return policy_type(info.context.services.benefits.policy(code))

    @strawberry.field(description="Who would gain or lose under a policy version, not written")
    async def entitlement_preview(
        self,
        info: Info,
        policy: str,
        version: str,
        unit: str | None = None,
        as_of: date | None = None,
    ) -> EntitlementPreview:
        found = await info.context.services.preview.preview(policy, version, unit, as_of)
        return as_type(EntitlementPreview, found)

    @strawberry.field(description="Who in the household is eligible for what on the day, and why")
    async def household_eligibility(
        self,
        info: Info,
        household_id: uuid.UUID,
        as_of: date | None = None,
        policy: list[str] | None = None,
    ) -> Eligibility:
        found = await info.context.services.benefits.eligibility(household_id, as_of, policy)
        return as_type(Eligibility, found)

    @strawberry.field(description="A policy's funnel, gap and leakage in your area")
    async def coverage(
        self,
        info: Info,
        policy: str,
        unit: str | None = None,
        as_of: date | None = None,
        period_from: date | None = None,
    ) -> CoverageReport:
        found = await info.context.services.coverage.report(policy, unit, as_of, period_from)
        return as_type(CoverageReport, found)

    @strawberry.field(description="The household's recorded needs, oldest first")
    async def household_needs(self, info: Info, household_id: uuid.UUID) -> list[HouseholdNeed]:
        found = await info.context.services.needs.of_household(household_id)
        return [as_type(HouseholdNeed, n) for n in found]
