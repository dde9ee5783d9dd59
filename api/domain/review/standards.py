"""Poverty standards and the review procedure, as versioned data loaded from the repository.

Laws change every few years; thresholds, indicator lists and the rule's shape live in
`api/reference_data/standards/*.json`, never in code. Code knows only the kinds of rule.
"""

import json
from datetime import date
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from api.domain.errors import FieldProblem, NotFound, ValidationFailed

DATA = Path(__file__).resolve().parents[2] / "reference_data"


class Area(StrEnum):
    RURAL = "rural"
    URBAN = "urban"


class IncomeLines(BaseModel):
    line: int = Field(
        description="Per-capita monthly income (VND): at or under it, poor or near-poor"
    )
    upper: int | None = Field(
        default=None, description="Two-tier rule: the upper line between which deprivations decide"
    )
    average_upper: int | None = Field(
        default=None, description="Top of the average-living-standard band"
    )


class LineAndDeprivations(BaseModel):
    """Decree 07/2021 and Decree 351/2025: income at or under the line, then the count decides."""

    kind: Literal["line_and_deprivations"]
    min_deprivations: int
    average_requires_agriculture: bool = True


class TwoTier(BaseModel):
    """Decision 59/2015: poor at or under the line; between the line and the upper line the
    deprivation count decides between poor and near-poor."""

    kind: Literal["two_tier"]
    min_deprivations: int


Rule = Annotated[LineAndDeprivations | TwoTier, Field(discriminator="kind")]


class IncomeProxy(BaseModel):
    """Form B1: a points table whose total stands in for income. Scores at or under
    `thresholds[area].line` count as income at or under the line."""

    points: dict[str, int] = Field(default_factory=dict)
    thresholds: dict[Area, IncomeLines]


class Indicator(BaseModel):
    code: str
    dimension: str
    name_vi: str
    rule: dict[str, object] = Field(
        description="How the indicator is derived: a kind and its parameters"
    )
    provisional: bool = False
    confidence: str = "S"


class Standard(BaseModel):
    code: str
    title: str
    legal_basis: str
    valid_from: date
    valid_to: date | None
    confidence: str
    rule: Rule
    income_lines: dict[Area, IncomeLines]
    local_income_lines: dict[str, dict[Area, IncomeLines]] = Field(
        default_factory=dict, description="Higher local standards by province code"
    )
    income_proxy: IncomeProxy | None = None
    dimensions: list[str]
    indicators: list[Indicator]
    notes: str = ""

    def lines(self, area: Area, province: str | None = None) -> IncomeLines:
        local = self.local_income_lines.get(province or "")
        return local[area] if local and area in local else self.income_lines[area]

    def indicator(self, code: str) -> Indicator | None:
        return next((i for i in self.indicators if i.code == code), None)

    @property
    def indicator_codes(self) -> list[str]:
        return [i.code for i in self.indicators]


class ProcedurePeriod(BaseModel):
    valid_from: date
    valid_to: date | None
    district_opinion_required: bool
    source: str


class PeriodicWindow(BaseModel):
    from_: str = Field(alias="from", pattern=r"^\d{2}-\d{2}$")
    to: str = Field(pattern=r"^\d{2}-\d{2}$")

    def contains(self, start: date, end: date) -> bool:
        (m1, d1), (m2, d2) = (map(int, x.split("-")) for x in (self.from_, self.to))
        return date(start.year, m1, d1) <= start <= end <= date(start.year, m2, d2)


class Procedure(BaseModel):
    description: str
    periods: list[ProcedurePeriod]
    meeting_agreement_share: float
    regular_review_days: int
    periodic_window: PeriodicWindow

    def district_opinion_required(self, day: date) -> bool:
        for p in self.periods:
            if p.valid_from <= day and (p.valid_to is None or day <= p.valid_to):
                return p.district_opinion_required
        return False


class Catalog:
    def __init__(self, standards: list[Standard], procedure: Procedure) -> None:
        self.standards = sorted(standards, key=lambda s: s.valid_from)
        self.procedure = procedure

    def get(self, code: str, field: str = "standard") -> Standard:
        for s in self.standards:
            if s.code == code:
                return s
        raise ValidationFailed(
            [
                FieldProblem(
                    field, f"no standard {code!r}; known: {', '.join(self.codes)}", "unknown"
                )
            ]
        )

    def find(self, code: str) -> Standard:
        for s in self.standards:
            if s.code == code:
                return s
        raise NotFound(f"no standard {code}")

    @property
    def codes(self) -> list[str]:
        return [s.code for s in self.standards]

    def in_force(self, day: date, field: str = "review_date") -> Standard:
        for s in self.standards:
            if s.valid_from <= day and (s.valid_to is None or day <= s.valid_to):
                return s
        raise ValidationFailed(
            [FieldProblem(field, f"no poverty standard is in force on {day}", "no_standard")]
        )


def load_catalog(folder: Path = DATA) -> Catalog:
    standards = [
        Standard.model_validate(json.loads(p.read_text(encoding="utf-8")))
        for p in sorted((folder / "standards").glob("*.json"))
    ]
    procedure = Procedure.model_validate(
        json.loads((folder / "review_procedure.json").read_text(encoding="utf-8"))
    )
    return Catalog(standards, procedure)


@cache
def catalog() -> Catalog:
    return load_catalog()
