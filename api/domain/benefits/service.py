"""Who in a household is eligible for what on a day, and why: the facts gathered through the
household aggregate and the review's status history, judged by the pure rules."""

import uuid
from collections.abc import Sequence
from datetime import date

from api.domain import access
from api.domain.access import Permission
from api.domain.benefits.models import Eligibility, Verdict
from api.domain.benefits.need_models import Need as NeedRow
from api.domain.benefits.need_models import counts_on
from api.domain.benefits.needs import NeedService
from api.domain.benefits.policies import Policy, PolicyCatalog, SubjectKind, Version, policies
from api.domain.benefits.rules import Need, Person, Standing, Subject, evaluate
from api.domain.households.member_models import Member
from api.domain.households.models import Household
from api.domain.review.service import ReviewService

# What a clause's person tests are drawn from: a verdict that rests on them would tell a reader
# a field hidden from it.
_TEST_SOURCES = {"ethnic_minority": "member.ethnicity", "disability_in": "member.disability"}


def sources(version: Version) -> set[str]:
    found: set[str] = set()
    for clause in version.clauses:
        if clause.person is not None:
            tests = clause.person.model_dump(exclude_defaults=True)
            found |= {source for name, source in _TEST_SOURCES.items() if name in tests}
        if clause.need_grounds:
            found.add("need.grounds")
    return found


def _person(row: Member) -> Person:
    return Person(
        id=row.id,
        date_of_birth=row.date_of_birth,
        ethnicity=row.ethnicity,
        attending_school=row.attending_school,
        labour_capacity=row.labour_capacity,
        disability=row.disability,
    )


class BenefitService:
    def __init__(
        self, review: ReviewService, needs: NeedService, catalog: PolicyCatalog | None = None
    ) -> None:
        self.review = review
        self.needs = needs
        self.principal = review.principal
        self.catalog = catalog or policies()

    def policies(self, on: date | None = None) -> list[Policy]:
        """The policies, each with every version; `on`: only those in force that day, with
        that version alone."""
        access.require(self.principal, Permission.UNITS_READ)
        if on is None:
            return self.catalog.policies
        return [p.model_copy(update={"versions": [v]}) for p, v in self.catalog.in_force(on)]

    def policy(self, code: str) -> Policy:
        access.require(self.principal, Permission.UNITS_READ)
        return self.catalog.find(code)

    async def eligibility(
        self, household_id: uuid.UUID, day: date | None = None, codes: list[str] | None = None
    ) -> Eligibility:
        """Every policy in force on the day, for the household and each of its members. A
        verdict resting on a field hidden from the reader is left out and named in
        `redacted`."""
        day = day or date.today()
        chosen = self.catalog.pick(codes)
        status = await self.review.status_as_of(household_id, day)
        household = await self.review.households.load(household_id)
        standing = Standing(
            status=status.status,
            since=status.since,
            escaped_on=status.escaped_on,
            decision=None if status.record is None else status.record.decision_number,
        )
        members = await self.review.members.active(household.id)
        whole, people = subjects(
            household, standing, members, await self.needs.rows(household.id), day
        )
        in_force = [(p, p.version_on(day)) for p in chosen]
        hidden = access.withheld(
            self.principal, {p.code: sources(v) for p, v in in_force if v is not None}
        )
        verdicts: list[Verdict] = []
        for policy, version in in_force:
            if version is None or policy.code in hidden:
                continue
            judged = [whole] if policy.subject == SubjectKind.HOUSEHOLD else people
            verdicts += [evaluate(policy, version, s, day) for s in judged]
        return Eligibility(
            household_id=household.id, as_of=day, verdicts=verdicts, redacted=sorted(hidden)
        )


def subjects(
    household: Household,
    standing: Standing,
    members: Sequence[Member],
    needs: Sequence[NeedRow],
    day: date,
) -> tuple[Subject, list[Subject]]:
    """The household and each of its members as the rules see them on the day."""
    province = household.unit_path.split("/", 1)[0]
    recorded = [n for n in needs if counts_on(n, day)]

    def needs_of(member_id: uuid.UUID | None) -> tuple[Need, ...]:
        return tuple(
            Need(n.kind.value, None if n.grounds is None else n.grounds.value)
            for n in recorded
            if n.member_id == member_id
        )

    whole = Subject(household.id, standing, province=province, needs=needs_of(None))
    people = [
        Subject(household.id, standing, province=province, person=_person(m), needs=needs_of(m.id))
        for m in sorted(members, key=_by_age)
    ]
    return whole, people


def _by_age(row: Member) -> tuple[date, str]:
    return row.date_of_birth, str(row.id)
