"""Benefit policies as versioned data loaded from the repository, like the poverty standards.

Amounts, shares, rates, windows and who qualifies live in
`api/reference_data/benefits/*.json`, each version with its validity, legal basis and a
confidence mark; code knows only the kinds of test. A province's top-ups are data too.
"""

import itertools
import json
from datetime import date
from enum import StrEnum
from functools import cache
from pathlib import Path

from pydantic import BaseModel, Field, model_validator

from api.domain.errors import FieldProblem, NotFound, ValidationFailed
from api.domain.households.member_models import Disability
from api.domain.households.models import PovertyStatus

DATA = Path(__file__).resolve().parents[2] / "reference_data" / "benefits"


class SubjectKind(StrEnum):
    PERSON = "person"
    HOUSEHOLD = "household"


class Agency(StrEnum):
    """Who delivers, and whose records say what was delivered."""

    SOCIAL_INSURANCE = "social_insurance"  # BHXH
    SOCIAL_POLICY_BANK = "social_policy_bank"  # NHCSXH
    EDUCATION = "education"
    JUSTICE = "justice"
    LABOUR = "labour"
    ELECTRICITY = "electricity"
    COMMUNE = "commune"


class Confidence(StrEnum):
    """S: read in the source text; C: consistent secondary sources; U: unverified."""

    S = "S"
    C = "C"
    U = "U"


class PersonTest(BaseModel):
    """What a person must be on the day (every test given must hold)."""

    age_from: int | None = Field(default=None, ge=0, le=150)
    age_below: int | None = Field(default=None, ge=0, le=150)
    ethnic_minority: bool | None = None
    attending_school: bool | None = None
    labour_capacity: bool | None = None
    disability_in: list[Disability] = Field(default_factory=list)


class Clause(BaseModel):
    """One way to qualify. A subject qualifies by the first clause that holds."""

    statuses: list[PovertyStatus] = Field(
        default_factory=list, description="The household's recognised status on the day"
    )
    escaped_within_years: int | None = Field(
        default=None, ge=1, le=10, description="Or: escaped poverty within this many years"
    )
    person: PersonTest | None = None
    need: str | None = Field(
        default=None, description="Needs a recorded need (or application) of this kind"
    )
    need_grounds: list[str] = Field(
        default_factory=list, description="…on one of these grounds (else any)"
    )
    coefficient: float = Field(default=1.0, ge=0, description="Multiplies the amount")
    label_vi: str = ""

    @model_validator(mode="after")
    def _qualifies_somehow(self) -> "Clause":
        if not self.statuses and self.escaped_within_years is None:
            raise ValueError("a clause names statuses or a status window")
        return self


class DatedValue(BaseModel):
    valid_from: date = Field(alias="from")
    value: float


class Parameter(BaseModel):
    """A number the policy uses: one value, or values that change on dates (a tariff)."""

    unit: str
    value: float | None = None
    dated: list[DatedValue] = Field(default_factory=list)
    confidence: Confidence | None = None
    note: str = ""

    @model_validator(mode="after")
    def _one_form(self) -> "Parameter":
        if (self.value is None) == (not self.dated):
            raise ValueError("a parameter has a value or dated values, not both")
        return self

    def on(self, day: date) -> float | None:
        if self.value is not None:
            return self.value
        known = [d for d in sorted(self.dated, key=lambda d: d.valid_from) if d.valid_from <= day]
        return known[-1].value if known else None


class Coverage(BaseModel):
    """What counts as served: a delivery of one of these kinds, valid on the day or made in
    the period."""

    delivery_kinds: list[str]
    measure: str = Field(description="valid_on | in_period")
    description_vi: str


class Override(BaseModel):
    """A province's top-up: parameters it sets for its people, from a date."""

    province: str
    valid_from: date
    valid_to: date | None = None
    parameters: dict[str, float]
    basis: str
    confidence: Confidence


class Version(BaseModel):
    version: str
    valid_from: date
    valid_to: date | None = None
    clauses: list[Clause] = Field(min_length=1)
    parameters: dict[str, Parameter] = Field(default_factory=dict)
    amount: list[str] = Field(
        default_factory=list,
        description="The amount is the product of these parameters (× the clause's coefficient)",
    )
    coverage: Coverage
    legal_basis: str
    confidence: Confidence
    overrides: list[Override] = Field(default_factory=list)
    notes: str = ""

    @model_validator(mode="after")
    def _amount_is_known(self) -> "Version":
        missing = [p for p in self.amount if p not in self.parameters]
        if missing:
            raise ValueError(f"amount uses unknown parameters: {', '.join(missing)}")
        return self

    def in_force(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


class Policy(BaseModel):
    code: str
    name_vi: str
    subject: SubjectKind
    agency: Agency
    versions: list[Version] = Field(min_length=1)

    @model_validator(mode="after")
    def _no_overlap(self) -> "Policy":
        ordered = sorted(self.versions, key=lambda v: v.valid_from)
        for before, after in itertools.pairwise(ordered):
            if before.valid_to is None or before.valid_to >= after.valid_from:
                raise ValueError(
                    f"{self.code}: versions {before.version} and {after.version} overlap"
                )
        self.versions = ordered
        return self

    def version_on(self, day: date) -> Version | None:
        return next((v for v in self.versions if v.in_force(day)), None)


class PolicyCatalog:
    def __init__(self, policies: list[Policy]) -> None:
        self.policies = sorted(policies, key=lambda p: p.code)

    def find(self, code: str) -> Policy:
        for p in self.policies:
            if p.code == code:
                return p
        raise NotFound(f"no benefit policy {code}")

    def in_force(self, day: date) -> list[tuple[Policy, Version]]:
        found = [(p, p.version_on(day)) for p in self.policies]
        return [(p, v) for p, v in found if v is not None]

    def pick(self, codes: list[str] | None) -> list[Policy]:
        if not codes:
            return self.policies
        known = {p.code for p in self.policies}
        unknown = [c for c in codes if c not in known]
        if unknown:
            raise ValidationFailed(
                [
                    FieldProblem(
                        "policy", f"no benefit policy {', '.join(unknown)}", "unknown", "query"
                    )
                ]
            )
        return [p for p in self.policies if p.code in codes]


def load_policies(folder: Path = DATA) -> PolicyCatalog:
    return PolicyCatalog(
        [
            Policy.model_validate(json.loads(p.read_text(encoding="utf-8")))
            for p in sorted(folder.glob("*.json"))
        ]
    )


@cache
def policies() -> PolicyCatalog:
    return load_policies()
