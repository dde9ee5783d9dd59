"""The review report's figures as named cells, and the report with suppressed cells blanked:
what `suppression.protect` decides, applied alike to every table (pure)."""

from collections.abc import Iterable, Mapping
from typing import Any

from api.domain.review.report_models import (
    CountRow,
    DeprivationRow,
    MovementRow,
    RateBasis,
    ReviewReport,
    UnitRow,
)

UNIT_COUNTS = (
    "households",
    "persons",
    "poor_households",
    "poor_persons",
    "near_poor_households",
    "near_poor_persons",
)
# end = start - escaped - to_other_list - other_decrease + new + re_entered + from_other_list
MOVEMENT_TERMS = (
    "start",
    "new",
    "re_entered",
    "from_other_list",
    "escaped",
    "to_other_list",
    "other_decrease",
    "end",
)
LISTS = ("poor", "near_poor")
PROFILE_COUNTS = ("poor_households", "near_poor_households")
PROFILES = (("deprivations", "indicator"), ("flags", "key"), ("causes", "key"))


def linked() -> list[tuple[str, ...]]:
    """The movement identities, one per list, as groups of cell names."""
    return [tuple(f"movements.{lst}.{t}" for t in MOVEMENT_TERMS) for lst in LISTS]


def unit_cells(row: UnitRow) -> dict[str, int]:
    return {n: int(getattr(row, n) or 0) for n in UNIT_COUNTS}


def unit_figures(
    totals: UnitRow, movements: Iterable[MovementRow], profiles: Mapping[str, Iterable[Any]]
) -> dict[str, int]:
    """Every count of one unit: its totals, movements and profiles (deprivations, flags,
    causes, as `ReviewReport` names them)."""
    cells = unit_cells(totals)
    for m in movements:
        cells |= {f"movements.{m.list.value}.{t}": int(getattr(m, t) or 0) for t in MOVEMENT_TERMS}
    for table, key in PROFILES:
        for r in profiles[table]:
            prefix = f"{table}.{getattr(r, key)}"
            cells |= {f"{prefix}.{c}": int(getattr(r, c) or 0) for c in PROFILE_COUNTS}
    return cells


def blanked(
    report: ReviewReport,
    below: int,
    rows: Mapping[str, Iterable[str]],
    totals: Iterable[str],
) -> ReviewReport:
    """The report with the named cells null, for each row code and for the totals (whose
    names may be movement and profile cells too), and every figure derived from them."""
    paths: list[str] = []
    rate = report.rate_definition.code
    shown_rows = [
        _unit(r, set(rows.get(r.code, ())), rate, f"rows.{r.code}", paths) for r in report.rows
    ]
    hidden = set(totals)
    shown_totals = _unit(report.totals, hidden, rate, "totals", paths)
    movements = [_movement(m, hidden, paths) for m in report.movements]
    listed = {"poor": shown_totals.poor_households, "near_poor": shown_totals.near_poor_households}
    deprivations = [_deprivation(d, hidden, listed, paths) for d in report.deprivations]
    flags = [_count(c, hidden, "flags", paths) for c in report.flags]
    causes = [_count(c, hidden, "causes", paths) for c in report.causes]
    return report.model_copy(
        update={
            "rows": shown_rows,
            "totals": shown_totals,
            "movements": movements,
            "deprivations": deprivations,
            "flags": flags,
            "causes": causes,
            "small_cells_below": below,
            "suppressed": sorted(paths),
        }
    )


def _null(model: Any, names: Iterable[str], prefix: str, paths: list[str]) -> Any:
    names = sorted(set(names))
    paths += [f"{prefix}.{n}" for n in names]
    return model.model_copy(update=dict.fromkeys(names)) if names else model


def _unit(
    row: UnitRow, hidden: set[str], rate: RateBasis, prefix: str, paths: list[str]
) -> UnitRow:
    names = {n for n in UNIT_COUNTS if n in hidden}
    base = "households" if rate == RateBasis.HOUSEHOLDS else "persons"
    for lst in LISTS:
        if base in names or f"{lst}_{base}" in names:
            names.add(f"{lst}_rate")
    shown: UnitRow = _null(row, names, prefix, paths)
    return shown


def _movement(m: MovementRow, hidden: set[str], paths: list[str]) -> MovementRow:
    prefix = f"movements.{m.list.value}"
    names = {t for t in MOVEMENT_TERMS if f"{prefix}.{t}" in hidden}
    if names:
        names |= {"expected_end", "balanced"}
    shown: MovementRow = _null(m, names, prefix, paths)
    return shown


def _deprivation(
    d: DeprivationRow, hidden: set[str], listed: Mapping[str, int | None], paths: list[str]
) -> DeprivationRow:
    prefix = f"deprivations.{d.indicator}"
    names = set()
    for lst in LISTS:
        if f"{prefix}.{lst}_households" in hidden:
            names |= {f"{lst}_households", f"{lst}_share"}
        elif listed[lst] is None:
            names.add(f"{lst}_share")  # a share of a hidden total tells it
    shown: DeprivationRow = _null(d, names, prefix, paths)
    return shown


def _count(c: CountRow, hidden: set[str], table: str, paths: list[str]) -> CountRow:
    prefix = f"{table}.{c.key}"
    names = {n for n in PROFILE_COUNTS if f"{prefix}.{n}" in hidden}
    shown: CountRow = _null(c, names, prefix, paths)
    return shown
