"""Who would gain or lose an entitlement under a policy version, before it is in force:
the households of an area judged on a day under that version and under the version in
force today, side by side. Nothing is written."""

import uuid
from datetime import date

from pydantic import BaseModel, Field

from api.domain import access
from api.domain.access import Permission
from api.domain.benefits.coverage import Coverage
from api.domain.benefits.judging import judge
from api.domain.benefits.models import Reason
from api.domain.benefits.policies import SubjectKind
from api.domain.benefits.service import sources
from api.domain.errors import FieldProblem, Forbidden, NotFound, ValidationFailed

STEP = 500
SHOWN = 500  # changes listed; the counts are always whole


class PreviewChange(BaseModel):
    subject_kind: SubjectKind
    subject_id: uuid.UUID
    household_id: uuid.UUID
    unit_path: str
    change: str = Field(description="gains | loses | amount_changes")
    amount_before: int | None
    amount_after: int | None
    reasons: list[Reason] = Field(description="Why, under the version that entitles")


class EntitlementPreview(BaseModel):
    policy: str
    version: str
    compared_with: str | None = Field(
        description="The version in force today (or, for that one, the version it replaced)"
    )
    as_of: date
    households: int = Field(description="Households judged (with a recognised status)")
    entitled_before: int
    entitled_after: int
    gains: int
    losses: int
    amount_changes: int
    changes: list[PreviewChange] | None = Field(
        description=f"The first {SHOWN}, by household; none for those who may not read "
        "personal data (the counts are theirs)"
    )
    truncated: bool


class Preview:
    def __init__(self, coverage: Coverage) -> None:
        self.coverage = coverage
        self.principal = coverage.principal
        self.catalog = coverage.catalog
        self.facts = coverage.facts

    async def preview(
        self, code: str, version: str, unit: str | None = None, as_of: date | None = None
    ) -> EntitlementPreview:
        policy = self.catalog.find(code)
        self.coverage.may_read(policy.agency.value)
        chosen = next((v for v in policy.versions if v.version == version), None)
        if chosen is None:
            raise NotFound(f"{code} has no version {version}")
        day = as_of or max(chosen.valid_from, date.today())
        if not chosen.in_force(day):
            raise ValidationFailed(
                [
                    FieldProblem(
                        "as_of", f"version {version} is not valid that day", "invalid", "query"
                    )
                ]
            )
        current = policy.version_on(date.today())
        if current is chosen:
            # The version in force now is measured against the one it replaced.
            earlier = [v for v in policy.versions if v.valid_from < chosen.valid_from]
            current = earlier[-1] if earlier else None
        compared = [v for v in (chosen, current) if v is not None]
        if access.withheld(self.principal, {v.version: sources(v) for v in compared}):
            raise Forbidden("the preview rests on personal fields hidden from you")
        _, areas = await self.coverage.area(unit, day)
        ids = sorted(await self.facts.standings(day, areas))
        before: dict[uuid.UUID, tuple[int | None, list[Reason]]] = {}
        after: dict[uuid.UUID, tuple[int | None, list[Reason]]] = {}
        where: dict[uuid.UUID, tuple[uuid.UUID, str]] = {}
        pairs = [(policy, v) for v in compared]
        for i in range(0, len(ids), STEP):
            for j in await judge(self.facts, ids[i : i + STEP], day, pairs):
                if not j.verdict.entitled:
                    continue
                side = after if j.version is chosen else before
                side[j.subject.id] = (j.verdict.amount_vnd, j.verdict.reasons)
                where[j.subject.id] = (j.household.id, j.household.unit_path)
        personal = self.principal.can(Permission.PERSONAL_DATA_READ)
        changes: list[PreviewChange] = []
        counts = {"gains": 0, "loses": 0, "amount_changes": 0}
        for subject in sorted(where, key=lambda s: (str(where[s][0]), str(s))):
            old, new = before.get(subject), after.get(subject)
            if old is not None and new is not None and old[0] == new[0]:
                continue
            change = "gains" if old is None else "loses" if new is None else "amount_changes"
            counts[change] += 1
            if len(changes) < SHOWN:
                changes.append(
                    PreviewChange(
                        subject_kind=policy.subject,
                        subject_id=subject,
                        household_id=where[subject][0],
                        unit_path=where[subject][1],
                        change=change,
                        amount_before=None if old is None else old[0],
                        amount_after=None if new is None else new[0],
                        reasons=(new or old or (None, []))[1],
                    )
                )
        return EntitlementPreview(
            policy=code,
            version=version,
            compared_with=None if current is None else current.version,
            as_of=day,
            households=len(ids),
            entitled_before=len(before),
            entitled_after=len(after),
            gains=counts["gains"],
            losses=counts["loses"],
            amount_changes=counts["amount_changes"],
            changes=changes if personal else None,
            truncated=personal and sum(counts.values()) > len(changes),
        )
