"""Deprivation indicators derived from what the registry records about a household and its
members, with the reasoning shown. An indicator that cannot be derived (missing facts, or one
only the reviewer can observe) comes back as None and must be answered."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from api.domain.review.standards import Indicator

EDUCATION_RANK = {
    "none": 0,
    "primary": 1,
    "lower_secondary": 2,
    "upper_secondary": 3,
    "vocational": 3,
    "college_or_higher": 4,
}


class PersonLike(Protocol):
    @property
    def date_of_birth(self) -> date: ...
    @property
    def employment(self) -> Any: ...
    @property
    def health_insurance(self) -> bool | None: ...
    @property
    def attending_school(self) -> bool | None: ...
    @property
    def education_level(self) -> Any: ...
    @property
    def labour_capacity(self) -> bool | None: ...


class DwellingLike(Protocol):
    @property
    def floor_area_m2(self) -> float | None: ...
    @property
    def wall_material(self) -> Any: ...
    @property
    def column_material(self) -> Any: ...
    @property
    def roof_material(self) -> Any: ...
    @property
    def water_source(self) -> Any: ...
    @property
    def latrine_type(self) -> Any: ...
    @property
    def uses_telecom(self) -> bool | None: ...
    @property
    def information_assets(self) -> Sequence[Any]: ...


@dataclass(frozen=True)
class Derived:
    deprived: bool | None
    derivation: str


def age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def _v(value: Any) -> Any:
    return getattr(value, "value", value)


@dataclass(frozen=True)
class _Facts:
    home: DwellingLike
    people: Sequence[PersonLike]
    day: date

    def ages(self) -> list[tuple[int, PersonLike]]:
        return [(age_on(p.date_of_birth, self.day), p) for p in self.people]

    def aged(self, low: int, high: int | None = None) -> list[tuple[int, PersonLike]]:
        return [(a, p) for a, p in self.ages() if a >= low and (high is None or a < high)]


def _members_rule(
    f: _Facts,
    chosen: list[tuple[int, PersonLike]],
    check: Callable[[PersonLike], bool | None],
    what: str,
    scope: str,
) -> Derived:
    """Deprived when some chosen member fails `check`; unknown when none fails and some
    member's fact is missing."""
    bad = [a for a, p in chosen if check(p) is True]
    if bad:
        ages = ", ".join(str(a) for a in sorted(bad))
        return Derived(True, f"{len(bad)} member(s) {scope} {what} (aged {ages})")
    unknown = [a for a, p in chosen if check(p) is None]
    if unknown:
        return Derived(None, f"missing for {len(unknown)} member(s) {scope}")
    return Derived(False, f"no member {scope} {what} ({len(chosen)} checked)")


def _employment(f: _Facts, r: dict[str, Any]) -> Derived:
    bad = set(r["deprived_if"])

    def check(p: PersonLike) -> bool | None:
        return None if p.employment is None else _v(p.employment) in bad

    scope = f"aged {r['from_age']}–{r['to_age'] - 1}"
    return _members_rule(
        f, f.aged(r["from_age"], r["to_age"]), check, "is " + " or ".join(sorted(bad)), scope
    )


def _dependants(f: _Facts, r: dict[str, Any]) -> Derived:
    if not f.people:
        return Derived(None, "no members recorded")
    by_age = [a < r["child_under"] or a >= r["elderly_from"] for a, _ in f.ages()]
    dependants = sum(
        1
        for old_or_young, (_, p) in zip(by_age, f.ages(), strict=True)
        if old_or_young or p.labour_capacity is False
    )
    unknown = sum(
        1
        for old_or_young, (_, p) in zip(by_age, f.ages(), strict=True)
        if not old_or_young and p.labour_capacity is None
    )
    share = dependants / len(f.people)
    if (share > r["max_share"]) != ((dependants + unknown) / len(f.people) > r["max_share"]):
        return Derived(
            None, f"labour capacity missing for {unknown} member(s) of working age, and it decides"
        )
    return Derived(
        share > r["max_share"],
        f"{dependants} of {len(f.people)} members are dependants (under {r['child_under']}, "
        f"{r['elderly_from']} or over, or unable to work): {share:.0%} against at most "
        f"{r['max_share']:.0%}",
    )


def _insurance(f: _Facts, r: dict[str, Any]) -> Derived:
    def check(p: PersonLike) -> bool | None:
        return None if p.health_insurance is None else not p.health_insurance

    return _members_rule(
        f, f.aged(r["from_age"]), check, "has no health insurance", f"aged {r['from_age']}+"
    )


def _adult_education(f: _Facts, r: dict[str, Any]) -> Derived:
    found: list[Derived] = []
    for band in r["bands"]:
        need = EDUCATION_RANK[band["required"]]

        def check(p: PersonLike, need: int = need) -> bool | None:
            if p.attending_school:
                return False
            if p.education_level is None:
                return None
            if EDUCATION_RANK[_v(p.education_level)] >= need:
                return False
            # Below the level: deprived unless studying, and unknown if that is not recorded.
            return None if p.attending_school is None else True

        found.append(
            _members_rule(
                f,
                f.aged(band["from_age"], band["to_age"]),
                check,
                f"neither studies nor has {band['required']}",
                f"aged {band['from_age']}–{band['to_age'] - 1}",
            )
        )
    return _combine(found)


def _child_schooling(f: _Facts, r: dict[str, Any]) -> Derived:
    def check(p: PersonLike) -> bool | None:
        return None if p.attending_school is None else not p.attending_school

    return _members_rule(
        f,
        f.aged(r["from_age"], r["to_age"]),
        check,
        "does not attend school",
        f"aged {r['from_age']}–{r['to_age'] - 1}",
    )


def _combine(parts: list[Derived]) -> Derived:
    text = "; ".join(p.derivation for p in parts)
    if any(p.deprived for p in parts):
        return Derived(True, text)
    if any(p.deprived is None for p in parts):
        return Derived(None, text)
    return Derived(False, text)


def _housing_quality(f: _Facts, r: dict[str, Any]) -> Derived:
    parts = {
        "walls": f.home.wall_material,
        "columns": f.home.column_material,
        "roof": f.home.roof_material,
    }
    weak = [k for k, v in parts.items() if v is not None and _v(v) == "non_durable"]
    unknown = [k for k, v in parts.items() if v is None]
    need = r["min_non_durable"]
    text = f"non-durable: {', '.join(weak) or 'none'}; at least {need} of 3 makes it deprived"
    if len(weak) >= need:
        return Derived(True, text)
    if len(weak) + len(unknown) < need:
        return Derived(False, text)
    return Derived(None, f"missing: {', '.join(unknown)} material")


def _floor_area(f: _Facts, r: dict[str, Any]) -> Derived:
    if f.home.floor_area_m2 is None or not f.people:
        return Derived(None, "missing: floor area or members")
    per = f.home.floor_area_m2 / len(f.people)
    return Derived(
        per < r["min_m2"],
        f"{f.home.floor_area_m2:g} m² for {len(f.people)} members = {per:.2f} m² per person "
        f"against {r['min_m2']} m²",
    )


def _in_list(value: Any, good: list[str], what: str) -> Derived:
    if value is None:
        return Derived(None, f"missing: {what}")
    ok = _v(value) in good
    return Derived(not ok, f"{what} is {_v(value)}: {'acceptable' if ok else 'not acceptable'}")


def _telecom(f: _Facts, r: dict[str, Any]) -> Derived:
    if f.home.uses_telecom is None:
        return Derived(None, "missing: telecom use")
    return Derived(
        not f.home.uses_telecom,
        "some member uses telephone or internet" if f.home.uses_telecom else "no member does",
    )


def _assets(f: _Facts, r: dict[str, Any]) -> Derived:
    owned = sorted({_v(a) for a in f.home.information_assets} & set(r["assets"]))
    return Derived(not owned, f"owns {', '.join(owned) or 'none'} of {', '.join(r['assets'])}")


def _answered(f: _Facts, r: dict[str, Any]) -> Derived:
    return Derived(None, f"answered by the reviewer: {r.get('ask', 'observed')}")


@dataclass(frozen=True)
class Rule:
    derive: Callable[[_Facts, dict[str, Any]], Derived]
    # The record fields ("member.health_insurance") the rule reads: its derivation text falls
    # under their masking, since it can tell them (the ages of those without insurance).
    reads: frozenset[str]


def _reads(*fields: str) -> frozenset[str]:
    return frozenset(fields)


AGES = "member.date_of_birth"
RULES: dict[str, Rule] = {
    "member_employment": Rule(_employment, _reads(AGES, "member.employment")),
    "dependants_ratio": Rule(_dependants, _reads(AGES, "member.labour_capacity")),
    "member_without_insurance": Rule(_insurance, _reads(AGES, "member.health_insurance")),
    "adult_education": Rule(
        _adult_education, _reads(AGES, "member.attending_school", "member.education_level")
    ),
    "child_schooling": Rule(_child_schooling, _reads(AGES, "member.attending_school")),
    "housing_quality": Rule(
        _housing_quality,
        _reads("household.wall_material", "household.column_material", "household.roof_material"),
    ),
    "floor_area_per_person": Rule(_floor_area, _reads("household.floor_area_m2")),
    "water_source": Rule(
        lambda f, r: _in_list(f.home.water_source, r["clean"], "water source"),
        _reads("household.water_source"),
    ),
    "latrine": Rule(
        lambda f, r: _in_list(f.home.latrine_type, r["hygienic"], "latrine"),
        _reads("household.latrine_type"),
    ),
    "telecom_use": Rule(_telecom, _reads("household.uses_telecom")),
    "information_assets": Rule(_assets, _reads("household.information_assets")),
    "answered": Rule(_answered, _reads()),
}


def reads(indicator: Indicator) -> frozenset[str]:
    return RULES[str(indicator.rule["kind"])].reads


def derive(
    indicator: Indicator, home: DwellingLike, people: Sequence[PersonLike], day: date
) -> Derived:
    rule = RULES[str(indicator.rule["kind"])]
    return rule.derive(_Facts(home, people, day), indicator.rule)


def derive_all(
    indicators: Sequence[Indicator], home: DwellingLike, people: Sequence[PersonLike], day: date
) -> dict[str, Derived]:
    return {i.code: derive(i, home, people, day) for i in indicators}
