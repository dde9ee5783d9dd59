"""Classification of one household under one standard: a pure function of the answers."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from api.domain.households.models import PovertyStatus
from api.domain.review.standards import Area, IncomeLines, Standard, TwoTier


class Basis(StrEnum):
    INCOME = "income"
    INCOME_PROXY = "income_proxy"
    QUICK_SCREEN = "quick_screen"


class Band(StrEnum):
    """Where the income (or its proxy) falls against the standard's lines."""

    AT_OR_UNDER_LINE = "at_or_under_line"
    BETWEEN_LINE_AND_UPPER = "between_line_and_upper"
    AVERAGE = "average_band"
    ABOVE = "above"


@dataclass(frozen=True)
class Survey:
    """What classification needs from the survey. `deprivations` maps each indicator code of
    the standard to deprived (True), not deprived (False) or unknown (None)."""

    area: Area
    deprivations: Mapping[str, bool | None]
    income: int | None = None
    income_proxy_score: int | None = None
    agricultural: bool | None = None
    screened_out: bool = False
    province: str | None = None


@dataclass(frozen=True)
class Classification:
    status: PovertyStatus | None
    basis: Basis | None
    band: Band | None
    income_line: int
    deprived: tuple[str, ...]
    missing: tuple[str, ...] = field(default=())
    explanation: str = ""

    @property
    def deprivation_count(self) -> int:
        return len(self.deprived)


def _band(value: int, lines: IncomeLines, two_tier: bool) -> Band:
    if value <= lines.line:
        return Band.AT_OR_UNDER_LINE
    if two_tier and lines.upper is not None and value <= lines.upper:
        return Band.BETWEEN_LINE_AND_UPPER
    if not two_tier and lines.average_upper is not None and value <= lines.average_upper:
        return Band.AVERAGE
    return Band.ABOVE


def classify(standard: Standard, survey: Survey) -> Classification:
    lines = standard.lines(survey.area, survey.province)
    codes = standard.indicator_codes
    deprived = tuple(c for c in codes if survey.deprivations.get(c) is True)
    unknown = tuple(c for c in codes if survey.deprivations.get(c) is None)

    def result(
        status: PovertyStatus | None,
        basis: Basis | None,
        band: Band | None,
        why: str,
        missing: tuple[str, ...] = (),
    ) -> Classification:
        return Classification(status, basis, band, lines.line, deprived, missing, why)

    if survey.screened_out:
        return result(
            PovertyStatus.NOT_POOR, Basis.QUICK_SCREEN, None, "excluded by the quick screen (A)"
        )
    two_tier = isinstance(standard.rule, TwoTier)
    if survey.income is not None:
        basis, band = Basis.INCOME, _band(survey.income, lines, two_tier)
        position = f"income {survey.income:,} against the line {lines.line:,}"
    elif survey.income_proxy_score is not None and standard.income_proxy is not None:
        proxy = standard.income_proxy.thresholds[survey.area]
        basis, band = Basis.INCOME_PROXY, _band(survey.income_proxy_score, proxy, two_tier)
        position = f"income-proxy score {survey.income_proxy_score} against {proxy.line}"
    else:
        return result(None, None, None, "income or income-proxy score missing", ("income",))

    k = standard.rule.min_deprivations
    counted = f"{len(deprived)} deprivation(s), {k} make a household poor"
    if band == Band.ABOVE:
        return result(PovertyStatus.NOT_POOR, basis, band, f"{position}: above the bands")
    if band == Band.AVERAGE:
        if standard.rule.kind == "line_and_deprivations" and (
            standard.rule.average_requires_agriculture
        ):
            if survey.agricultural is None:
                return result(
                    None,
                    basis,
                    band,
                    f"{position}: is the household agricultural?",
                    ("agricultural",),
                )
            if not survey.agricultural:
                return result(
                    PovertyStatus.NOT_POOR,
                    basis,
                    band,
                    f"{position}: average band, not agricultural",
                )
        return result(PovertyStatus.AVERAGE, basis, band, f"{position}: average living standard")
    if two_tier and band == Band.AT_OR_UNDER_LINE:
        return result(PovertyStatus.POOR, basis, band, f"{position}: at or under the line")
    below = PovertyStatus.NEAR_POOR
    if len(deprived) >= k:
        return result(PovertyStatus.POOR, basis, band, f"{position}; {counted}")
    if len(deprived) + len(unknown) < k:
        return result(below, basis, band, f"{position}; {counted}")
    return result(None, basis, band, f"{position}; {counted}; unknown indicators decide", unknown)
