"""Partners write their deliveries in bulk, by their own ids: each is matched to a person (by
personal ID) or a household in the partner's area, or kept unmatched for the commune to
reconcile. A lower `source_version` than the stored one is stale and changes nothing."""

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from api.domain import access
from api.domain.access import Permission
from api.domain.base import diff, new_id
from api.domain.benefits.delivery_models import (
    BatchMode,
    BatchResult,
    Delivery,
    DeliveryBatch,
    DeliveryItem,
    DeliveryPublic,
    ItemResult,
    Match,
    Outcome,
)
from api.domain.benefits.policies import PolicyCatalog, policies
from api.domain.benefits.records import DELIVERY
from api.domain.errors import DomainError, FieldProblem, NotFound, ValidationFailed
from api.domain.households.member_models import Member, MembershipStatus
from api.domain.households.members import MemberService
from api.domain.households.records import HOUSEHOLD, MEMBER
from api.domain.kernel import paging
from api.domain.kernel.records import RecordService
from api.domain.pagination import Page
from api.domain.problems import of_error
from api.domain.uow import RequestKey

BY_CREATION = paging.by_creation("dlv", Delivery)
# What the partner states; a write that changes none of it is `unchanged`.
STATED = (
    "policy",
    "kind",
    "occurred_on",
    "valid_from",
    "valid_to",
    "amount_vnd",
    "instrument",
    "state_share",
    "personal_id",
    "household_id",
    "commune_code",
)


@dataclass
class _Known:
    people: dict[str, Member] = field(default_factory=dict)
    households: dict[uuid.UUID, str] = field(default_factory=dict)
    deliveries: dict[str, Delivery] = field(default_factory=dict)


def _chunks(values: Sequence[Any], size: int = 1000) -> Iterator[Sequence[Any]]:
    # Engines cap the parameters of one statement (SQLite: 32,766).
    for i in range(0, len(values), size):
        yield values[i : i + size]


class _Refused(Exception):
    def __init__(self, problem: FieldProblem) -> None:
        self.problem = problem


def _facts(row: Delivery | DeliveryItem) -> dict[str, Any]:
    values = row.model_dump(mode="json", include=set(STATED))
    return {name: values.get(name) for name in STATED}


def _item_path(index: int) -> Any:
    return lambda p: f"items.{index}.{p.path}"


class DeliveryService(RecordService[Delivery, DeliveryPublic]):
    registration = DELIVERY

    def __init__(self, members: MemberService, catalog: PolicyCatalog | None = None) -> None:
        super().__init__(members.uow)
        self.members = members
        self.households = members.households
        self.units = members.households.units
        self.catalog = catalog or policies()

    # Writing ------------------------------------------------------------------------------

    async def upsert(self, batch: DeliveryBatch, key: RequestKey | None = None) -> BatchResult:
        access.require(self.principal, Permission.DELIVERIES_WRITE)
        seen: dict[str, int] = {}
        duplicates = []
        for i, item in enumerate(batch.items):
            if item.external_id in seen:
                duplicates.append(
                    FieldProblem(
                        f"items.{i}.external_id",
                        f"also item {seen[item.external_id]}: one external id once a batch",
                        "duplicate",
                    )
                )
            seen.setdefault(item.external_id, i)
        if duplicates:
            raise ValidationFailed(duplicates)
        if batch.dry_run:
            return await self.write(batch)
        return await self.uow.run_keyed(key, BatchResult, 200, lambda: self.write(batch))

    async def write(self, batch: DeliveryBatch) -> BatchResult:
        """The batch's writes, flushed and not committed (an import commits each chunk with
        its progress). External ids are distinct (checked by the caller)."""
        known = await self._known(batch.items)
        results: list[ItemResult] = []
        # Every refusal is found before the item writes anything, so items need no savepoint
        # of their own, and the batch is flushed once.
        for index, item in enumerate(batch.items):
            try:
                results.append(await self._one(index, item, known))
            except _Refused as why:
                results.append(self._refusal(index, item, ValidationFailed([why.problem])))
        refused = any(r.outcome == Outcome.INVALID for r in results)
        applied = not batch.dry_run and not (batch.mode == BatchMode.ALL_OR_NOTHING and refused)
        if applied:
            await self.uow.flush()  # a concurrent batch that wrote the same ids first: 409
        else:
            # Nothing of a refused or rehearsed batch stays (the caller commits the rest).
            await self.uow.rollback()
        counts = {o: sum(1 for r in results if r.outcome == o) for o in Outcome}
        return BatchResult(dry_run=batch.dry_run, applied=applied, counts=counts, items=results)

    def _refusal(self, index: int, item: DeliveryItem, error: DomainError) -> ItemResult:
        return ItemResult(
            index=index,
            external_id=item.external_id,
            outcome=Outcome.INVALID,
            problem=of_error(error, _item_path(index)),
        )

    async def _one(self, index: int, item: DeliveryItem, known: "_Known") -> ItemResult:
        self._check_policy(item)
        match, member, household_id, path = await self._match(item, known)
        existing = known.deliveries.get(item.external_id)
        placed = {
            "match": match,
            "matched_member_id": member,
            "matched_household_id": household_id,
            "unit_path": path,
            "funding": {} if item.state_share is None else {"state": item.state_share},
        }
        if existing is None:
            row = Delivery.model_validate(
                item.model_dump(),
                update={
                    "id": new_id(),
                    "partner": self.principal.subject,
                    "agency": self.principal.agency or "",
                    **placed,
                },
            )
            self.session.add(row)
            self.uow.created(self.entity, row, diff({}, _facts(row)))
            outcome = Outcome.UNMATCHED if match == Match.UNMATCHED else Outcome.CREATED
            return self._result(index, row, outcome)
        if item.source_version < existing.source_version:
            return self._result(index, existing, Outcome.STALE)
        change = diff(_facts(existing), _facts(item))
        if not change:
            return self._result(index, existing, Outcome.UNCHANGED)
        if item.source_version == existing.source_version:
            raise _Refused(
                FieldProblem(
                    "source_version",
                    f"changed content needs a higher source_version than {existing.source_version}",
                    "not_increased",
                )
            )
        if existing.unit_path != path:
            change["unit_path"] = [existing.unit_path, path]
        for name, value in {**item.model_dump(), **placed}.items():
            setattr(existing, name, value)
        self.uow.touch(self.entity, existing, diff=change)
        outcome = Outcome.UNMATCHED if match == Match.UNMATCHED else Outcome.UPDATED
        return self._result(index, existing, outcome)

    def _result(self, index: int, row: Delivery, outcome: Outcome) -> ItemResult:
        return ItemResult(
            index=index,
            external_id=row.external_id,
            outcome=outcome,
            id=row.id,
            version=row.version,
            match=row.match,
        )

    def _check_policy(self, item: DeliveryItem) -> None:
        try:
            policy = self.catalog.find(item.policy)
        except NotFound:
            raise _Refused(
                FieldProblem("policy", f"no benefit policy {item.policy}", "unknown")
            ) from None
        if self.principal.is_partner and policy.agency.value != self.principal.agency:
            raise _Refused(
                FieldProblem(
                    "policy",
                    f"{policy.code} is delivered by {policy.agency.value}, not by your agency",
                    "other_agency",
                )
            )
        coverage = policy.versions[-1].coverage.delivery_kinds
        if item.kind.value not in coverage and item.kind.value not in {"cancelled", "reversed"}:
            raise _Refused(
                FieldProblem(
                    "kind",
                    f"{policy.code} records {', '.join(coverage)}, cancelled or reversed",
                    "invalid",
                )
            )

    async def _known(self, items: Sequence[DeliveryItem]) -> "_Known":
        """What the batch's items refer to, read once for the batch: people by personal ID
        and households in the caller's area (anyone outside it is, for this caller, nobody),
        and the partner's stored deliveries by external id."""
        known = _Known()
        pids = sorted({i.personal_id for i in items if i.personal_id is not None})
        hids = sorted({i.household_id for i in items if i.household_id is not None})
        refs = sorted({i.external_id for i in items})
        for chunk in _chunks(pids):
            stmt = MEMBER.readable(self.principal).where(
                col(Member.personal_id).in_(chunk),
                col(Member.membership_status) == MembershipStatus.ACTIVE,
            )
            for person in (await self.session.scalars(stmt)).all():
                known.people.setdefault(person.personal_id, person)
        for chunk in _chunks(hids):
            stmt = HOUSEHOLD.readable(self.principal).where(col(HOUSEHOLD.model.id).in_(chunk))
            for household in (await self.session.scalars(stmt)).all():
                known.households[household.id] = household.unit_path
        for chunk in _chunks(refs):
            stored = (
                select(Delivery)
                .where(
                    col(Delivery.partner) == self.principal.subject,
                    col(Delivery.external_id).in_(chunk),
                )
                .with_for_update()
            )
            for row in (await self.session.scalars(stored)).all():
                known.deliveries[row.external_id] = row
        return known

    async def _match(
        self, item: DeliveryItem, known: "_Known"
    ) -> tuple[Match, uuid.UUID | None, uuid.UUID | None, str]:
        person = known.people.get(item.personal_id or "")
        if person is not None:
            return Match.PERSON, person.id, person.household_id, person.unit_path
        if item.household_id is not None and item.household_id in known.households:
            return Match.HOUSEHOLD, None, item.household_id, known.households[item.household_id]
        return Match.UNMATCHED, None, None, await self._filed_under(item)

    async def _filed_under(self, item: DeliveryItem) -> str:
        if item.commune_code is None:
            return self.principal.areas[0]
        try:
            unit = await self.units.get(item.commune_code)
        except NotFound:
            raise _Refused(
                FieldProblem("commune_code", f"no unit {item.commune_code}", "unknown")
            ) from None
        if not access.in_scope(self.principal, unit.path):
            raise _Refused(FieldProblem("commune_code", "outside your area", "out_of_scope"))
        return unit.path

    # Reading ------------------------------------------------------------------------------

    async def find(
        self,
        policy: str | None,
        match: Match | None,
        household_id: uuid.UUID | None,
        after: str | None,
        limit: int,
    ) -> Page[DeliveryPublic]:
        """Officers read the deliveries in their area; a partner reads its own."""
        stmt = self.readable()
        if policy is not None:
            stmt = stmt.where(col(Delivery.policy) == policy)
        if match is not None:
            stmt = stmt.where(col(Delivery.match) == match)
        if household_id is not None:
            stmt = stmt.where(col(Delivery.matched_household_id) == household_id)
        rows, cursors, more = await paging.page(self.uow, stmt, BY_CREATION, after, limit)
        return Page[DeliveryPublic].of(await self.shown(rows), cursors, more)

    def readable(self) -> Any:
        if self.principal.is_partner:
            access.require(self.principal, Permission.DELIVERIES_WRITE)
            return DELIVERY.readable(self.principal).where(
                col(Delivery.partner) == self.principal.subject
            )
        self.reading()
        return DELIVERY.readable(self.principal)

    async def served(self, household_ids: Sequence[uuid.UUID], policy: str) -> Sequence[Delivery]:
        """The policy's matched deliveries to these households (coverage)."""
        stmt = DELIVERY.readable(self.principal).where(
            col(Delivery.policy) == policy, col(Delivery.matched_household_id).in_(household_ids)
        )
        rows: Sequence[Delivery] = (await self.session.scalars(stmt)).all()
        return rows
