import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from api.deps import IfMatchDep, RequestKeyDep, ServicesDep
from api.domain.plans.alerts import Alert
from api.domain.plans.models import (
    PlanCreate,
    PlanPublic,
    PlanUpdate,
    TargetCreate,
    TargetPublic,
    TargetUpdate,
    TaskCreate,
    TaskPublic,
    TaskUpdateCreate,
    TaskUpdatePublic,
)
from api.domain.plans.tracking import PlanProgress
from api.domain.plans.vocabulary import AgencyEntry, Indicator, Programme
from api.domain.strict import Day, TextBool
from api.routers.common import ERRORS, WRITE_ERRORS, etag

router = APIRouter(prefix="/api/v1", tags=["plans"], responses=ERRORS)


@router.get("/indicators")
async def list_indicators(svc: ServicesDep) -> list[Indicator]:
    """Indicator definitions, versioned: computed from the registry, reported by an agency,
    or derived from another; each with its unit, direction, attribution (the unit at the end
    of the period) and disaggregations."""
    return svc.plans.indicators()


@router.get("/programmes")
async def list_programmes(svc: ServicesDep) -> list[Programme]:
    """The programmes plans belong to, by period (2021–2025; 2026–2035 after the merger)."""
    return svc.plans.programmes()


@router.get("/plan-agencies")
async def list_plan_agencies(svc: ServicesDep) -> list[AgencyEntry]:
    """The agencies a plan gives tasks to."""
    return svc.plans.agencies()


@router.get("/plans")
async def list_plans(
    svc: ServicesDep, year: Annotated[int | None, Query(ge=2000, le=2100)] = None
) -> list[PlanPublic]:
    """Plans of your area and of the units above it (a district's plan binds its communes)."""
    return await svc.plans.plans(year)


@router.post("/plans", status_code=201, responses=WRITE_ERRORS)
async def create_plan(
    svc: ServicesDep, body: PlanCreate, key: RequestKeyDep, response: Response
) -> PlanPublic:
    """A plan issued by a unit of your area, for a programme and a period."""
    plan = await svc.plans.create_plan(body, key)
    etag(response, plan.version)
    return plan


@router.get("/plans/{plan_id}")
async def get_plan(svc: ServicesDep, plan_id: uuid.UUID, response: Response) -> PlanPublic:
    """One plan, if it binds your area (with its version as the ETag)."""
    plan = await svc.plans.plan(plan_id)
    etag(response, plan.version)
    return plan


@router.patch("/plans/{plan_id}", responses=WRITE_ERRORS)
async def update_plan(
    svc: ServicesDep, plan_id: uuid.UUID, body: PlanUpdate, if_match: IfMatchDep, response: Response
) -> PlanPublic:
    """Issue, amend or close a plan, or correct its title or number (conditional)."""
    plan = await svc.plans.update_plan(plan_id, body, if_match)
    etag(response, plan.version)
    return plan


@router.get("/plans/{plan_id}/targets")
async def list_targets(svc: ServicesDep, plan_id: uuid.UUID) -> list[TargetPublic]:
    """The plan's targets in your area: its unit's, and those cascaded to the units below."""
    return await svc.plans.targets(plan_id)


@router.post("/plans/{plan_id}/targets", status_code=201, responses=WRITE_ERRORS)
async def add_target(
    svc: ServicesDep, plan_id: uuid.UUID, body: TargetCreate, key: RequestKeyDep
) -> TargetPublic:
    """A target of the plan for its unit or, with `parent_id`, a unit below (the district
    assigns its communes' targets: they cascade)."""
    return await svc.plans.add_target(plan_id, body, key)


@router.patch("/targets/{target_id}", responses=WRITE_ERRORS)
async def update_target(
    svc: ServicesDep, target_id: uuid.UUID, body: TargetUpdate, if_match: IfMatchDep
) -> TargetPublic:
    """Change a target's value, date, tolerance or note (conditional on its version)."""
    return await svc.plans.update_target(target_id, body, if_match)


@router.get("/plans/{plan_id}/tasks")
async def list_tasks(
    svc: ServicesDep,
    plan_id: uuid.UUID,
    agency: Annotated[str | None, Query(max_length=60)] = None,
    overdue: TextBool | None = None,
) -> list[TaskPublic]:
    """The plan's tasks (an agency officer sees only their agency's), with `overdue`
    derived: past due and not done, or a recurring report not sent for its last period."""
    return await svc.plans.tasks(plan_id, agency, overdue)


@router.post("/plans/{plan_id}/tasks", status_code=201, responses=WRITE_ERRORS)
async def add_task(
    svc: ServicesDep, plan_id: uuid.UUID, body: TaskCreate, key: RequestKeyDep
) -> TaskPublic:
    """A task for an agency (supporting agencies, the targets it moves, a due date or a
    recurrence such as the half-yearly report)."""
    return await svc.plans.add_task(plan_id, body, key)


@router.get("/tasks/{task_id}/updates")
async def list_task_updates(svc: ServicesDep, task_id: uuid.UUID) -> list[TaskUpdatePublic]:
    """The task's updates, oldest first (they are never changed)."""
    return await svc.plans.updates(task_id)


@router.post("/tasks/{task_id}/updates", status_code=201, responses=WRITE_ERRORS)
async def post_task_update(
    svc: ServicesDep, task_id: uuid.UUID, body: TaskUpdateCreate, key: RequestKeyDep
) -> TaskUpdatePublic:
    """Append an update to a task (never edited): a note, its evidence, the task's status,
    and a progress figure, or a reported indicator's figures (staff trained of the roster).
    Agency officers update their agency's tasks."""
    return await svc.plans.post_update(task_id, body, key)


@router.get("/plans/{plan_id}/progress")
async def plan_progress(
    svc: ServicesDep,
    plan_id: uuid.UUID,
    as_of: Annotated[Day | None, Query(description="Default: today, or the plan's end")] = None,
) -> PlanProgress:
    """Each target's value now, read from the records (numerator and denominator), its
    progress from the baseline against the time elapsed, and on track, at risk or off
    track; the open campaign's pipeline for the poverty rates; the communes' targets checked
    against the district's; and the task board."""
    return await svc.tracking.progress(plan_id, as_of)


@router.get("/alerts")
async def list_alerts(
    svc: ServicesDep,
    as_of: Annotated[Day | None, Query(description="Default: today, or each plan's end")] = None,
) -> list[Alert]:
    """What needs acting on in the issued plans that bind your area, in Vietnamese: targets
    off track, overdue tasks (an agency officer: its agency's), and communes' targets that
    do not add up to the unit's. Derived each time: an alert clears when its cause does."""
    return await svc.alerts.alerts(as_of)
