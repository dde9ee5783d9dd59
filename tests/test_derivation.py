"""Deprivation indicators derived from household and member facts, with the reasoning shown."""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

import pytest

from api.domain.households.member_models import EducationLevel, Employment
from api.domain.households.models import Durability, InformationAsset, LatrineType, WaterSource
from api.domain.review.derive import Derived, age_on, derive, derive_all
from api.domain.review.standards import Indicator, catalog

DAY = date(2024, 6, 15)
ND07, ND351, QD59 = "nd-07-2021", "nd-351-2025", "qd-59-2015"


@dataclass(frozen=True)
class Home:
    floor_area_m2: float | None = 60.0
    wall_material: str | None = "durable"
    column_material: str | None = "durable"
    roof_material: str | None = "durable"
    water_source: str | None = "piped"
    latrine_type: str | None = "flush_septic"
    uses_telecom: bool | None = True
    information_assets: Sequence[str] = ("tv",)


@dataclass(frozen=True)
class Person:
    date_of_birth: date
    employment: str | None = "wage_with_contract"
    health_insurance: bool | None = True
    attending_school: bool | None = False
    education_level: str | None = "upper_secondary"
    labour_capacity: bool | None = True


def born(age: int, birthday: str = "yesterday") -> date:
    """Aged `age` on DAY, with the birthday the day before DAY, on DAY, or the day after
    (in which case the person is still `age` - 1 and turns `age` tomorrow)."""
    shift = {"yesterday": -1, "today": 0, "tomorrow": 1}[birthday]
    return DAY.replace(year=DAY.year - age) + timedelta(days=shift)


def aged(age: int, birthday: str = "yesterday", **facts: Any) -> Person:
    return replace(Person(born(age, birthday)), **facts)


def indicator(code: str, standard: str = ND07) -> Indicator:
    found = catalog().get(standard).indicator(code)
    assert found is not None
    return found


def run(code: str, people: Sequence[Person], home: Home = Home(), std: str = ND07) -> Derived:
    return derive(indicator(code, std), home, people, DAY)


@pytest.mark.parametrize(
    ("born_on", "day", "age"),
    [
        (date(2000, 6, 15), date(2024, 6, 14), 23),
        (date(2000, 6, 15), date(2024, 6, 15), 24),
        (date(2000, 2, 29), date(2023, 2, 28), 22),
        (date(2000, 2, 29), date(2023, 3, 1), 23),
        (date(2000, 2, 29), date(2024, 2, 29), 24),
        (date(2024, 6, 15), date(2024, 6, 15), 0),
    ],
)
def test_age_on(born_on: date, day: date, age: int) -> None:
    assert age_on(born_on, day) == age


def test_born_helper() -> None:
    assert [age_on(born(15, b), DAY) for b in ("yesterday", "today", "tomorrow")] == [15, 15, 14]


UNEMPLOYED = "unemployed"


def test_employment_derivation_text() -> None:
    got = run("employment", [aged(20, employment=UNEMPLOYED), aged(45, employment=UNEMPLOYED)])
    assert got == Derived(
        True, "2 member(s) aged 15–59 is unemployed or wage_without_contract (aged 20, 45)"
    )
    got = run("employment", [aged(30)])
    assert got == Derived(
        False, "no member aged 15–59 is unemployed or wage_without_contract (1 checked)"
    )


@pytest.mark.parametrize(
    ("members", "deprived", "text"),
    [
        ([aged(30, employment=UNEMPLOYED)], True, "(aged 30)"),
        ([aged(30, employment=Employment.WAGE_WITHOUT_CONTRACT)], True, "(aged 30)"),
        ([aged(30, employment="wage_with_contract")], False, "(1 checked)"),
        ([aged(30, employment="self_employed")], False, "(1 checked)"),
        ([aged(30, employment="not_in_labour_force")], False, "(1 checked)"),
        ([aged(30, employment=None)], None, "missing for 1 member(s) aged 15–59"),
        ([aged(30, employment=None), aged(40, employment=UNEMPLOYED)], True, "(aged 40)"),
        ([aged(15, "today", employment=UNEMPLOYED)], True, "(aged 15)"),
        ([aged(15, "yesterday", employment=UNEMPLOYED)], True, "(aged 15)"),
        ([aged(15, "tomorrow", employment=UNEMPLOYED)], False, "(0 checked)"),
        ([aged(60, "tomorrow", employment=UNEMPLOYED)], True, "(aged 59)"),
        ([aged(60, "today", employment=UNEMPLOYED)], False, "(0 checked)"),
        ([aged(70, employment=None), aged(10, employment=None)], False, "(0 checked)"),
    ],
)
def test_employment(members: list[Person], deprived: bool | None, text: str) -> None:
    got = run("employment", members)
    assert got.deprived is deprived
    assert text in got.derivation


ADULT, CHILD = aged(30), aged(10)


def test_dependants_derivation_text() -> None:
    assert run("dependants", [ADULT, CHILD, CHILD]) == Derived(
        True,
        "2 of 3 members are dependants (under 16, 60 or over, or unable to work): "
        "67% against at most 50%",
    )


@pytest.mark.parametrize(
    ("members", "deprived", "text"),
    [
        ([ADULT, ADULT, CHILD, CHILD], False, "2 of 4 members are dependants"),
        ([ADULT, CHILD, CHILD], True, "2 of 3"),
        ([ADULT, aged(40, labour_capacity=False), aged(5)], True, "2 of 3"),
        ([ADULT, aged(16, "tomorrow"), aged(16, "tomorrow")], True, "2 of 3"),
        ([ADULT, aged(16, "today"), aged(16, "yesterday")], False, "0 of 3"),
        ([ADULT, aged(60, "today"), aged(60, "yesterday")], True, "2 of 3"),
        ([ADULT, aged(60, "tomorrow"), aged(60, "tomorrow")], False, "0 of 3"),
        ([aged(80)], True, "1 of 1 members are dependants"),
        ([ADULT], False, "0 of 1 members are dependants"),
        ([ADULT, aged(70)], False, "1 of 2 members are dependants"),
        ([], None, "no members recorded"),
    ],
)
def test_dependants(members: list[Person], deprived: bool | None, text: str) -> None:
    got = run("dependants", members)
    assert got.deprived is deprived
    assert text in got.derivation


def test_dependants_unknown_labour_capacity_that_decides_is_unknown() -> None:
    """One elder and one working-age member whose labour capacity is not recorded: 1 or 2
    dependants of 2, so the indicator depends on the missing fact and must be asked."""
    got = run("dependants", [aged(70), aged(40, labour_capacity=None)])
    assert got.deprived is None


@pytest.mark.parametrize(
    ("members", "deprived", "text"),
    [
        ([aged(6, "today", health_insurance=False)], True, "1 member(s) aged 6+ has no health"),
        ([aged(6, "yesterday", health_insurance=False)], True, "insurance (aged 6)"),
        ([aged(6, "tomorrow", health_insurance=False)], False, "(0 checked)"),
        ([aged(90, health_insurance=False)], True, "(aged 90)"),
        ([ADULT, aged(8, health_insurance=True)], False, "no member aged 6+ has no health"),
        ([aged(30, health_insurance=None)], None, "missing for 1 member(s) aged 6+"),
        ([aged(30, health_insurance=None), aged(2, health_insurance=None)], None, "for 1 member"),
        ([aged(30, health_insurance=None), aged(8, health_insurance=False)], True, "(aged 8)"),
    ],
)
def test_health_insurance(members: list[Person], deprived: bool | None, text: str) -> None:
    for std in (ND07, ND351, QD59):
        got = run("health_insurance", members, std=std)
        assert got.deprived is deprived
        assert text in got.derivation


LOWER, UPPER = "lower_secondary", "upper_secondary"


# (standard, age, birthday, education, attending school, deprived, text)
@pytest.mark.parametrize(
    ("std", "age", "birthday", "education", "attending", "deprived", "text"),
    [
        (ND07, 17, "yesterday", "primary", False, True, "aged 16–17 neither studies nor has"),
        (ND07, 17, "yesterday", LOWER, False, False, "no member aged 16–17"),
        (ND07, 16, "today", "none", False, True, "(aged 16)"),
        (ND07, 16, "tomorrow", "none", False, False, "(0 checked); no member aged 18–30"),
        (ND07, 25, "yesterday", LOWER, False, True, "nor has upper_secondary (aged 25)"),
        (ND07, 25, "yesterday", UPPER, False, False, "(1 checked)"),
        (ND07, 25, "yesterday", "vocational", False, False, "(1 checked)"),
        (ND07, 25, "yesterday", EducationLevel.VOCATIONAL, False, False, "(1 checked)"),
        (ND07, 25, "yesterday", "college_or_higher", False, False, "(1 checked)"),
        (ND07, 25, "yesterday", "primary", True, False, "(1 checked)"),
        (ND07, 25, "yesterday", None, True, False, "(1 checked)"),
        (ND07, 25, "yesterday", None, False, None, "missing for 1 member(s) aged 18–30"),
        (ND07, 18, "today", LOWER, False, True, "(aged 18)"),
        (ND07, 18, "tomorrow", LOWER, False, False, "no member aged 16–17"),
        (ND07, 30, "yesterday", "none", False, True, "(aged 30)"),
        (ND07, 31, "today", "none", False, False, "(0 checked)"),
        (ND07, 31, "tomorrow", "none", False, True, "(aged 30)"),
        (ND07, 15, "yesterday", "none", False, False, "(0 checked)"),
        (ND351, 20, "yesterday", LOWER, False, True, "(aged 20)"),
        (QD59, 15, "yesterday", "primary", False, True, "aged 15–30 neither studies nor has"),
        (QD59, 15, "tomorrow", "primary", False, False, "(0 checked)"),
        (QD59, 25, "yesterday", LOWER, False, False, "(1 checked)"),
        (QD59, 30, "yesterday", "primary", True, False, "(1 checked)"),
        (QD59, 31, "today", "primary", False, False, "(0 checked)"),
    ],
)
def test_adult_education(
    std: str,
    age: int,
    birthday: str,
    education: str | None,
    attending: bool | None,
    deprived: bool | None,
    text: str,
) -> None:
    person = aged(age, birthday, education_level=education, attending_school=attending)
    got = run("adult_education", [person], std=std)
    assert got.deprived is deprived
    assert text in got.derivation


def test_adult_education_names_every_band() -> None:
    got = run("adult_education", [aged(25), aged(17, education_level="primary")])
    assert got == Derived(
        True,
        "1 member(s) aged 16–17 neither studies nor has lower_secondary (aged 17); "
        "no member aged 18–30 neither studies nor has upper_secondary (1 checked)",
    )


def test_adult_education_one_band_deprived_other_unknown() -> None:
    people = [aged(17, education_level="primary"), aged(25, education_level=None)]
    assert run("adult_education", people).deprived is True


def test_adult_education_unknown_school_attendance_that_decides_is_unknown() -> None:
    """A 25-year-old without upper secondary whose school attendance is not recorded may be
    studying: the indicator depends on the missing fact and must be asked, not derived."""
    person = aged(25, education_level="lower_secondary", attending_school=None)
    assert run("adult_education", [person]).deprived is None


# (standard, age, birthday, attending school, deprived, text)
@pytest.mark.parametrize(
    ("std", "age", "birthday", "attending", "deprived", "text"),
    [
        (ND07, 3, "today", False, True, "1 member(s) aged 3–15 does not attend school (aged 3)"),
        (ND07, 3, "tomorrow", False, False, "no member aged 3–15 does not attend school"),
        (ND07, 10, "yesterday", True, False, "(1 checked)"),
        (ND07, 10, "yesterday", None, None, "missing for 1 member(s) aged 3–15"),
        (ND07, 16, "tomorrow", False, True, "(aged 15)"),
        (ND07, 16, "today", False, False, "(0 checked)"),
        (ND351, 15, "yesterday", False, True, "(aged 15)"),
        (QD59, 5, "today", False, True, "aged 5–14 does not attend school (aged 5)"),
        (QD59, 5, "tomorrow", False, False, "(0 checked)"),
        (QD59, 15, "tomorrow", False, True, "(aged 14)"),
        (QD59, 15, "today", False, False, "(0 checked)"),
    ],
)
def test_child_schooling(
    std: str, age: int, birthday: str, attending: bool | None, deprived: bool | None, text: str
) -> None:
    got = run("child_schooling", [aged(age, birthday, attending_school=attending)], std=std)
    assert got.deprived is deprived
    assert text in got.derivation


N, D = "non_durable", "durable"


@pytest.mark.parametrize(
    ("walls", "columns", "roof", "deprived", "text"),
    [
        (D, D, D, False, "non-durable: none; at least 2 of 3 makes it deprived"),
        (N, D, D, False, "non-durable: walls; at least 2 of 3"),
        (D, N, N, True, "non-durable: columns, roof; at least 2 of 3"),
        (N, N, N, True, "non-durable: walls, columns, roof"),
        (Durability.NON_DURABLE, D, Durability.NON_DURABLE, True, "non-durable: walls, roof"),
        (N, N, None, True, "non-durable: walls, columns"),
        (D, None, D, False, "non-durable: none"),
        (N, None, D, None, "missing: columns material"),
        (D, None, None, None, "missing: columns, roof material"),
        (None, None, None, None, "missing: walls, columns, roof material"),
    ],
)
def test_housing_quality(
    walls: str | None, columns: str | None, roof: str | None, deprived: bool | None, text: str
) -> None:
    home = Home(wall_material=walls, column_material=columns, roof_material=roof)
    got = run("housing_quality", [aged(30)], home)
    assert got.deprived is deprived
    assert text in got.derivation


@pytest.mark.parametrize(
    ("area", "members", "deprived", "text"),
    [
        (24.0, 3, False, "24 m² for 3 members = 8.00 m² per person against 8 m²"),
        (16.0, 2, False, "8.00 m² per person"),
        (23.7, 3, True, "23.7 m² for 3 members = 7.90 m² per person"),
        (23.9, 3, True, "23.9 m² for 3 members = 7.97 m² per person"),
        (8.0, 1, False, "8.00 m² per person"),
        (7.5, 1, True, "7.50 m² per person"),
        (0.0, 1, True, "0 m² for 1 members = 0.00 m² per person"),
        (100.0, 4, False, "25.00 m² per person"),
        (None, 2, None, "missing: floor area or members"),
        (40.0, 0, None, "missing: floor area or members"),
    ],
)
def test_floor_area_per_person(area: float | None, members: int, deprived: bool, text: str) -> None:
    got = run("housing_area", [aged(30)] * members, Home(floor_area_m2=area))
    assert got.deprived is deprived
    assert text in got.derivation


CLEAN = ["piped", "drilled_well", "protected_dug_well", "protected_spring", "rainwater", "bottled"]
HYGIENIC = ["flush_septic", "flush_sewer", "double_vault", "ventilated_pit", "biogas"]


@pytest.mark.parametrize("std", [ND07, ND351, QD59])
def test_water_source(std: str) -> None:
    for source in [*CLEAN, WaterSource.RAINWATER]:
        got = run("domestic_water", [], Home(water_source=source), std)
        assert got == Derived(False, f"water source is {source}: acceptable")
    for source in ["unprotected_well", "unprotected_spring", "surface_water", "other"]:
        got = run("domestic_water", [], Home(water_source=source), std)
        assert got == Derived(True, f"water source is {source}: not acceptable")
    got = run("domestic_water", [], Home(water_source=None), std)
    assert got == Derived(None, "missing: water source")


@pytest.mark.parametrize("std", [ND07, ND351, QD59])
def test_latrine(std: str) -> None:
    for kind in [*HYGIENIC, LatrineType.BIOGAS]:
        got = run("latrine", [], Home(latrine_type=kind), std)
        assert got == Derived(False, f"latrine is {kind}: acceptable")
    for kind in ["unhygienic", "none"]:
        got = run("latrine", [], Home(latrine_type=kind), std)
        assert got == Derived(True, f"latrine is {kind}: not acceptable")
    assert run("latrine", [], Home(latrine_type=None), std) == Derived(None, "missing: latrine")


@pytest.mark.parametrize(
    ("uses", "expected"),
    [
        (True, Derived(False, "some member uses telephone or internet")),
        (False, Derived(True, "no member does")),
        (None, Derived(None, "missing: telecom use")),
    ],
)
def test_telecom_use(uses: bool | None, expected: Derived) -> None:
    for std in (ND07, ND351, QD59):
        assert run("telecom_use", [], Home(uses_telecom=uses), std) == expected


ND07_ASSETS, QD59_ASSETS = "tv, radio, computer, phone, tablet", "tv, radio, computer, phone"


@pytest.mark.parametrize(
    ("std", "assets", "deprived", "owns"),
    [
        (ND07, (), True, "none"),
        (ND07, ("tv",), False, "tv"),
        (ND07, ("tablet",), False, "tablet"),
        (ND07, ("phone", "radio", "phone"), False, "phone, radio"),
        (ND07, (InformationAsset.COMPUTER,), False, "computer"),
        (ND07, ("fridge",), True, "none"),
        (QD59, ("tablet",), True, "none"),
        (QD59, ("radio",), False, "radio"),
        (QD59, (), True, "none"),
    ],
)
def test_information_assets(std: str, assets: tuple[str, ...], deprived: bool, owns: str) -> None:
    listed = ND07_ASSETS if std == ND07 else QD59_ASSETS
    got = run("information_assets", [], Home(information_assets=assets), std)
    assert got == Derived(deprived, f"owns {owns} of {listed}")


def test_information_assets_are_not_an_indicator_of_351() -> None:
    assert catalog().get(ND351).indicator("information_assets") is None


@pytest.mark.parametrize(
    ("std", "code", "ask"),
    [
        (ND07, "nutrition", "a child under 16 is stunted or underweight"),
        (ND351, "nutrition", "a child under 16 is stunted or underweight"),
        (QD59, "health_access", "a member was seriously ill and could not get treatment"),
        (ND351, "digital_use", "no member uses the internet or digital services"),
        (ND351, "waste_handling", "household waste is not collected or treated"),
    ],
)
def test_answered_indicators_are_never_derived(std: str, code: str, ask: str) -> None:
    for people in ([], [aged(30)], [aged(5, attending_school=False), aged(70)]):
        got = run(code, people, Home(), std)
        assert got == Derived(None, f"answered by the reviewer: {ask}")


@pytest.mark.parametrize(
    ("code", "deprived", "text"),
    [
        ("employment", False, "no member aged 15–59 is unemployed or wage_without_contract (0"),
        ("health_insurance", False, "no member aged 6+ has no health insurance (0 checked)"),
        ("child_schooling", False, "no member aged 3–15 does not attend school (0 checked)"),
        ("adult_education", False, "upper_secondary (0 checked)"),
        ("dependants", None, "no members recorded"),
        ("housing_area", None, "missing: floor area or members"),
    ],
)
def test_empty_members(code: str, deprived: bool | None, text: str) -> None:
    """With no members recorded, the member rules find nobody failing; the ratio rules cannot
    divide and ask instead."""
    got = run(code, [])
    assert got.deprived is deprived
    assert text in got.derivation


@pytest.mark.parametrize("std", [ND07, ND351, QD59])
def test_derive_all_for_a_well_off_household(std: str) -> None:
    standard = catalog().get(std)
    people = [aged(40), aged(38), aged(10, attending_school=True, education_level="primary")]
    got = derive_all(standard.indicators, Home(), people, DAY)
    assert list(got) == standard.indicator_codes
    answered = {i.code for i in standard.indicators if i.rule["kind"] == "answered"}
    assert {c for c, d in got.items() if d.deprived is None} == answered
    assert not [c for c, d in got.items() if d.deprived]
