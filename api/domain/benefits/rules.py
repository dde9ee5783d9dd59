"""Who is eligible for what, and why: pure functions of a policy version and a subject's
facts on a day. No database, no clock: the service gathers the facts."""

import uuid
from dataclasses import dataclass, field
from datetime import date

from api.domain.benefits.models import Reason, Verdict
from api.domain.benefits.policies import Clause, PersonTest, Policy, SubjectKind, Version
from api.domain.households.member_models import Disability
from api.domain.households.models import PovertyStatus
from api.domain.numbers import vi_day
from api.domain.review.assess import ethnic_minority
from api.domain.review.derive import age_on
from api.domain.review.status import newly_escaped

STATUS_VI = {
    PovertyStatus.POOR: "hộ nghèo",
    PovertyStatus.NEAR_POOR: "hộ cận nghèo",
    PovertyStatus.AVERAGE: "hộ có mức sống trung bình",
    PovertyStatus.NOT_POOR: "hộ không nghèo",
}

NEED_VI = {
    "legal_aid": "trợ giúp pháp lý",
    "credit": "vay vốn",
    "student_loan": "vay vốn học sinh, sinh viên",
    "housing_new": "xây mới nhà ở",
    "housing_repair": "sửa chữa nhà ở",
    "training": "đào tạo nghề",
    "job": "việc làm",
}
GROUNDS_VI = {"accused": "bị buộc tội", "financial_hardship": "khó khăn về tài chính"}
DISABILITY_VI = {
    Disability.MILD: "khuyết tật nhẹ",
    Disability.SEVERE: "khuyết tật nặng",
    Disability.VERY_SEVERE: "khuyết tật đặc biệt nặng",
}


def need_vi(kind: str | None) -> str:
    return NEED_VI.get(kind or "", kind or "")


@dataclass(frozen=True)
class Standing:
    """The household's recognised status on the day."""

    status: PovertyStatus | None = None
    since: date | None = None
    escaped_on: date | None = None
    decision: str | None = None


@dataclass(frozen=True)
class Person:
    id: uuid.UUID
    date_of_birth: date
    ethnicity: str | None = None
    attending_school: bool | None = None
    labour_capacity: bool | None = None
    disability: Disability | None = None


@dataclass(frozen=True)
class Need:
    kind: str
    grounds: str | None = None


@dataclass(frozen=True)
class Subject:
    household_id: uuid.UUID
    standing: Standing
    province: str | None = None
    person: Person | None = None
    needs: tuple[Need, ...] = field(default_factory=tuple)

    @property
    def kind(self) -> SubjectKind:
        return SubjectKind.HOUSEHOLD if self.person is None else SubjectKind.PERSON

    @property
    def id(self) -> uuid.UUID:
        return self.household_id if self.person is None else self.person.id


def _status_reasons(clause: Clause, standing: Standing, day: date) -> list[Reason] | None:
    status = standing.status
    if status is not None and status in clause.statuses:
        since = f" từ {vi_day(standing.since)}" if standing.since else ""
        decision = f" (quyết định {standing.decision})" if standing.decision else ""
        return [Reason(code="status", message=f"Là {STATUS_VI[status]}{since}{decision}")]
    years = clause.escaped_within_years
    if years is not None and newly_escaped(status, standing.escaped_on, day, years):
        assert standing.escaped_on is not None
        return [
            Reason(
                code="escaped_within",
                message=f"Thoát nghèo ngày {vi_day(standing.escaped_on)}, trong vòng {years} năm",
            )
        ]
    return None


def _person_reasons(test: PersonTest, person: Person | None, day: date) -> list[Reason] | None:
    if person is None:
        return None
    reasons: list[Reason] = []
    age = age_on(person.date_of_birth, day)
    if test.age_from is not None or test.age_below is not None:
        if test.age_from is not None and age < test.age_from:
            return None
        if test.age_below is not None and age >= test.age_below:
            return None
        reasons.append(Reason(code="age", message=f"{age} tuổi"))
    if test.ethnic_minority is not None:
        if ethnic_minority(person.ethnicity) != test.ethnic_minority:
            return None
        reasons.append(Reason(code="ethnic_minority", message=f"Dân tộc {person.ethnicity}"))
    if test.attending_school is not None:
        if bool(person.attending_school) != test.attending_school:
            return None
        reasons.append(Reason(code="attending_school", message="Đang đi học"))
    if test.labour_capacity is not None:
        if bool(person.labour_capacity) != test.labour_capacity:
            return None
        reasons.append(Reason(code="labour_capacity", message="Có khả năng lao động"))
    if test.disability_in:
        if person.disability not in test.disability_in:
            return None
        assert person.disability is not None
        reasons.append(
            Reason(code="disability", message=DISABILITY_VI[person.disability].capitalize())
        )
    return reasons


def _recorded(clause: Clause, needs: tuple[Need, ...]) -> Need | None:
    return next(
        (
            n
            for n in needs
            if n.kind == clause.need
            and (not clause.need_grounds or n.grounds in clause.need_grounds)
        ),
        None,
    )


@dataclass(frozen=True)
class _Match:
    clause: Clause
    reasons: list[Reason]
    need: Need | None


def _match(clause: Clause, subject: Subject, day: date) -> _Match | None:
    reasons = _status_reasons(clause, subject.standing, day)
    if reasons is None:
        return None
    if clause.person is not None:
        about = _person_reasons(clause.person, subject.person, day)
        if about is None:
            return None
        reasons = [*reasons, *about]
    need = _recorded(clause, subject.needs) if clause.need else None
    # A clause that names grounds qualifies only people who have them (legal aid for the
    # near-poor: accused, or in financial hardship); without grounds, the need comes after.
    if clause.need_grounds and need is None:
        return None
    if need is not None:
        grounds = f" ({GROUNDS_VI.get(need.grounds, need.grounds)})" if need.grounds else ""
        reasons.append(Reason(code="need", message=f"Có nhu cầu {need_vi(need.kind)}{grounds}"))
    return _Match(clause, reasons, need)


def parameters_on(version: Version, day: date, province: str | None) -> dict[str, float]:
    """The version's parameters on the day, with the province's top-ups over them."""
    values = {name: p.on(day) for name, p in version.parameters.items()}
    known = {name: v for name, v in values.items() if v is not None}
    for o in version.overrides:
        if (
            o.province == province
            and o.valid_from <= day
            and (o.valid_to is None or day <= o.valid_to)
        ):
            known.update(o.parameters)
    return known


def evaluate(policy: Policy, version: Version, subject: Subject, day: date) -> Verdict:
    """Whether the subject is eligible on the day, whether its need is recorded (for
    policies given on need or application), the amount, and the reasons for all of it."""
    values = parameters_on(version, day, subject.province)
    matches = [m for m in (_match(c, subject, day) for c in version.clauses) if m is not None]
    # Only the higher of two applies when a subject qualifies twice (social allowance).
    best = max(matches, key=lambda m: m.clause.coefficient, default=None)
    amount: float | None = None
    if best is not None and version.amount and all(p in values for p in version.amount):
        amount = best.clause.coefficient
        for p in version.amount:
            amount *= values[p]
    on_need = best is not None and best.clause.need is not None
    needing = best is not None and (not on_need or best.need is not None)
    reasons = best.reasons if best is not None else [_refusal(version, subject, day)]
    if best is not None and on_need and best.need is None:
        missing = Reason(
            code="no_need", message=f"Chưa ghi nhận nhu cầu {need_vi(best.clause.need)}"
        )
        reasons = [*reasons, missing]
    return Verdict(
        policy=policy.code,
        version=version.version,
        name_vi=policy.name_vi,
        agency=policy.agency,
        subject_kind=subject.kind,
        subject_id=subject.id,
        household_id=subject.household_id,
        eligible=best is not None,
        needing=needing,
        entitled=needing,
        clause=None if best is None else best.clause.label_vi or None,
        amount_vnd=None if amount is None else round(amount),
        parameters=values,
        reasons=reasons,
        legal_basis=version.legal_basis,
        confidence=version.confidence,
    )


def _describe(test: PersonTest) -> str:
    parts = []
    if test.age_from is not None:
        parts.append(f"từ {test.age_from} tuổi")
    if test.age_below is not None:
        parts.append(f"dưới {test.age_below} tuổi")
    if test.ethnic_minority:
        parts.append("người dân tộc thiểu số")
    if test.attending_school:
        parts.append("đang đi học")
    if test.labour_capacity:
        parts.append("có khả năng lao động")
    if test.disability_in:
        parts.append(" hoặc ".join(DISABILITY_VI[d] for d in test.disability_in))
    return ", ".join(parts)


def _refusal(version: Version, subject: Subject, day: date) -> Reason:
    standing = subject.standing
    held = [c for c in version.clauses if _status_reasons(c, standing, day) is not None]
    if held:
        wants = "; hoặc ".join(
            _describe(c.person)
            if c.person
            else f"có nhu cầu {c.need} ({', '.join(c.need_grounds)})"
            for c in held
        )
        return Reason(code="not_eligible", message=f"Chưa đáp ứng điều kiện: {wants}")
    wanted = sorted({s for c in version.clauses for s in c.statuses}, key=list(PovertyStatus).index)
    named = [STATUS_VI[s] for s in wanted]
    named += [
        f"hộ thoát nghèo trong vòng {c.escaped_within_years} năm"
        for c in version.clauses
        if c.escaped_within_years is not None
    ]
    status = standing.status
    now = "chưa có trạng thái được công nhận" if status is None else STATUS_VI[status]
    return Reason(code="not_eligible", message=f"Dành cho {', '.join(named)}; hiện là {now}")


def applies_to(policy: Policy, subject: Subject) -> bool:
    return policy.subject == subject.kind
