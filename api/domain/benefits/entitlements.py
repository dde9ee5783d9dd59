"""Entitlements kept in the database: what the rules give each subject under each policy in
a year, as of the day computed. Written by upsert on (policy, subject, year), so concurrent
recomputes converge on one row; a recompute that changes nothing writes nothing. Incremental
recomputes follow the change log: the households whose status, members, needs or place
changed since the last position seen are computed again, and only they."""

import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import delete, select
from sqlmodel import col

from api.db import upsert
from api.domain import access
from api.domain.access import SYSTEM, Permission
from api.domain.base import new_id, utcnow
from api.domain.benefits.entitlement_models import (
    Entitlement,
    EntitlementPosition,
    EntitlementPublic,
    RecomputeResult,
)
from api.domain.benefits.facts import Facts
from api.domain.benefits.judging import judge
from api.domain.benefits.need_models import Need
from api.domain.benefits.policies import PolicyCatalog, policies
from api.domain.changes.models import ChangeLogEntry, ChangeLogHead
from api.domain.households.member_models import Member
from api.domain.review.models import StatusRecord
from api.domain.uow import UnitOfWork

# Households a step: each step's rules run between database calls, so a server that keeps
# its entitlements up to date in-process (SQLite) is not held for long by one step.
CHUNK = 100
# What an entitlement rests on, by the change log's names for it.
TOUCHING = ("household", "member", "household_status", "need")
KEYS = ["policy", "subject_id", "year"]
COMPARED = ("version", "eligible", "needing", "entitled", "amount_vnd", "reasons", "basis")


class EntitlementBook:
    def __init__(self, uow: UnitOfWork, catalog: PolicyCatalog | None = None) -> None:
        self.uow = uow
        self.session = uow.session
        self.principal = uow.principal
        self.catalog = catalog or policies()
        self.facts = Facts(uow)

    async def of_household(self, household_id: uuid.UUID, year: int) -> list[EntitlementPublic]:
        access.require(self.principal, Permission.REPORTS_READ)
        stmt = (
            select(Entitlement)
            .where(
                col(Entitlement.household_id) == household_id,
                col(Entitlement.year) == year,
            )
            .order_by(col(Entitlement.policy), col(Entitlement.subject_id))
        )
        stmt = access.scoped(stmt, self.principal, col(Entitlement.unit_path))
        rows = (await self.session.scalars(stmt)).all()
        return [EntitlementPublic.model_validate(r, from_attributes=True) for r in rows]

    async def recompute(self, household_ids: Sequence[uuid.UUID], day: date) -> RecomputeResult:
        """The households' entitlements for the day's year, computed again; committed."""
        position = await self._position()
        total = RecomputeResult(households=0, written=0, removed=0, unchanged=0, position=position)
        for i in range(0, len(household_ids), CHUNK):
            chunk = list(household_ids[i : i + CHUNK])
            found = await self._chunk(chunk, day, position)
            total.households += len(chunk)
            total.written += found.written
            total.removed += found.removed
            total.unchanged += found.unchanged
            await self.uow.finish()
        return total

    async def recompute_all(self, day: date) -> RecomputeResult:
        access.require(self.principal, Permission.REVIEW_MANAGE)
        ids = sorted(await self.facts.standings(day))
        result = await self.recompute(ids, day)
        await self._remember(result.position)
        return result

    async def catch_up(self, day: date) -> RecomputeResult:
        """Recompute the households the change log names since the last position seen."""
        access.require(self.principal, Permission.REVIEW_MANAGE)
        since, now = await self._seen(), await self._position()
        entries = (
            await self.session.execute(
                select(col(ChangeLogEntry.entity_type), col(ChangeLogEntry.entity_id)).where(
                    col(ChangeLogEntry.seq) > since,
                    col(ChangeLogEntry.seq) <= now,
                    col(ChangeLogEntry.entity_type).in_(TOUCHING),
                )
            )
        ).all()
        ids = await self._households_of(entries)
        result = await self.recompute(sorted(ids), day)
        await self._remember(now)
        return result

    async def _households_of(self, entries: Sequence[Any]) -> set[uuid.UUID]:
        by_type: dict[str, set[uuid.UUID]] = {t: set() for t in TOUCHING}
        for kind, entity_id in entries:
            by_type[kind].add(uuid.UUID(entity_id))
        found = set(by_type["household"])
        for model, key in ((Member, "member"), (StatusRecord, "household_status"), (Need, "need")):
            wanted = sorted(by_type[key])
            for i in range(0, len(wanted), 5000):
                rows = await self.session.scalars(
                    select(col(model.household_id)).where(col(model.id).in_(wanted[i : i + 5000]))
                )
                found |= set(rows.all())
        return found

    async def _chunk(self, ids: list[uuid.UUID], day: date, position: int) -> RecomputeResult:
        wanted: dict[tuple[str, uuid.UUID], dict[str, Any]] = {}
        for j in await judge(self.facts, ids, day, self.catalog.in_force(day)):
            if not j.verdict.eligible:
                continue
            asked = {c.need for c in j.version.clauses if c.need}
            wanted[(j.policy.code, j.subject.id)] = {
                "policy": j.policy.code,
                "year": day.year,
                "subject_kind": j.policy.subject,
                "subject_id": j.subject.id,
                "household_id": j.household.id,
                "unit_path": j.household.unit_path,
                "version": j.version.version,
                "eligible": j.verdict.eligible,
                "needing": j.verdict.needing,
                "entitled": j.verdict.entitled,
                "amount_vnd": j.verdict.amount_vnd,
                "reasons": [r.model_dump() for r in j.verdict.reasons],
                "basis": {
                    "status": None if j.standing.status is None else j.standing.status.value,
                    "since": None if j.standing.since is None else j.standing.since.isoformat(),
                    "needs": [n.kind for n in j.subject.needs if n.kind in asked],
                },
            }
        stored = {
            (r.policy, r.subject_id): r
            for r in (
                await self.session.scalars(
                    select(Entitlement).where(
                        col(Entitlement.household_id).in_(ids), col(Entitlement.year) == day.year
                    )
                )
            ).all()
        }
        changed = [
            row
            for key, row in wanted.items()
            if key not in stored
            or any(getattr(stored[key], c) != row[c] for c in COMPARED)
            or stored[key].unit_path != row["unit_path"]
        ]
        gone = [r.id for key, r in stored.items() if key not in wanted]
        if changed:
            now = utcnow()
            rows = [
                {"id": new_id(), **row, "computed_seq": position, "computed_at": now}
                for row in changed
            ]
            for i in range(0, len(rows), 1000):
                await self.session.execute(
                    upsert(
                        self.session,
                        Entitlement,
                        ["policy", "subject_id", "year"],
                        rows[i : i + 1000],
                    )
                )
        if gone:
            await self.session.execute(delete(Entitlement).where(col(Entitlement.id).in_(gone)))
        return RecomputeResult(
            households=len(ids),
            written=len(changed),
            removed=len(gone),
            unchanged=len(wanted) - len(changed),
            position=position,
        )

    async def _position(self) -> int:
        head = await self.session.scalar(
            select(col(ChangeLogHead.last_seq)).where(col(ChangeLogHead.id) == 1)
        )
        return int(head or 0)

    async def _seen(self) -> int:
        state = await self.session.get(EntitlementPosition, 1)
        return 0 if state is None else state.position

    async def _remember(self, position: int) -> None:
        state = await self.session.get(EntitlementPosition, 1, with_for_update=True)
        if state is None:
            self.session.add(EntitlementPosition(id=1, position=position))
        elif position > state.position:
            state.position, state.updated_at = position, utcnow()
        await self.uow.finish()


def upkeep(factory: Any, policy: Any) -> Callable[[], Awaitable[None]]:
    """The workers' idle task: entitlements brought up to the change log's end."""

    async def catch_up() -> None:
        from api.domain.services import Services

        async with factory() as session:
            await Services(session, SYSTEM, policy).entitlements.catch_up(date.today())

    return catch_up
