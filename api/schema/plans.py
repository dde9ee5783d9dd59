"""GraphQL types and queries of plans, targets, tasks and their live progress: the same
services as REST, the shapes of its answers."""

import uuid
from datetime import date
from typing import cast

import strawberry
from strawberry.experimental import pydantic as spyd
from strawberry.scalars import JSON

from api.domain.plans import alerts as al
from api.domain.plans import models as pm
from api.domain.plans import progress as pg
from api.domain.plans import tracking as tr
from api.domain.plans.vocabulary import Direction
from api.domain.plans.vocabulary import Indicator as IndicatorModel
from api.schema.inputs import PlanPatch, PlanTargetPatch, request_key, to_model
from api.schema.types import Info, as_type

strawberry.enum(pm.PlanStatus)
strawberry.enum(pm.TaskStatus)
strawberry.enum(pm.Recurrence)
strawberry.enum(Direction)


@strawberry.type(description="A plan indicator's definition, versioned")
class PlanIndicator:
    code: str
    version: str
    name_vi: str
    kind: str
    unit: str
    direction: Direction
    population: str
    attribution: str
    disaggregations: list[str]
    compute: JSON


def indicator_type(i: IndicatorModel) -> PlanIndicator:
    return PlanIndicator(
        code=i.code,
        version=i.version,
        name_vi=i.name_vi,
        kind=i.kind.value,
        unit=i.unit,
        direction=i.direction,
        population=i.population,
        attribution=i.attribution,
        disaggregations=i.disaggregations,
        compute=cast(JSON, i.compute),
    )


@spyd.type(model=pm.PlanPublic, all_fields=True)
class Plan:
    pass


@spyd.type(model=pm.TargetPublic, all_fields=True)
class PlanTarget:
    pass


@spyd.type(model=pm.TaskUpdatePublic, all_fields=True)
class PlanTaskUpdate:
    pass


@spyd.type(model=pm.TaskPublic, all_fields=True)
class PlanTask:
    pass


@spyd.type(model=pg.Reading, all_fields=True)
class IndicatorReading:
    pass


@spyd.type(model=pg.Pipeline, all_fields=True)
class ReviewPipeline:
    pass


@spyd.type(model=pg.Cascade, all_fields=True)
class TargetCascade:
    pass


@spyd.type(model=pg.TargetProgress, all_fields=True)
class TargetProgress:
    pass


@spyd.type(model=tr.TaskBoard, all_fields=True)
class TaskBoard:
    pass


@spyd.type(model=tr.PlanProgress, all_fields=True)
class PlanProgress:
    pass


@spyd.type(model=al.Alert, all_fields=True)
class PlanAlert:
    pass


@strawberry.type
class PlanQuery:
    @strawberry.field(description="The plans' indicator definitions")
    def plan_indicators(self, info: Info) -> list[PlanIndicator]:
        return [indicator_type(i) for i in info.context.services.plans.indicators()]

    @strawberry.field(description="Plans of your area and of the units above it")
    async def plans(self, info: Info, year: int | None = None) -> list[Plan]:
        return [as_type(Plan, p) for p in await info.context.services.plans.plans(year)]

    @strawberry.field
    async def plan(self, info: Info, id: uuid.UUID) -> Plan:
        return as_type(Plan, await info.context.services.plans.plan(id))

    @strawberry.field
    async def plan_targets(self, info: Info, plan_id: uuid.UUID) -> list[PlanTarget]:
        found = await info.context.services.plans.targets(plan_id)
        return [as_type(PlanTarget, t) for t in found]

    @strawberry.field(description="The plan's tasks (an agency officer's: their agency's)")
    async def plan_tasks(
        self,
        info: Info,
        plan_id: uuid.UUID,
        agency: str | None = None,
        overdue: bool | None = None,
    ) -> list[PlanTask]:
        found = await info.context.services.plans.tasks(plan_id, agency, overdue)
        return [as_type(PlanTask, t) for t in found]

    @strawberry.field(description="Targets off track, overdue tasks, cascades that do not add up")
    async def plan_alerts(self, info: Info, as_of: date | None = None) -> list[PlanAlert]:
        return [as_type(PlanAlert, a) for a in await info.context.services.alerts.alerts(as_of)]

    @strawberry.field(description="Each target read live from the records, and the task board")
    async def plan_progress(
        self, info: Info, plan_id: uuid.UUID, as_of: date | None = None
    ) -> PlanProgress:
        found = await info.context.services.tracking.progress(plan_id, as_of)
        return as_type(PlanProgress, found)


@spyd.input(model=pm.PlanCreate, all_fields=True)
class PlanInput:
    pass


@spyd.input(model=pm.TargetCreate, all_fields=True)
class PlanTargetInput:
    pass


@spyd.input(model=pm.TaskCreate, all_fields=True)
class PlanTaskInput:
    pass


@spyd.input(model=pm.TaskUpdateCreate, all_fields=True)
class PlanTaskUpdateInput:
    pass


@strawberry.type
class PlanMutation:
    @strawberry.mutation(description="A plan issued by a unit of your area")
    async def create_plan(
        self, info: Info, input: PlanInput, idempotency_key: str | None = None
    ) -> Plan:
        data = to_model(pm.PlanCreate, input)
        key = request_key(idempotency_key, "createPlan", data)
        return as_type(Plan, await info.context.services.plans.create_plan(data, key))

    @strawberry.mutation(description="Issue, amend or close a plan; `input.version` guards it")
    async def update_plan(self, info: Info, id: uuid.UUID, input: PlanPatch) -> Plan:
        data = to_model(pm.PlanUpdate, input)
        return as_type(Plan, await info.context.services.plans.update_plan(id, data))

    @strawberry.mutation(description="A target of the plan, or a unit's below it (a cascade)")
    async def add_plan_target(
        self,
        info: Info,
        plan_id: uuid.UUID,
        input: PlanTargetInput,
        idempotency_key: str | None = None,
    ) -> PlanTarget:
        data = to_model(pm.TargetCreate, input)
        key = request_key(idempotency_key, f"addPlanTarget {plan_id}", data)
        return as_type(PlanTarget, await info.context.services.plans.add_target(plan_id, data, key))

    @strawberry.mutation
    async def update_plan_target(
        self,
        info: Info,
        id: uuid.UUID,
        input: PlanTargetPatch,
    ) -> PlanTarget:
        data = to_model(pm.TargetUpdate, input)
        return as_type(PlanTarget, await info.context.services.plans.update_target(id, data))

    @strawberry.mutation(description="A task for an agency")
    async def add_plan_task(
        self,
        info: Info,
        plan_id: uuid.UUID,
        input: PlanTaskInput,
        idempotency_key: str | None = None,
    ) -> PlanTask:
        data = to_model(pm.TaskCreate, input)
        key = request_key(idempotency_key, f"addPlanTask {plan_id}", data)
        return as_type(PlanTask, await info.context.services.plans.add_task(plan_id, data, key))

    @strawberry.mutation(description="Append an update to a task (agency officers: their own)")
    async def post_task_update(
        self,
        info: Info,
        task_id: uuid.UUID,
        input: PlanTaskUpdateInput,
        idempotency_key: str | None = None,
    ) -> PlanTaskUpdate:
        data = to_model(pm.TaskUpdateCreate, input)
        key = request_key(idempotency_key, f"postTaskUpdate {task_id}", data)
        found = await info.context.services.plans.post_update(task_id, data, key)
        return as_type(PlanTaskUpdate, found)
