from typing import Annotated

from fastapi import APIRouter, Query, Response

from api.deps import ServicesDep
from api.domain.review.export import Table, to_csv, to_xlsx
from api.domain.review.report_models import Assumption, RateBasis, ReviewReport, WhatIf
from api.domain.strict import Day
from api.routers.common import CSV, ERRORS, XLSX, Format, download

router = APIRouter(prefix="/api/v1/reports", tags=["reports"], responses=ERRORS)


@router.get(
    "/review",
    response_model=ReviewReport,
    responses={200: {"content": {"text/csv": {}, XLSX: {}}}},
)
async def review_report(
    svc: ServicesDep,
    unit: Annotated[str, Query(min_length=1, max_length=16, description="Unit code")],
    from_: Annotated[Day, Query(alias="from", description="First day of the period")],
    to: Annotated[Day, Query(description="Last day of the period")],
    rate: Annotated[RateBasis, Query(description="What the rates divide")] = RateBasis.HOUSEHOLDS,
    format: Annotated[
        Format, Query(description="json, csv (one table) or xlsx (all)")
    ] = Format.JSON,
    table: Annotated[Table, Query(description="The table a CSV holds")] = Table.UNITS,
) -> ReviewReport | Response:
    """Poor and near-poor households and persons, counts and rates, for a unit and the units
    below it; movements over the period (checked: end = start − decreases + increases);
    deprivations by indicator; breakdowns by flag and cause."""
    report = await svc.reports.review(unit, from_, to, rate)
    if format == Format.JSON:
        return report
    name = f"ra-soat-{unit}-{from_:%Y%m%d}-{to:%Y%m%d}"
    if format == Format.CSV:
        return download(to_csv(report, table), CSV, f"{name}-{table.value}.csv")
    return download(to_xlsx(report), XLSX, f"{name}.xlsx")


@router.get("/what-if")
async def what_if(
    svc: ServicesDep,
    unit: Annotated[str, Query(min_length=1, max_length=16)],
    standard: Annotated[str, Query(min_length=1, max_length=32, description="e.g. nd-351-2025")],
    as_of: Annotated[Day | None, Query(description="Default: today")] = None,
    unknown: Annotated[
        Assumption, Query(description="How to take indicators the surveys did not ask")
    ] = Assumption.NOT_DEPRIVED,
) -> WhatIf:
    """Who would change class if `standard` applied to each household's latest assessment."""
    return await svc.reports.what_if(unit, standard, as_of, unknown)
