"""The plans' vocabularies as versioned data: indicator definitions, programmes and the
agencies tasks are given to (`api/reference_data/plans/`)."""

import json
from datetime import date
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from api.domain.errors import FieldProblem, ValidationFailed

DATA = Path(__file__).resolve().parents[2] / "reference_data" / "plans"


class IndicatorKind(StrEnum):
    COMPUTED = "computed"  # from the registry
    REPORTED = "reported"  # by an agency (its population is a roster, not households)
    DERIVED = "derived"  # from another indicator


class Direction(StrEnum):
    UP = "up"
    DOWN = "down"


class Indicator(BaseModel):
    code: str
    version: str
    name_vi: str
    kind: IndicatorKind
    unit: str = Field(description="percent, percentage_points, households, persons")
    direction: Direction
    population: str = Field(description="households, persons or roster")
    attribution: str = Field(description="How a household is placed: its unit at period end")
    disaggregations: list[str]
    compute: dict[str, Any] = Field(description="Where the value comes from")
    valid_from: date
    valid_to: date | None = None

    @property
    def is_rate(self) -> bool:
        return self.unit == "percent"


class Programme(BaseModel):
    code: str
    name_vi: str
    valid_from: date
    valid_to: date | None
    basis: str
    confidence: str


class AgencyEntry(BaseModel):
    code: str
    name_vi: str


class Vocabulary:
    def __init__(self, folder: Path = DATA) -> None:
        def read(name: str) -> Any:
            return json.loads((folder / name).read_text(encoding="utf-8"))

        self.indicators = [
            Indicator.model_validate(i) for i in read("indicators.json")["indicators"]
        ]
        self.programmes = [
            Programme.model_validate(p) for p in read("programmes.json")["programmes"]
        ]
        self.agencies = [AgencyEntry.model_validate(a) for a in read("agencies.json")["agencies"]]

    def indicator(self, code: str, field: str = "indicator") -> Indicator:
        for i in self.indicators:
            if i.code == code:
                return i
        raise ValidationFailed([FieldProblem(field, f"no indicator {code}", "unknown")])

    def programme(self, code: str, field: str = "programme") -> Programme:
        for p in self.programmes:
            if p.code == code:
                return p
        raise ValidationFailed([FieldProblem(field, f"no programme {code}", "unknown")])

    def agency(self, code: str, field: str) -> AgencyEntry:
        for a in self.agencies:
            if a.code == code:
                return a
        raise ValidationFailed([FieldProblem(field, f"no agency {code}", "unknown")])


@cache
def vocabulary() -> Vocabulary:
    return Vocabulary()
