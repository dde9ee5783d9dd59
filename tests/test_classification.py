"""Classification of a household under each shipped poverty standard, as tables of cases."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.domain.errors import NotFound, ValidationFailed
from api.domain.households.models import PovertyStatus
from api.domain.review.classify import Band, Basis, Classification, Survey, classify
from api.domain.review.derive import RULES
from api.domain.review.standards import Area, IncomeLines, IncomeProxy, Standard, catalog

P, B = PovertyStatus, Band
POOR, NEAR, AVG, NOT = P.POOR, P.NEAR_POOR, P.AVERAGE, P.NOT_POOR
AT, BETWEEN, AVERAGE, ABOVE = B.AT_OR_UNDER_LINE, B.BETWEEN_LINE_AND_UPPER, B.AVERAGE, B.ABOVE
St = PovertyStatus | None
RURAL, URBAN = Area.RURAL, Area.URBAN
RANK = {NOT: 0, AVG: 1, NEAR: 2, POOR: 3}

# (line, average_upper) of the line-and-deprivations standards; (line, upper) of 59/2015.
LINE_AND_DEPRIVATIONS = {
    ("nd-07-2021", RURAL): (1_500_000, 2_250_000),
    ("nd-07-2021", URBAN): (2_000_000, 3_000_000),
    ("nd-351-2025", RURAL): (2_200_000, 3_300_000),
    ("nd-351-2025", URBAN): (2_800_000, 4_200_000),
}
TWO_TIER = {
    ("qd-59-2015", RURAL): (700_000, 1_000_000),
    ("qd-59-2015", URBAN): (900_000, 1_300_000),
}
LINES = LINE_AND_DEPRIVATIONS | TWO_TIER
ALL = list(LINES)
CODES = ["qd-59-2015", "nd-07-2021", "nd-351-2025"]


def std(code: str) -> Standard:
    return catalog().get(code)


def income_at(spec: str, code: str, area: Area) -> int:
    """'0', 'line', 'line+1', 'upper' or 'upper+1', upper being the top band's line."""
    line, upper = LINES[code, area]
    name, _, plus = spec.partition("+")
    return {"0": 0, "line": line, "upper": upper}[name] + int(plus or 0)


def counting(code: str, area: Area) -> tuple[int, Band]:
    """An income where the deprivation count decides, and its band."""
    line = LINES[code, area][0]
    return (line + 1, BETWEEN) if code == "qd-59-2015" else (line, AT)


def survey(
    standard: Standard,
    area: Area,
    income: int | None,
    deprived: int = 0,
    unknown: int = 0,
    *,
    agricultural: bool | None = None,
    screened_out: bool = False,
    income_proxy_score: int | None = None,
    province: str | None = None,
) -> Survey:
    """The first `deprived` indicators deprived, the next `unknown` unknown, the rest not."""
    codes = standard.indicator_codes
    flags: dict[str, bool | None] = dict.fromkeys(codes, False)
    flags.update(dict.fromkeys(codes[:deprived], True))
    flags.update(dict.fromkeys(codes[deprived : deprived + unknown], None))
    return Survey(area, flags, income, income_proxy_score, agricultural, screened_out, province)


def check(
    got: Classification,
    status: PovertyStatus | None,
    band: Band | None,
    line: int,
    deprived: tuple[str, ...],
    missing: tuple[str, ...] = (),
    basis: Basis | None = Basis.INCOME,
) -> None:
    assert (got.status, got.band, got.basis) == (status, band, basis)
    assert got.income_line == line
    assert got.deprived == deprived
    assert got.deprivation_count == len(deprived)
    assert got.missing == missing


def test_shipped_lines_and_rules() -> None:
    assert catalog().codes == CODES
    for (code, area), (line, average_upper) in LINE_AND_DEPRIVATIONS.items():
        s = std(code)
        assert s.lines(area) == IncomeLines(line=line, average_upper=average_upper)
        assert (s.rule.kind, s.rule.min_deprivations) == ("line_and_deprivations", 3)
    for (code, area), (line, upper) in TWO_TIER.items():
        assert std(code).lines(area) == IncomeLines(line=line, upper=upper)
        assert (std(code).rule.kind, std(code).rule.min_deprivations) == ("two_tier", 3)
    assert [len(std(c).indicators) for c in CODES] == [10, 12, 13]


@pytest.mark.parametrize("code", CODES)
def test_every_indicator_rule_kind_is_derivable(code: str) -> None:
    for ind in std(code).indicators:
        assert ind.rule["kind"] in RULES, ind.code


# (income, deprived, agricultural, status, band, missing)
LD_CASES = [
    ("0", 3, None, POOR, AT, ()),
    ("0", 0, None, NEAR, AT, ()),
    ("line", 3, None, POOR, AT, ()),
    ("line", 2, None, NEAR, AT, ()),
    ("line", 0, True, NEAR, AT, ()),
    ("line+1", 3, True, AVG, AVERAGE, ()),
    ("line+1", 3, False, NOT, AVERAGE, ()),
    ("line+1", 0, None, None, AVERAGE, ("agricultural",)),
    ("upper", 0, True, AVG, AVERAGE, ()),
    ("upper", 0, False, NOT, AVERAGE, ()),
    ("upper", 3, None, None, AVERAGE, ("agricultural",)),
    ("upper+1", 12, True, NOT, ABOVE, ()),
    ("upper+1", 0, None, NOT, ABOVE, ()),
]


@pytest.mark.parametrize(("code", "area"), list(LINE_AND_DEPRIVATIONS))
@pytest.mark.parametrize(("at", "n", "agricultural", "status", "band", "missing"), LD_CASES)
def test_line_and_deprivations_boundaries(
    code: str,
    area: Area,
    at: str,
    n: int,
    agricultural: bool | None,
    status: St,
    band: Band,
    missing: tuple[str, ...],
) -> None:
    s = std(code)
    got = classify(s, survey(s, area, income_at(at, code, area), n, agricultural=agricultural))
    check(got, status, band, LINES[code, area][0], tuple(s.indicator_codes[:n]), missing)


# (income, deprived, status, band)
TWO_TIER_CASES = [
    ("0", 0, POOR, AT),
    ("line", 0, POOR, AT),
    ("line", 10, POOR, AT),
    ("line+1", 2, NEAR, BETWEEN),
    ("line+1", 3, POOR, BETWEEN),
    ("upper", 2, NEAR, BETWEEN),
    ("upper", 3, POOR, BETWEEN),
    ("upper+1", 10, NOT, ABOVE),
    ("upper+1", 0, NOT, ABOVE),
]


@pytest.mark.parametrize(("code", "area"), list(TWO_TIER))
@pytest.mark.parametrize("agricultural", [True, False, None])
@pytest.mark.parametrize(("at", "n", "status", "band"), TWO_TIER_CASES)
def test_two_tier_boundaries(
    code: str, area: Area, agricultural: bool | None, at: str, n: int, status: St, band: Band
) -> None:
    """59/2015 has no average band: agriculture is never asked."""
    s = std(code)
    got = classify(s, survey(s, area, income_at(at, code, area), n, agricultural=agricultural))
    check(got, status, band, LINES[code, area][0], tuple(s.indicator_codes[:n]))


def count_cases() -> list[tuple[str, Area, int]]:
    return [(c, a, n) for c, a in ALL for n in range(len(std(c).indicators) + 1)]


@pytest.mark.parametrize(("code", "area", "n"), count_cases())
def test_every_deprivation_count(code: str, area: Area, n: int) -> None:
    """Where the count decides (at the line, or between the two-tier lines) 3 make poor."""
    s = std(code)
    income, band = counting(code, area)
    got = classify(s, survey(s, area, income, n))
    check(got, POOR if n >= 3 else NEAR, band, LINES[code, area][0], tuple(s.indicator_codes[:n]))


# (deprived, unknown, status, number of unknown codes listed as missing)
UNKNOWN_CASES = [
    (3, 2, POOR, 0),
    (4, 8, POOR, 0),
    (2, 0, NEAR, 0),
    (0, 2, NEAR, 0),
    (1, 1, NEAR, 0),
    (2, 1, None, 1),
    (1, 2, None, 2),
    (0, 3, None, 3),
    (0, 10, None, 10),
]


@pytest.mark.parametrize(("code", "area"), ALL)
@pytest.mark.parametrize(("n", "u", "status", "listed"), UNKNOWN_CASES)
def test_unknown_indicators_where_the_count_decides(
    code: str, area: Area, n: int, u: int, status: St, listed: int
) -> None:
    s = std(code)
    income, band = counting(code, area)
    got = classify(s, survey(s, area, income, n, u))
    missing = tuple(s.indicator_codes[n : n + u]) if listed else ()
    assert len(missing) == listed
    check(got, status, band, LINES[code, area][0], tuple(s.indicator_codes[:n]), missing)


@pytest.mark.parametrize("code", CODES)
def test_indicator_absent_from_the_answers_counts_as_unknown(code: str) -> None:
    s, line = std(code), LINES[code, RURAL][0]
    income, band = counting(code, RURAL)
    got = classify(s, Survey(area=RURAL, deprivations={}, income=income))
    check(got, None, band, line, (), tuple(s.indicator_codes))
    first = s.indicator_codes[:2]
    got = classify(s, Survey(area=RURAL, deprivations=dict.fromkeys(first, True), income=income))
    check(got, None, band, line, tuple(first), tuple(s.indicator_codes[2:]))


@pytest.mark.parametrize(
    ("code", "at", "agricultural", "status", "band"),
    [
        ("qd-59-2015", "line", None, POOR, AT),
        ("qd-59-2015", "upper+1", None, NOT, ABOVE),
        ("nd-07-2021", "line+1", True, AVG, AVERAGE),
        ("nd-07-2021", "line+1", False, NOT, AVERAGE),
        ("nd-07-2021", "upper+1", None, NOT, ABOVE),
        ("nd-351-2025", "upper", True, AVG, AVERAGE),
        ("nd-351-2025", "upper+1", True, NOT, ABOVE),
    ],
)
def test_unknown_indicators_that_cannot_matter(
    code: str, at: str, agricultural: bool | None, status: St, band: Band
) -> None:
    s = std(code)
    income, unknown = income_at(at, code, URBAN), len(s.indicators)
    got = classify(s, survey(s, URBAN, income, 0, unknown, agricultural=agricultural))
    check(got, status, band, LINES[code, URBAN][0], ())


def test_average_band_without_the_agriculture_condition() -> None:
    s = std("nd-07-2021")
    rule = s.rule.model_copy(update={"average_requires_agriculture": False})
    s = s.model_copy(update={"rule": rule})
    for agricultural in (True, False, None):
        got = classify(s, survey(s, RURAL, 1_500_001, agricultural=agricultural))
        check(got, AVG, AVERAGE, 1_500_000, ())


@pytest.mark.parametrize(("code", "area"), ALL)
@pytest.mark.parametrize("income", [None, 0, 10_000_000])
def test_quick_screen_excludes(code: str, area: Area, income: int | None) -> None:
    s = std(code)
    everything = len(s.indicators)
    got = classify(s, survey(s, area, income, everything, screened_out=True))
    line = LINES[code, area][0]
    check(got, NOT, None, line, tuple(s.indicator_codes), basis=Basis.QUICK_SCREEN)
    assert got.explanation == "excluded by the quick screen (A)"


@pytest.mark.parametrize(("code", "area"), ALL)
@pytest.mark.parametrize("proxy_score", [None, 10])
def test_missing_income(code: str, area: Area, proxy_score: int | None) -> None:
    """A proxy score counts only when the standard has a proxy table (none shipped)."""
    s = std(code)
    got = classify(s, survey(s, area, None, 4, income_proxy_score=proxy_score))
    line = LINES[code, area][0]
    check(got, None, None, line, tuple(s.indicator_codes[:4]), ("income",), basis=None)
    assert got.explanation == "income or income-proxy score missing"


PROXY = IncomeProxy(
    points={"motorbike": 10, "tv": 5},
    thresholds={
        RURAL: IncomeLines(line=40, upper=50, average_upper=60),
        URBAN: IncomeLines(line=45, upper=55, average_upper=70),
    },
)


@pytest.mark.parametrize(
    ("code", "area", "score", "n", "agricultural", "status", "band"),
    [
        ("nd-07-2021", RURAL, 40, 3, None, POOR, AT),
        ("nd-07-2021", RURAL, 40, 2, None, NEAR, AT),
        ("nd-07-2021", RURAL, 41, 3, True, AVG, AVERAGE),
        ("nd-07-2021", RURAL, 60, 3, False, NOT, AVERAGE),
        ("nd-07-2021", RURAL, 60, 0, None, None, AVERAGE),
        ("nd-07-2021", RURAL, 61, 3, True, NOT, ABOVE),
        ("nd-351-2025", URBAN, 45, 3, None, POOR, AT),
        ("nd-351-2025", URBAN, 46, 3, True, AVG, AVERAGE),
        ("nd-351-2025", URBAN, 71, 3, True, NOT, ABOVE),
        ("qd-59-2015", RURAL, 40, 0, None, POOR, AT),
        ("qd-59-2015", RURAL, 41, 2, None, NEAR, BETWEEN),
        ("qd-59-2015", RURAL, 50, 3, None, POOR, BETWEEN),
        ("qd-59-2015", RURAL, 51, 3, None, NOT, ABOVE),
        ("qd-59-2015", URBAN, 55, 3, None, POOR, BETWEEN),
    ],
)
def test_income_proxy(
    code: str, area: Area, score: int, n: int, agricultural: bool | None, status: St, band: Band
) -> None:
    s = std(code).model_copy(update={"income_proxy": PROXY})
    got = classify(s, survey(s, area, None, n, income_proxy_score=score, agricultural=agricultural))
    line = LINES[code, area][0]
    missing = ("agricultural",) if status is None else ()
    check(got, status, band, line, tuple(s.indicator_codes[:n]), missing, Basis.INCOME_PROXY)


def test_income_wins_over_the_proxy() -> None:
    s = std("nd-07-2021").model_copy(update={"income_proxy": PROXY})
    got = classify(s, survey(s, RURAL, 5_000_000, 3, income_proxy_score=0))
    check(got, NOT, ABOVE, 1_500_000, tuple(s.indicator_codes[:3]))
    got = classify(s, survey(s, RURAL, None, 3, income_proxy_score=None))
    check(got, None, None, 1_500_000, tuple(s.indicator_codes[:3]), ("income",), None)


LOCAL = {"37": {RURAL: IncomeLines(line=2_400_000, upper=3_000_000, average_upper=3_600_000)}}


@pytest.mark.parametrize(
    ("code", "area", "province", "income", "status", "band", "line"),
    [
        ("nd-07-2021", RURAL, "37", 2_400_000, POOR, AT, 2_400_000),
        ("nd-07-2021", RURAL, "37", 2_400_001, AVG, AVERAGE, 2_400_000),
        ("nd-07-2021", RURAL, "37", 3_600_000, AVG, AVERAGE, 2_400_000),
        ("nd-07-2021", RURAL, "37", 3_600_001, NOT, ABOVE, 2_400_000),
        ("nd-07-2021", RURAL, "01", 2_400_000, NOT, ABOVE, 1_500_000),
        ("nd-07-2021", RURAL, None, 2_400_000, NOT, ABOVE, 1_500_000),
        ("nd-07-2021", URBAN, "37", 2_000_000, POOR, AT, 2_000_000),
        ("nd-07-2021", URBAN, "37", 2_000_001, AVG, AVERAGE, 2_000_000),
        ("nd-351-2025", RURAL, "37", 2_400_000, POOR, AT, 2_400_000),
        ("nd-351-2025", RURAL, "01", 2_400_000, AVG, AVERAGE, 2_200_000),
        ("qd-59-2015", RURAL, "37", 2_400_000, POOR, AT, 2_400_000),
        ("qd-59-2015", RURAL, "37", 3_000_000, POOR, BETWEEN, 2_400_000),
        ("qd-59-2015", RURAL, "37", 3_000_001, NOT, ABOVE, 2_400_000),
        ("qd-59-2015", URBAN, "37", 1_300_000, POOR, BETWEEN, 900_000),
        ("qd-59-2015", URBAN, "37", 1_300_001, NOT, ABOVE, 900_000),
    ],
)
def test_local_province_lines(
    code: str, area: Area, province: str | None, income: int, status: St, band: Band, line: int
) -> None:
    """A province's own lines apply to its areas that have them; others use the national."""
    s = std(code).model_copy(update={"local_income_lines": LOCAL})
    assert s.lines(area, province).line == line
    got = classify(s, survey(s, area, income, 3, agricultural=True, province=province))
    check(got, status, band, line, tuple(s.indicator_codes[:3]))


@pytest.mark.parametrize(
    ("day", "code"),
    [
        (date(2016, 1, 1), "qd-59-2015"),
        (date(2021, 12, 31), "qd-59-2015"),
        (date(2022, 1, 1), "nd-07-2021"),
        (date(2026, 12, 31), "nd-07-2021"),
        (date(2027, 1, 1), "nd-351-2025"),
        (date(2030, 12, 31), "nd-351-2025"),
    ],
)
def test_in_force_by_date(day: date, code: str) -> None:
    assert catalog().in_force(day).code == code


@pytest.mark.parametrize("day", [date(2015, 12, 31), date(2031, 1, 1), date(1990, 6, 1)])
def test_no_standard_in_force(day: date) -> None:
    with pytest.raises(ValidationFailed) as caught:
        catalog().in_force(day)
    [problem] = caught.value.problems
    assert (problem.path, problem.code) == ("review_date", "no_standard")
    assert str(day) in problem.message
    with pytest.raises(ValidationFailed) as caught:
        catalog().in_force(day, field="day")
    assert caught.value.problems[0].path == "day"


def test_unknown_standard_code() -> None:
    with pytest.raises(ValidationFailed) as caught:
        catalog().get("qd-00-1999")
    [problem] = caught.value.problems
    assert (problem.path, problem.code) == ("standard", "unknown")
    assert "qd-59-2015, nd-07-2021, nd-351-2025" in problem.message
    with pytest.raises(NotFound):
        catalog().find("qd-00-1999")
    assert catalog().find("nd-07-2021") is std("nd-07-2021")


def status(key: tuple[str, Area], answers: dict[str, bool | None], income: int, agri: bool) -> St:
    return classify(std(key[0]), Survey(key[1], answers, income, agricultural=agri)).status


def rank(value: St) -> int:
    assert value is not None, "every indicator and agriculture are known"
    return RANK[value]


def answered(code: str, flags: list[bool] | list[bool | None]) -> dict[str, bool | None]:
    return dict(zip(std(code).indicator_codes, flags, strict=False))


households = st.tuples(
    st.sampled_from(ALL),
    st.integers(min_value=0, max_value=5_000_000),
    st.lists(st.booleans(), min_size=13, max_size=13),
    st.booleans(),
)
Household = tuple[tuple[str, Area], int, list[bool], bool]


@given(households, st.integers(min_value=0, max_value=5_000_000))
def test_more_income_never_poorer(h: Household, more: int) -> None:
    key, income, flags, agri = h
    answers = answered(key[0], flags)
    assert rank(status(key, answers, income + more, agri)) <= rank(
        status(key, answers, income, agri)
    )


@given(households, st.integers(min_value=0, max_value=12))
def test_another_deprivation_never_less_poor(h: Household, i: int) -> None:
    key, income, flags, agri = h
    answers = answered(key[0], flags)
    codes = std(key[0]).indicator_codes
    more = answers | {codes[i % len(codes)]: True}
    assert rank(status(key, more, income, agri)) >= rank(status(key, answers, income, agri))


@given(
    st.sampled_from(ALL),
    st.integers(min_value=0, max_value=5_000_000),
    st.lists(st.sampled_from([True, False, None]), min_size=13, max_size=13),
    st.booleans(),
)
def test_unknowns_listed_exactly_when_they_decide(
    key: tuple[str, Area], income: int, flags: list[bool | None], agri: bool
) -> None:
    """Status is set iff every way of answering the unknowns gives it; by monotonicity it
    is enough to answer them all deprived and all not deprived."""
    answers = answered(key[0], flags)
    unknown = tuple(c for c, v in answers.items() if v is None)
    got = classify(std(key[0]), Survey(key[1], answers, income, agricultural=agri))
    low, high = (
        status(key, answers | dict.fromkeys(unknown, v), income, agri) for v in (False, True)
    )
    if low == high:
        assert (got.status, got.missing) == (low, ())
    else:
        assert (got.status, got.missing) == (None, unknown)
