"""Plans, targets and tasks: who may set them, where, and how they are read. A plan is read
by staff of its unit and of the units below it (a district's plan binds its communes); an
agency officer reads only the tasks of their agency."""

import uuid
from datetime import date

from sqlalchemy import func, select
from sqlmodel import col

from api.domain import access
from api.domain.access import Permission, Role
from api.domain.base import diff, new_id
from api.domain.errors import Conflict, FieldProblem, Forbidden, NotFound, ValidationFailed
from api.domain.kernel.records import check_version
from api.domain.plans.models import (
    Plan,
    PlanCreate,
    PlanPublic,
    PlanUpdate,
    Target,
    TargetCreate,
    TargetPublic,
    TargetUpdate,
    Task,
    TaskCreate,
    TaskPublic,
    TaskUpdate,
    TaskUpdateCreate,
    TaskUpdatePublic,
)
from api.domain.plans.records import PLAN, TARGET, TASK, task_public
from api.domain.plans.vocabulary import (
    AgencyEntry,
    Indicator,
    Programme,
    Vocabulary,
    vocabulary,
)
from api.domain.units.service import UnitService
from api.domain.uow import RequestKey, UnitOfWork


def _plan_facts(row: Plan) -> dict[str, object]:
    return {
        "title_vi": row.title_vi,
        "document_number": row.document_number,
        "issued_on": None if row.issued_on is None else row.issued_on.isoformat(),
        "status": row.status.value,
    }


def _target_facts(row: Target) -> dict[str, object]:
    return {
        "target_value": row.target_value,
        "target_on": row.target_on.isoformat(),
        "tolerance": row.tolerance,
        "note": row.note,
    }


class PlanService:
    def __init__(self, uow: UnitOfWork, units: UnitService, vocab: Vocabulary | None = None):
        self.uow = uow
        self.session = uow.session
        self.principal = uow.principal
        self.units = units
        self.vocab = vocab or vocabulary()

    # Reading -------------------------------------------------------------------------------

    def indicators(self) -> list[Indicator]:
        access.require(self.principal, Permission.UNITS_READ)
        return self.vocab.indicators

    def programmes(self) -> list[Programme]:
        access.require(self.principal, Permission.UNITS_READ)
        return self.vocab.programmes

    def agencies(self) -> list[AgencyEntry]:
        access.require(self.principal, Permission.UNITS_READ)
        return self.vocab.agencies

    def binds(self, territory: list[str]) -> bool:
        """A plan (a target) binds those whose area overlaps the communes it covers."""
        return access.overlaps(self.principal, territory)

    def sets(self, territory: list[str]) -> bool:
        """A plan (a target) is set by those whose area holds all the communes it covers."""
        return access.holds(self.principal, territory)

    async def territory(self, code: str, day: date) -> tuple[str, str, list[str]]:
        unit = await self.units.get(code)
        return unit.code, unit.path, await self.units.territory(code, day)

    async def plans(self, year: int | None = None) -> list[PlanPublic]:
        access.require(self.principal, Permission.PLANS_READ)
        stmt = select(Plan).where(col(Plan.deleted_at).is_(None))
        if year is not None:
            stmt = stmt.where(col(Plan.year) == year)
        rows = (
            await self.session.scalars(stmt.order_by(col(Plan.period_from), col(Plan.id)))
        ).all()
        return [
            PlanPublic.model_validate(r, from_attributes=True)
            for r in rows
            if self.binds(r.territory)
        ]

    async def plan_row(self, plan_id: uuid.UUID, *, for_update: bool = False) -> Plan:
        access.require(self.principal, Permission.PLANS_READ)
        row = await self.session.get(Plan, plan_id, with_for_update=for_update)
        if row is None or row.deleted_at is not None or not self.binds(row.territory):
            raise NotFound(f"no plan {plan_id}")
        return row

    async def plan(self, plan_id: uuid.UUID) -> PlanPublic:
        return PlanPublic.model_validate(await self.plan_row(plan_id), from_attributes=True)

    async def target_rows(self, plan: Plan) -> list[Target]:
        stmt = (
            select(Target)
            .where(col(Target.plan_id) == plan.id, col(Target.deleted_at).is_(None))
            .order_by(col(Target.unit_path), col(Target.indicator), col(Target.id))
        )
        return list((await self.session.scalars(stmt)).all())

    async def targets(self, plan_id: uuid.UUID) -> list[TargetPublic]:
        plan = await self.plan_row(plan_id)
        return [
            TargetPublic.model_validate(r, from_attributes=True)
            for r in await self.target_rows(plan)
            if self.binds(r.territory)
        ]

    async def task_rows(self, plan: Plan, agency: str | None = None) -> list[Task]:
        stmt = select(Task).where(col(Task.plan_id) == plan.id, col(Task.deleted_at).is_(None))
        rows = list((await self.session.scalars(stmt.order_by(col(Task.id)))).all())
        if self.principal.role == Role.AGENCY_OFFICER:
            agency = self.principal.agency
        if agency is not None:
            rows = [r for r in rows if r.owner_agency == agency or agency in r.supporting_agencies]
        return sorted(rows, key=lambda r: (r.due_on or date.max, r.title_vi))

    async def tasks(
        self, plan_id: uuid.UUID, agency: str | None = None, overdue: bool | None = None
    ) -> list[TaskPublic]:
        plan = await self.plan_row(plan_id)
        rows = await self.task_rows(plan, agency)
        shown = await self.shown_tasks(plan, rows)
        return [t for t in shown if overdue is None or t.overdue == overdue]

    async def shown_tasks(self, plan: Plan, rows: list[Task]) -> list[TaskPublic]:
        latest = await self._latest_updates([r.id for r in rows])
        today = date.today()
        return [task_public(r, plan.period_from, latest.get(r.id), today) for r in rows]

    async def _latest_updates(self, ids: list[uuid.UUID]) -> dict[uuid.UUID, TaskUpdatePublic]:
        """Each task's last update (one query, only the last ones)."""
        if not ids:
            return {}
        last = (
            select(col(TaskUpdate.task_id), func.max(col(TaskUpdate.at)).label("at"))
            .where(col(TaskUpdate.task_id).in_(ids))
            .group_by(col(TaskUpdate.task_id))
            .subquery()
        )
        rows = (
            await self.session.scalars(
                select(TaskUpdate).join(
                    last,
                    (col(TaskUpdate.task_id) == last.c.task_id) & (col(TaskUpdate.at) == last.c.at),
                )
            )
        ).all()
        return {r.task_id: TaskUpdatePublic.model_validate(r, from_attributes=True) for r in rows}

    async def updates(self, task_id: uuid.UUID) -> list[TaskUpdatePublic]:
        task = await self._task(task_id)
        rows = (
            await self.session.scalars(
                select(TaskUpdate)
                .where(col(TaskUpdate.task_id) == task.id)
                .order_by(col(TaskUpdate.at), col(TaskUpdate.id))
            )
        ).all()
        return [TaskUpdatePublic.model_validate(r, from_attributes=True) for r in rows]

    # Writing -------------------------------------------------------------------------------

    async def _unit_in_scope(self, code: str, field: str, day: date) -> tuple[str, str, list[str]]:
        found = await self.territory(code, day)
        if not self.sets(found[2]):
            raise ValidationFailed([FieldProblem(field, "outside your area", "out_of_scope")])
        return found

    async def create_plan(self, data: PlanCreate, key: RequestKey | None = None) -> PlanPublic:
        access.require(self.principal, Permission.PLANS_MANAGE)
        return await self.uow.run_keyed(key, PlanPublic, 201, lambda: self._create_plan(data))

    async def _create_plan(self, data: PlanCreate) -> PlanPublic:
        code, path, territory = await self._unit_in_scope(
            data.unit_code, "unit_code", data.period_to
        )
        self.vocab.programme(data.programme)
        if data.period_to < data.period_from:
            raise ValidationFailed(
                [FieldProblem("period_to", "before period_from", "invalid_range")]
            )
        plan_id = data.id or new_id()
        if await self.session.get(Plan, plan_id) is not None:
            raise Conflict(f"a plan with id {plan_id} already exists")
        row = Plan.model_validate(
            data.model_dump(exclude={"id", "unit_code"}),
            update={
                "id": plan_id,
                "unit_code": code,
                "unit_path": path,
                "territory": territory,
                "created_by": self.principal.subject,
            },
        )
        self.session.add(row)
        await self.uow.flush()
        self.uow.created(PLAN.entity, row, diff({}, _plan_facts(row)))
        return PlanPublic.model_validate(row, from_attributes=True)

    async def _managed_plan(self, plan_id: uuid.UUID) -> Plan:
        access.require(self.principal, Permission.PLANS_MANAGE)
        plan = await self.plan_row(plan_id, for_update=True)
        if not self.sets(plan.territory):
            raise Forbidden("the plan is set by the unit that issued it")
        return plan

    async def update_plan(
        self, plan_id: uuid.UUID, data: PlanUpdate, if_match: int | None = None
    ) -> PlanPublic:
        plan = await self._managed_plan(plan_id)
        check_version(data.version if data.version is not None else if_match, plan.version, "plan")
        before = _plan_facts(plan)
        for name, value in data.model_dump(exclude_unset=True, exclude={"version"}).items():
            if name == "status" and value is None:
                raise ValidationFailed(
                    [FieldProblem("status", "may be changed, not cleared", "null")]
                )
            setattr(plan, name, value)
        change = diff(before, _plan_facts(plan))
        if change:
            self.uow.touch(PLAN.entity, plan, diff=change)
        await self.uow.commit()
        return PlanPublic.model_validate(plan, from_attributes=True)

    async def add_target(
        self, plan_id: uuid.UUID, data: TargetCreate, key: RequestKey | None = None
    ) -> TargetPublic:
        access.require(self.principal, Permission.PLANS_MANAGE)
        return await self.uow.run_keyed(
            key, TargetPublic, 201, lambda: self._add_target(plan_id, data)
        )

    async def _add_target(self, plan_id: uuid.UUID, data: TargetCreate) -> TargetPublic:
        plan = await self._managed_plan(plan_id)
        self.vocab.indicator(data.indicator)
        code, path, territory = plan.unit_code, plan.unit_path, plan.territory
        if data.unit_code is not None and data.unit_code != plan.unit_code:
            code, path, territory = await self._unit_in_scope(
                data.unit_code, "unit_code", plan.period_to
            )
            below = await self.units.descendant_codes(plan.unit_code, plan.period_to)
            if code not in below:
                raise ValidationFailed(
                    [FieldProblem("unit_code", "not within the plan's unit", "out_of_scope")]
                )
        if data.target_on < data.baseline_on:
            raise ValidationFailed(
                [FieldProblem("target_on", "before baseline_on", "invalid_range")]
            )
        if data.parent_id is not None:
            parent = await self.session.get(Target, data.parent_id)
            if parent is None or parent.plan_id != plan.id or parent.deleted_at is not None:
                raise ValidationFailed(
                    [FieldProblem("parent_id", "no such target in this plan", "not_found")]
                )
            under_parent = code in await self.units.descendant_codes(
                parent.unit_code, plan.period_to
            )
            if parent.indicator != data.indicator or not under_parent:
                raise ValidationFailed(
                    [
                        FieldProblem(
                            "parent_id",
                            "a cascade keeps the indicator and goes to a unit below",
                            "invalid",
                        )
                    ]
                )
        taken = await self.session.scalar(
            select(col(Target.id)).where(
                col(Target.plan_id) == plan.id,
                col(Target.indicator) == data.indicator,
                col(Target.unit_path) == path,
                col(Target.deleted_at).is_(None),
            )
        )
        if taken is not None:
            raise Conflict(f"the plan already has a {data.indicator} target for unit {code}")
        row = Target.model_validate(
            data.model_dump(exclude={"id", "unit_code"}),
            update={
                "id": data.id or new_id(),
                "plan_id": plan.id,
                "unit_code": code,
                "unit_path": path,
                "territory": territory,
            },
        )
        self.session.add(row)
        await self.uow.flush()
        self.uow.created(TARGET.entity, row, diff({}, _target_facts(row)))
        return TargetPublic.model_validate(row, from_attributes=True)

    async def update_target(
        self, target_id: uuid.UUID, data: TargetUpdate, if_match: int | None = None
    ) -> TargetPublic:
        access.require(self.principal, Permission.PLANS_MANAGE)
        row = await self.session.get(Target, target_id, with_for_update=True)
        if row is None or row.deleted_at is not None or not self.binds(row.territory):
            raise NotFound(f"no target {target_id}")
        await self._managed_plan(row.plan_id)
        check_version(data.version if data.version is not None else if_match, row.version, "target")
        before = _target_facts(row)
        for name, value in data.model_dump(exclude_unset=True, exclude={"version"}).items():
            if value is None and name in {"target_value", "target_on", "tolerance"}:
                raise ValidationFailed([FieldProblem(name, "may be changed, not cleared", "null")])
            setattr(row, name, value)
        change = diff(before, _target_facts(row))
        if change:
            self.uow.touch(TARGET.entity, row, diff=change)
        await self.uow.commit()
        return TargetPublic.model_validate(row, from_attributes=True)

    async def add_task(
        self, plan_id: uuid.UUID, data: TaskCreate, key: RequestKey | None = None
    ) -> TaskPublic:
        access.require(self.principal, Permission.PLANS_MANAGE)
        return await self.uow.run_keyed(key, TaskPublic, 201, lambda: self._add_task(plan_id, data))

    async def _add_task(self, plan_id: uuid.UUID, data: TaskCreate) -> TaskPublic:
        plan = await self._managed_plan(plan_id)
        self.vocab.agency(data.owner_agency, "owner_agency")
        for i, code in enumerate(data.supporting_agencies):
            self.vocab.agency(code, f"supporting_agencies.{i}")
        known = {t.id for t in await self.target_rows(plan)}
        for i, target in enumerate(data.target_ids):
            if target not in known:
                raise ValidationFailed(
                    [FieldProblem(f"target_ids.{i}", "no such target in this plan", "not_found")]
                )
        if data.recurrence is not None and data.due_on is None:
            data = data.model_copy(update={"due_on": plan.period_to})
        row = Task.model_validate(
            data.model_dump(exclude={"id"}, mode="json"),
            update={"id": data.id or new_id(), "plan_id": plan.id, "unit_path": plan.unit_path},
        )
        row.target_ids = [str(t) for t in data.target_ids]  # type: ignore[misc]
        self.session.add(row)
        await self.uow.flush()
        self.uow.created(TASK.entity, row, {"title_vi": [None, row.title_vi]})
        return (await self.shown_tasks(plan, [row]))[0]

    async def _task(self, task_id: uuid.UUID, *, for_update: bool = False) -> Task:
        access.require(self.principal, Permission.PLANS_READ)
        row = await self.session.get(Task, task_id, with_for_update=for_update)
        if row is None or row.deleted_at is not None:
            raise NotFound(f"no task {task_id}")
        await self.plan_row(row.plan_id)
        agency = self.principal.agency
        if self.principal.role == Role.AGENCY_OFFICER and (
            row.owner_agency != agency and agency not in row.supporting_agencies
        ):
            raise NotFound(f"no task {task_id}")
        return row

    async def post_update(
        self, task_id: uuid.UUID, data: TaskUpdateCreate, key: RequestKey | None = None
    ) -> TaskUpdatePublic:
        access.require(self.principal, Permission.TASKS_UPDATE)
        return await self.uow.run_keyed(
            key, TaskUpdatePublic, 201, lambda: self._post_update(task_id, data)
        )

    async def _post_update(self, task_id: uuid.UUID, data: TaskUpdateCreate) -> TaskUpdatePublic:
        task = await self._task(task_id, for_update=True)
        plan = await self.plan_row(task.plan_id)
        if self.principal.role != Role.AGENCY_OFFICER and not self.sets(plan.territory):
            raise Forbidden("a task is updated by its agency or by the unit that set it")
        if (data.reported_numerator is None) != (data.reported_denominator is None):
            raise ValidationFailed(
                [FieldProblem("reported_denominator", "give both figures, or neither", "invalid")]
            )
        if (
            data.reported_numerator is not None
            and data.reported_denominator is not None
            and data.reported_numerator > data.reported_denominator
        ):
            raise ValidationFailed(
                [FieldProblem("reported_numerator", "more than the denominator", "invalid")]
            )
        row = TaskUpdate(
            id=new_id(),
            task_id=task.id,
            unit_path=task.unit_path,
            **data.model_dump(exclude={"reported_on"}),
            reported_on=data.reported_on or (date.today() if data.reported_numerator else None),
            by=self.principal.subject,
        )
        self.session.add(row)
        change: dict[str, object] = {"update": [None, str(row.id)]}
        if data.status is not None and data.status != task.status:
            change["status"] = [task.status.value, data.status.value]
            task.status = data.status
        self.uow.touch(TASK.entity, task, diff=change)
        await self.uow.flush()
        return TaskUpdatePublic.model_validate(row, from_attributes=True)
