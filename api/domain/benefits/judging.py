"""The rules run over many households at once: their facts read in bulk, each subject judged
under each (policy, version) pair given. Stored entitlements and previews share it."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from api.domain.benefits.facts import Facts
from api.domain.benefits.models import Verdict
from api.domain.benefits.policies import Policy, SubjectKind, Version
from api.domain.benefits.records import NEED
from api.domain.benefits.rules import Standing, Subject, evaluate
from api.domain.benefits.service import subjects
from api.domain.households.models import Household
from api.domain.households.records import MEMBER


@dataclass(frozen=True)
class Judged:
    policy: Policy
    version: Version
    household: Household
    standing: Standing
    subject: Subject
    verdict: Verdict


async def judge(
    facts: Facts,
    ids: Sequence[uuid.UUID],
    day: date,
    pairs: Sequence[tuple[Policy, Version]],
) -> list[Judged]:
    """Every subject of these households under every pair, on the day."""
    standings = await facts.standings(day, ids=ids)
    households = await facts.households(ids)
    members = await facts.grouped(MEMBER, ids)
    needs = await facts.grouped(NEED, ids)
    found: list[Judged] = []
    for household in households:
        standing = standings.get(household.id, Standing())
        whole, people = subjects(
            household, standing, members.get(household.id, []), needs.get(household.id, []), day
        )
        for policy, version in pairs:
            judged = [whole] if policy.subject == SubjectKind.HOUSEHOLD else people
            found += [
                Judged(policy, version, household, standing, s, evaluate(policy, version, s, day))
                for s in judged
            ]
    return found
