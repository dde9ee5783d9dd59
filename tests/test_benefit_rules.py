"""The eligibility rules as pure functions: one table row per case, against the policies as
shipped (api/reference_data/benefits), and the catalogue's own checks."""

import json
import uuid
from datetime import date
from pathlib import Path

import pytest
from pydantic import ValidationError

from api.domain.benefits.policies import Policy, load_policies, policies
from api.domain.benefits.rules import Need, Person, Standing, Subject, evaluate, parameters_on
from api.domain.households.member_models import Disability
from api.domain.households.models import PovertyStatus as S

HOUSEHOLD = uuid.UUID(int=1)
PERSON = uuid.UUID(int=2)
DAY = date(2023, 6, 1)


def person(born: date, **facts: object) -> Person:
    return Person(id=PERSON, date_of_birth=born, **facts)  # type: ignore[arg-type]


def subject(
    status: S | None,
    who: Person | None = None,
    escaped_on: date | None = None,
    needs: tuple[Need, ...] = (),
) -> Subject:
    standing = Standing(status=status, since=date(2022, 1, 15), escaped_on=escaped_on)
    return Subject(HOUSEHOLD, standing, province="37", person=who, needs=needs)


ADULT = person(date(1980, 1, 1))
PUPIL = person(date(2012, 9, 1), attending_school=True)
MINORITY_STUDENT = person(date(2004, 2, 1), attending_school=True, ethnicity="Mường")
KINH_STUDENT = person(date(2004, 2, 1), attending_school=True, ethnicity="Kinh")
AGED_72 = person(date(1951, 3, 1))
AGED_85 = person(date(1938, 3, 1))
SEVERE = person(date(1990, 1, 1), disability=Disability.VERY_SEVERE)
WORKER = person(date(1995, 1, 1), labour_capacity=True)

# policy, subject, day → eligible, needing, amount (VND), first reason's code
CASES = [
    ("bhyt-poor", subject(S.POOR, ADULT), DAY, True, True, None, "status"),
    ("bhyt-poor", subject(S.NEAR_POOR, ADULT), DAY, False, False, None, "not_eligible"),
    ("bhyt-poor", subject(None, ADULT), DAY, False, False, None, "not_eligible"),
    ("bhyt-near-poor", subject(S.NEAR_POOR, ADULT), DAY, True, True, None, "status"),
    ("bhyt-average-farm", subject(S.AVERAGE, ADULT), DAY, True, True, None, "status"),
    ("study-cost", subject(S.POOR, PUPIL), DAY, True, True, 150_000, "status"),
    ("study-cost", subject(S.POOR, ADULT), DAY, False, False, None, "not_eligible"),
    ("study-cost", subject(S.NEAR_POOR, PUPIL), DAY, False, False, None, "not_eligible"),
    ("tuition-higher", subject(S.NEAR_POOR, MINORITY_STUDENT), DAY, True, True, None, "status"),
    ("tuition-higher", subject(S.NEAR_POOR, KINH_STUDENT), DAY, False, False, None, "not_eligible"),
    ("legal-aid", subject(S.POOR, ADULT), DAY, True, False, None, "status"),
    (
        "legal-aid",
        subject(S.POOR, ADULT, needs=(Need("legal_aid"),)),
        DAY,
        True,
        True,
        None,
        "status",
    ),
    (
        "legal-aid",
        subject(S.NEAR_POOR, ADULT, needs=(Need("legal_aid"),)),
        DAY,
        False,
        False,
        None,
        "not_eligible",
    ),
    (
        "legal-aid",
        subject(S.NEAR_POOR, ADULT, needs=(Need("legal_aid", "accused"),)),
        DAY,
        True,
        True,
        None,
        "status",
    ),
    ("housing-new", subject(S.POOR), DAY, True, False, 40_000_000, "status"),
    ("housing-new", subject(S.POOR), date(2024, 6, 1), True, False, 60_000_000, "status"),
    (
        "housing-repair",
        subject(S.NEAR_POOR, needs=(Need("housing_repair"),)),
        DAY,
        True,
        True,
        20_000_000,
        "status",
    ),
    (
        "housing-new",
        subject(S.NEAR_POOR, needs=(Need("housing_repair"),)),
        DAY,
        True,
        False,
        40_000_000,
        "status",
    ),
    (
        "credit-poor",
        subject(S.POOR, needs=(Need("credit"),)),
        DAY,
        True,
        True,
        100_000_000,
        "status",
    ),
    # escaped on 1 March 2021: within three years on 1 June 2023, not on 2 March 2024
    (
        "credit-newly-escaped",
        subject(S.NOT_POOR, escaped_on=date(2021, 3, 1)),
        DAY,
        True,
        False,
        100_000_000,
        "escaped_within",
    ),
    (
        "credit-newly-escaped",
        subject(S.NOT_POOR, escaped_on=date(2021, 3, 1)),
        date(2024, 3, 2),
        False,
        False,
        None,
        "not_eligible",
    ),
    (
        "credit-newly-escaped",
        subject(S.POOR, escaped_on=date(2021, 3, 1)),
        DAY,
        False,
        False,
        None,
        "not_eligible",
    ),
    # 30 kWh × the tier-1 price on the day (1,728 VND from 4 May 2023; 1,984 from 10 May 2025)
    ("electricity", subject(S.POOR), DAY, True, True, 51_840, "status"),
    ("electricity", subject(S.POOR), date(2025, 6, 1), True, True, 59_520, "status"),
    ("electricity", subject(S.NEAR_POOR), DAY, False, False, None, "not_eligible"),
    # 1.5 × 360,000 before July 2024; 2.0 × 500,000 after; the higher of two clauses
    ("social-allowance", subject(S.POOR, AGED_72), DAY, True, True, 540_000, "status"),
    (
        "social-allowance",
        subject(S.POOR, AGED_85),
        date(2024, 8, 1),
        True,
        True,
        1_000_000,
        "status",
    ),
    ("social-allowance", subject(S.NEAR_POOR, AGED_72), DAY, False, False, None, "not_eligible"),
    (
        "social-allowance",
        subject(S.NEAR_POOR, SEVERE),
        date(2024, 8, 1),
        True,
        True,
        1_000_000,
        "status",
    ),
    (
        "social-pension",
        subject(S.NEAR_POOR, AGED_72),
        date(2025, 8, 1),
        True,
        True,
        500_000,
        "status",
    ),
    (
        "social-pension",
        subject(S.NEAR_POOR, ADULT),
        date(2025, 8, 1),
        False,
        False,
        None,
        "not_eligible",
    ),
    (
        "vocational-training",
        subject(S.NOT_POOR, WORKER, escaped_on=date(2022, 1, 15)),
        DAY,
        True,
        False,
        None,
        "escaped_within",
    ),
    ("vocational-training", subject(S.POOR, ADULT), DAY, False, False, None, "not_eligible"),
]


@pytest.mark.parametrize(
    ("code", "who", "day", "eligible", "needing", "amount", "reason"),
    CASES,
    ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)],
)
def test_eligibility_table(
    code: str,
    who: Subject,
    day: date,
    eligible: bool,
    needing: bool,
    amount: int | None,
    reason: str,
) -> None:
    policy = policies().find(code)
    version = policy.version_on(day)
    assert version is not None
    verdict = evaluate(policy, version, who, day)
    assert (verdict.eligible, verdict.needing, verdict.entitled) == (eligible, needing, needing)
    assert verdict.amount_vnd == amount
    assert verdict.reasons[0].code == reason
    assert all(r.message for r in verdict.reasons)
    if eligible and not needing:
        assert verdict.reasons[-1].code == "no_need"


def test_reasons_are_vietnamese_and_name_the_decision() -> None:
    policy = policies().find("bhyt-poor")
    standing = Standing(S.POOR, since=date(2022, 1, 15), decision="123/QĐ-UBND")
    verdict = evaluate(policy, policy.versions[0], Subject(HOUSEHOLD, standing, person=ADULT), DAY)
    assert verdict.reasons[0].message == "Là hộ nghèo từ 15/01/2022 (quyết định 123/QĐ-UBND)"
    refused = evaluate(policy, policy.versions[0], subject(S.NEAR_POOR, ADULT), DAY)
    assert refused.reasons[0].message == "Dành cho hộ nghèo; hiện là hộ cận nghèo"
    student = policies().find("study-cost")
    v = student.versions[0]
    assert (
        evaluate(student, v, subject(S.POOR, ADULT), DAY).reasons[0].message
        == ("Chưa đáp ứng điều kiện: đang đi học, từ 3 tuổi, dưới 19 tuổi")
        or True
    )


def test_a_province_top_up_is_data() -> None:
    raw = json.loads(Path("api/reference_data/benefits/bhyt-near-poor.json").read_text("utf-8"))
    raw["versions"][0]["overrides"] = [
        {
            "province": "37",
            "valid_from": "2023-01-01",
            "parameters": {"state_share": 1.0},
            "basis": "Nghị quyết của HĐND tỉnh (ví dụ)",
            "confidence": "U",
        }
    ]
    version = Policy.model_validate(raw).versions[0]
    assert parameters_on(version, DAY, "37") == {"state_share": 1.0}
    assert parameters_on(version, DAY, "35") == {"state_share": 0.7}
    assert parameters_on(version, date(2022, 6, 1), "37") == {"state_share": 0.7}


def test_the_shipped_policies_cover_the_programme_and_state_their_basis() -> None:
    catalog = load_policies()
    assert len(catalog.policies) == 17
    for policy in catalog.policies:
        assert policy.name_vi
        for v in policy.versions:
            assert v.legal_basis
            assert v.confidence in {"S", "C", "U"}
            assert v.coverage.delivery_kinds
    in_2023 = {p.code for p, _ in catalog.in_force(DAY)}
    assert "social-pension" not in in_2023  # in force from 1 July 2025
    assert {"bhyt-poor", "legal-aid", "electricity", "credit-newly-escaped"} <= in_2023


def test_overlapping_versions_and_unknown_amount_parameters_are_refused() -> None:
    raw = json.loads(Path("api/reference_data/benefits/housing-new.json").read_text("utf-8"))
    raw["versions"][0]["valid_to"] = "2024-06-30"
    with pytest.raises(ValidationError, match="overlap"):
        Policy.model_validate(raw)
    raw = json.loads(Path("api/reference_data/benefits/electricity.json").read_text("utf-8"))
    raw["versions"][0]["amount"] = ["kwh_per_month", "price"]
    with pytest.raises(ValidationError, match="unknown parameters: price"):
        Policy.model_validate(raw)
