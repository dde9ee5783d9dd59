"""Pure steps of an assessment: merge derived indicators with the reviewer's answers, classify,
and work out the report flags and the movement a recognition makes."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from api.domain.errors import FieldProblem
from api.domain.households.models import PovertyStatus
from api.domain.review.classify import Classification, Survey, classify
from api.domain.review.derive import Derived, DwellingLike, PersonLike, derive_all
from api.domain.review.models import Answers, Flag, IndicatorResult, Movement
from api.domain.review.standards import Area, Standard

LISTED = frozenset({PovertyStatus.POOR, PovertyStatus.NEAR_POOR})
MAJORITY = "Kinh"


@dataclass(frozen=True)
class Outcome:
    indicators: list[IndicatorResult]
    classification: Classification
    problems: list[FieldProblem]


def resolve(
    standard: Standard, derived: Mapping[str, Derived], answers: Answers
) -> tuple[list[IndicatorResult], list[FieldProblem]]:
    """A derived answer stands unless the reviewer overrides it with a reason; an indicator
    that cannot be derived takes the reviewer's answer."""
    problems = [
        FieldProblem(
            f"answers.indicators.{code}",
            f"not an indicator of {standard.code}: {', '.join(standard.indicator_codes)}",
            "unknown_indicator",
        )
        for code in answers.indicators
        if standard.indicator(code) is None
    ]
    results = []
    for ind in standard.indicators:
        d = derived[ind.code]
        given = answers.indicators.get(ind.code)
        answered = None if given is None else given.deprived
        reason = None if given is None else given.reason
        if d.deprived is not None and answered is not None and answered != d.deprived:
            if not reason:
                problems.append(
                    FieldProblem(
                        f"answers.indicators.{ind.code}.reason",
                        f"the recorded facts give deprived={d.deprived} ({d.derivation}); "
                        "state why the answer differs",
                        "override_reason_required",
                    )
                )
            final, source = answered, "override"
        elif d.deprived is not None:
            final, source = d.deprived, "derived"
        elif answered is not None:
            final, source = answered, "answered"
        else:
            final, source = None, "missing"
        results.append(
            IndicatorResult(
                code=ind.code,
                dimension=ind.dimension,
                derived=d.deprived,
                derivation=d.derivation,
                answered=answered,
                reason=reason,
                deprived=final,
                source=source,
            )
        )
    return results, problems


def evaluate(
    standard: Standard,
    area: Area,
    province: str | None,
    home: DwellingLike,
    people: Sequence[PersonLike],
    day: date,
    answers: Answers,
) -> Outcome:
    derived = derive_all(standard.indicators, home, people, day)
    results, problems = resolve(standard, derived, answers)
    survey = Survey(
        area=area,
        province=province,
        deprivations={r.code: r.deprived for r in results},
        income=answers.monthly_income_per_capita,
        income_proxy_score=answers.income_proxy_score,
        agricultural=answers.agricultural,
        screened_out=answers.screened_out,
    )
    return Outcome(results, classify(standard, survey), problems)


class HeadLike(Protocol):
    @property
    def sex(self) -> Any: ...
    @property
    def ethnicity(self) -> str | None: ...


class WorkerLike(Protocol):
    @property
    def labour_capacity(self) -> bool | None: ...


# The record fields each flag is drawn from: a flag falls under their masking.
FLAG_SOURCES: dict[Flag, frozenset[str]] = {
    Flag.NO_LABOUR_CAPACITY: frozenset({"member.labour_capacity"}),
    Flag.ETHNIC_MINORITY: frozenset({"member.ethnicity"}),
    Flag.FEMALE_HEAD: frozenset({"member.sex"}),
    Flag.MERITORIOUS: frozenset({"assessment.answers"}),
    Flag.SOCIAL_PROTECTION: frozenset({"assessment.answers"}),
}


def ethnic_minority(ethnicity: str | None) -> bool:
    """Of an ethnic minority: a recorded ethnicity other than the majority's."""
    return bool(ethnicity) and ethnicity != MAJORITY


def flags(head: HeadLike | None, people: Sequence[WorkerLike], answers: Answers) -> list[Flag]:
    found = []
    if people and not any(p.labour_capacity for p in people):
        found.append(Flag.NO_LABOUR_CAPACITY)
    if head is not None and ethnic_minority(head.ethnicity):
        found.append(Flag.ETHNIC_MINORITY)
    if head is not None and getattr(head.sex, "value", head.sex) == "female":
        found.append(Flag.FEMALE_HEAD)
    if answers.meritorious:
        found.append(Flag.MERITORIOUS)
    if answers.social_protection:
        found.append(Flag.SOCIAL_PROTECTION)
    return found


def movement(previous: PovertyStatus | None, new: PovertyStatus, ever_listed: bool) -> Movement:
    """The report's movement types. `ever_listed`: the household was poor or near-poor at some
    time before `previous` (so becoming poor again is re-poverty)."""
    p = PovertyStatus
    if previous == new:
        return Movement.UNCHANGED
    if new == p.POOR:
        if previous == p.NEAR_POOR:
            return Movement.NEAR_POOR_TO_POOR
        return Movement.RE_POOR if ever_listed else Movement.NEW_POOR
    if new == p.NEAR_POOR:
        return Movement.POOR_TO_NEAR_POOR if previous == p.POOR else Movement.NEW_NEAR_POOR
    if previous == p.POOR:
        return Movement.ESCAPED_POOR
    if previous == p.NEAR_POOR:
        return Movement.ESCAPED_NEAR_POOR
    return Movement.OTHER
