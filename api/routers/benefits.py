import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from api.deps import IfMatchDep, RequestKeyDep, ServicesDep
from api.domain.benefits.coverage_models import CoverageReport
from api.domain.benefits.delivery_models import BatchResult, DeliveryBatch, DeliveryPublic, Match
from api.domain.benefits.entitlement_models import EntitlementPublic, RecomputeResult
from api.domain.benefits.export import CoverageTable, to_csv, to_xlsx
from api.domain.benefits.imports import FileFormat, template
from api.domain.benefits.models import Eligibility
from api.domain.benefits.need_models import NeedCreate, NeedPublic, NeedUpdate
from api.domain.benefits.policies import Policy
from api.domain.benefits.preview import EntitlementPreview
from api.domain.errors import FieldProblem, ValidationFailed
from api.domain.jobs.models import JobPublic
from api.domain.pagination import Page
from api.domain.strict import Day, TextBool
from api.routers.common import (
    CSV,
    ERRORS,
    WRITE_ERRORS,
    XLSX,
    After,
    Format,
    Limit,
    download,
    etag,
)

router = APIRouter(prefix="/api/v1", tags=["benefits"], responses=ERRORS)


@router.get("/benefit-policies")
async def list_benefit_policies(
    svc: ServicesDep,
    on: Annotated[Day | None, Query(description="Only the versions in force that day")] = None,
) -> list[Policy]:
    """Support policies as versioned data: who qualifies (clauses), the parameters (amounts,
    shares, rates, dated tariffs), what counts as served, the delivering agency, and each
    version's legal basis with its confidence (S read in the source, C consistent sources,
    U unverified)."""
    return svc.benefits.policies(on)


@router.get("/benefit-policies/{code}")
async def get_benefit_policy(svc: ServicesDep, code: str) -> Policy:
    """One policy with all its versions."""
    return svc.benefits.policy(code)


@router.get("/benefit-policies/{code}/versions/{version}/preview")
async def preview_benefit_policy_version(
    svc: ServicesDep,
    code: str,
    version: str,
    unit: Annotated[str | None, Query(description="Default: your whole area")] = None,
    as_of: Annotated[
        Day | None, Query(description="Default: the version's first day, or today if later")
    ] = None,
) -> EntitlementPreview:
    """Who would gain or lose an entitlement under this version (one not yet in force, say)
    compared with the version in force today, judged on the same day over the same
    households. Nothing is written."""
    return await svc.preview.preview(code, version, unit, as_of)


@router.get("/households/{household_id}/eligibility", tags=["households"])
async def household_eligibility(
    svc: ServicesDep,
    household_id: uuid.UUID,
    as_of: Annotated[Day | None, Query(description="Default: today")] = None,
    policy: Annotated[list[str] | None, Query(description="Only these policies")] = None,
) -> Eligibility:
    """For the household and each member, each policy in force on the day: eligible (the
    population), needing (the need or application an on-need policy asks for is recorded),
    entitled, the amount, and the reasons, in Vietnamese. Read like the household's status:
    in your area, and by partners with a stated purpose (logged)."""
    return await svc.benefits.eligibility(household_id, as_of, policy)


@router.post("/households/{household_id}/needs", status_code=201, responses=WRITE_ERRORS)
async def record_need(
    svc: ServicesDep,
    household_id: uuid.UUID,
    body: NeedCreate,
    key: RequestKeyDep,
    response: Response,
) -> NeedPublic:
    """Record a need of the household or of one member (legal aid, housing, credit, a
    student loan, training, a job): the denominator of policies given on need. Send an
    `Idempotency-Key` so that a retry records it once."""
    need = await svc.needs.create(household_id, body, key)
    etag(response, need.version)
    return need


@router.get("/households/{household_id}/needs", tags=["households"])
async def household_needs(svc: ServicesDep, household_id: uuid.UUID) -> list[NeedPublic]:
    """The household's needs, oldest first."""
    return await svc.needs.of_household(household_id)


@router.patch("/needs/{need_id}", responses=WRITE_ERRORS)
async def update_need(
    svc: ServicesDep,
    need_id: uuid.UUID,
    body: NeedUpdate,
    if_match: IfMatchDep,
    response: Response,
) -> NeedPublic:
    """Mark a need met or withdrawn, or change its note (conditional on `If-Match`)."""
    need = await svc.needs.update(need_id, body, if_match)
    etag(response, need.version)
    return need


@router.post("/deliveries/batch", responses=WRITE_ERRORS)
async def upsert_deliveries(
    svc: ServicesDep, body: DeliveryBatch, key: RequestKeyDep
) -> BatchResult:
    """Partners write their agency's deliveries (cards, loans, exemptions, cases, payments),
    at most 5,000 a batch, by their own `external_id`. One result per item: created,
    updated, unchanged, stale (a lower `source_version` than the stored one), invalid (with
    its problem), unmatched (kept for the commune to reconcile: no person with the personal
    ID, nor the household, in your area). `all_or_nothing` writes nothing if any item is
    invalid; `dry_run` writes nothing. A retry with the same `Idempotency-Key` gets the first
    answer; an external id twice in one batch is refused."""
    return await svc.deliveries.upsert(body, key)


@router.get("/deliveries")
async def list_deliveries(
    svc: ServicesDep,
    policy: Annotated[str | None, Query(max_length=60)] = None,
    match: Match | None = None,
    household_id: uuid.UUID | None = None,
    after: After = None,
    limit: Limit = 50,
) -> Page[DeliveryPublic]:
    """Deliveries in your area (a partner: its own), oldest first; `match=unmatched` is the
    reconciliation queue."""
    return await svc.deliveries.find(policy, match, household_id, after, limit)


@router.get(
    "/coverage",
    response_model=CoverageReport,
    responses={200: {"content": {"text/csv": {}, XLSX: {}}}},
)
async def coverage(
    svc: ServicesDep,
    policy: Annotated[str, Query(max_length=60, description="A benefit policy code")],
    unit: Annotated[str | None, Query(max_length=16, description="Default: your area")] = None,
    as_of: Annotated[Day | None, Query(description="Default: today")] = None,
    period_from: Annotated[Day | None, Query(description="Default: 1 January of as_of")] = None,
    format: Annotated[
        Format, Query(description="json, csv (one table) or xlsx (all you may read)")
    ] = Format.JSON,
    table: Annotated[
        CoverageTable, Query(description="The table a CSV holds: units, gaps or leakage")
    ] = CoverageTable.UNITS,
) -> CoverageReport | Response:
    """The policy's funnel (eligible → needing → entitled → delivered) over distinct people
    or households, commune by commune (households counted where they belong today), with
    the gap (entitled, not served) and the leakage (served, not entitled). Rates sum
    numerators and denominators before dividing. Readers without personal data (partners,
    supervisors) get counts only, cells under the threshold withheld."""
    report = await svc.coverage.report(policy, unit, as_of, period_from)
    if format == Format.JSON:
        return report
    name = f"bao-phu-{policy}-{report.as_of:%Y%m%d}"
    if format == Format.CSV:
        return download(to_csv(report, table), CSV, f"{name}-{table.value}.csv")
    return download(to_xlsx(report), XLSX, f"{name}.xlsx")


@router.post(
    "/deliveries/imports",
    status_code=202,
    responses={
        **WRITE_ERRORS,
        200: {"description": "The same file again: the job it made before"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                XLSX: {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
)
async def import_deliveries(request: Request, svc: ServicesDep, response: Response) -> JobPublic:
    """Upload deliveries as a spreadsheet (the body: CSV, or XLSX by its content type), as
    the template lays them out. The whole file is checked first; its rows are then written in
    chunks by a job, which `GET /api/v1/jobs/{id}` follows. The same file uploaded again is
    the same job (200). Personal IDs a spreadsheet turned into numbers get their leading
    zeros back, with a warning."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    formats = {"text/csv": FileFormat.CSV, XLSX: FileFormat.XLSX}
    if kind not in formats:
        raise ValidationFailed(
            [FieldProblem("Content-Type", f"send text/csv or {XLSX}", "unsupported", "header")]
        )
    job, created = await svc.imports.upload(await request.body(), formats[kind])
    response.status_code = 202 if created else 200
    response.headers["Location"] = f"/api/v1/jobs/{job.id}"
    return job


@router.get(
    "/deliveries/template",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}, XLSX: {}}}},
)
async def delivery_template(
    format: Annotated[Format, Query(description="csv or xlsx")] = Format.XLSX,
) -> Response:
    """The import template: Vietnamese headers with the field names, and one example row."""
    if format == Format.CSV:
        return download(template(FileFormat.CSV), CSV, "mau-nhap-chi-tra.csv")
    return download(template(FileFormat.XLSX), XLSX, "mau-nhap-chi-tra.xlsx")


@router.get("/jobs", tags=["jobs"])
async def list_jobs(svc: ServicesDep) -> list[JobPublic]:
    """Your jobs, newest first (administrators and supervisors: everyone's)."""
    return await svc.jobs.mine()


@router.get("/jobs/{job_id}", tags=["jobs"])
async def get_job(svc: ServicesDep, job_id: uuid.UUID) -> JobPublic:
    """How far a job has got: rows done of the total, counts by outcome, attempts, error."""
    return await svc.jobs.public(job_id)


@router.get("/jobs/{job_id}/results", tags=["jobs"])
async def job_results(svc: ServicesDep, job_id: uuid.UUID) -> dict[str, Any]:
    """An import's answers in file order (row, external id, outcome), the rows refused with
    their errors in Vietnamese, and the warnings (leading zeros restored)."""
    return await svc.imports.results(job_id)


@router.get(
    "/jobs/{job_id}/failed-rows",
    tags=["jobs"],
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
async def job_failed_rows(svc: ServicesDep, job_id: uuid.UUID) -> Response:
    """The rows to fix and upload again, laid out as the template, each with its errors."""
    return download(await svc.imports.failed_rows(job_id), CSV, f"dong-loi-{job_id}.csv")


@router.get("/households/{household_id}/entitlements", tags=["households"])
async def household_entitlements(
    svc: ServicesDep,
    household_id: uuid.UUID,
    year: Annotated[int, Query(ge=2000, le=2100, description="The year computed")],
) -> list[EntitlementPublic]:
    """The household's entitlements as last computed (eligible subjects, whether entitled,
    the reasons, the basis, and the change-log position the computation saw)."""
    return await svc.entitlements.of_household(household_id, year)


@router.post("/entitlements/recompute")
async def recompute_entitlements(
    svc: ServicesDep,
    as_of: Annotated[Day | None, Query(description="Default: today")] = None,
    full: Annotated[TextBool, Query(description="Every household, not only those changed")] = False,
) -> RecomputeResult:
    """Bring the stored entitlements up to date: the households the change log names since
    the last run (or, with `full`, every household with a recognised status)."""
    day = as_of or date.today()
    if full:
        return await svc.entitlements.recompute_all(day)
    return await svc.entitlements.catch_up(day)
