"""Offline sync as a service: what devices push, what they download (a snapshot of a commune,
then the changes of their area in commit order: records, tombstones, and drops when a record
leaves the area), digests to check what they hold, the sync log and the conflict queue. Every
record type is reached through its registration and read through its readable statement."""

import hashlib
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import select
from sqlmodel import col

from api.domain import access
from api.domain.access import Permission
from api.domain.base import utcnow
from api.domain.changes.models import ChangeLogEntry, ChangeLogHead, Operation
from api.domain.errors import (
    DomainError,
    FieldProblem,
    Forbidden,
    InvalidCursor,
    NotFound,
    ValidationFailed,
)
from api.domain.households.checks import PersonalIdChecks
from api.domain.kernel import paging, records
from api.domain.kernel.areas import covers, under
from api.domain.kernel.entities import EntityType
from api.domain.kernel.registry import RecordOps, Registration, registration
from api.domain.pagination import decode_cursor, encode_cursor, sequence_number
from api.domain.review.models import CampaignState
from api.domain.sync.apply import Applier, device_data
from api.domain.sync.models import (
    CURSOR_CHARS,
    Bucket,
    Digest,
    Entity,
    ItemState,
    Op,
    Outcome,
    PulledChange,
    PullPage,
    PushItem,
    PushRequest,
    PushResponse,
    Resolution,
    Resolve,
    ScopeChange,
    SnapshotHousehold,
    SnapshotPage,
    SyncItem,
    SyncItemPublic,
    SyncSession,
    SyncSessionPublic,
)
from api.domain.sync.push import Pusher
from api.domain.units.service import UnitService
from api.domain.uow import RequestKey, UnitOfWork

PULL_KIND = "pull"
SNAP_KIND = "snap"
PULL_MAX, SNAPSHOT_MAX, ITEMS_MAX = 1000, 500, 500
IN_COMMIT_ORDER = paging.by_key(
    "seq", lambda: col(ChangeLogEntry.seq), lambda e: e.seq, sequence_number
)
# Synced: the household aggregate, what the review keeps of it, its recorded needs, and the
# open campaigns.
SYNCED = (
    EntityType.HOUSEHOLD,
    EntityType.MEMBER,
    EntityType.ASSESSMENT,
    EntityType.NEED,
    EntityType.CAMPAIGN,
)
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Client:
    """Who is syncing, as the request says: the device, the app's version, the bytes sent."""

    device_id: str | None = None
    app_version: str | None = None
    bytes_in: int = 0


@dataclass
class Answer(Generic[M]):
    """A sync answer and its JSON, serialised once (the sync log counts its bytes)."""

    model: M
    body: bytes = b""


@dataclass
class _Log:
    entry: SyncSession
    started: float = field(default_factory=time.perf_counter)

    def answered(
        self, answer: Answer[M], counts: dict[str, int], cursor_out: str | None = None
    ) -> Answer[M]:
        answer.body = answer.model.model_dump_json().encode()
        self.entry.bytes_out, self.entry.counts = len(answer.body), counts
        self.entry.cursor_out = cursor_out[:CURSOR_CHARS] if cursor_out else None
        return answer


class SyncService:
    def __init__(
        self,
        uow: UnitOfWork,
        units: UnitService,
        checks: PersonalIdChecks,
        ops: Callable[[EntityType], RecordOps],
    ) -> None:
        self.uow = uow
        self.session = uow.session
        self.principal = uow.principal
        self.units = units
        self.checks = checks
        self.ops = ops

    # The sync log: every push, pull and snapshot, refused ones too -------------------------

    @asynccontextmanager
    async def _logged(
        self, kind: str, client: Client, cursor_in: str | None = None
    ) -> AsyncIterator[_Log]:
        log = _Log(
            SyncSession(
                id=uuid.uuid4(),
                actor=self.principal.subject,
                unit_path=self.principal.areas[0] if self.principal.areas else "",
                device_id=client.device_id or self.principal.client,
                app_version=client.app_version,
                kind=kind,
                cursor_in=cursor_in[:CURSOR_CHARS] if cursor_in else None,
                bytes_in=client.bytes_in,
            )
        )
        try:
            yield log
        except DomainError as exc:
            await self.uow.rollback()
            log.entry.status_code, log.entry.counts = exc.status, {"refused": 1}
            await self._write_log(log)
            raise
        await self._write_log(log)

    async def _write_log(self, log: _Log) -> None:
        log.entry.duration_ms = round((time.perf_counter() - log.started) * 1000)
        self.session.add(log.entry)
        await self.uow.finish()

    async def sessions(
        self, actor: str | None, device_id: str | None, limit: int
    ) -> list[SyncSessionPublic]:
        if not (
            self.principal.can(Permission.DEVICES_MANAGE)
            or self.principal.can(Permission.AUDIT_READ)
        ):
            raise Forbidden("your role may not read the sync log")
        paging.page_size(limit, ITEMS_MAX)
        stmt = access.scoped(select(SyncSession), self.principal, col(SyncSession.unit_path))
        if actor:
            stmt = stmt.where(col(SyncSession.actor) == actor)
        if device_id:
            stmt = stmt.where(col(SyncSession.device_id) == device_id)
        stmt = stmt.order_by(col(SyncSession.started_at).desc()).limit(limit)
        return [
            SyncSessionPublic.model_validate(r, from_attributes=True)
            for r in (await self.session.scalars(stmt)).all()
        ]

    # Push ----------------------------------------------------------------------------------

    async def push(self, req: PushRequest, client: Client) -> Answer[PushResponse]:
        fingerprint = hashlib.sha256(req.model_dump_json().encode()).hexdigest()
        async with self._logged("dry_run" if req.dry_run else "push", client) as log:
            pusher = Pusher(self.uow, self.units, self.checks, self.ops, client.device_id)
            result = await pusher.push(req, fingerprint)
            return log.answered(Answer(result), result.counts)

    # Pull ----------------------------------------------------------------------------------

    # Cursors carry the areas they were issued for, so a reassigned user is told what to drop.

    def _cursor(self, seq: int) -> str:
        return encode_cursor(PULL_KIND, [seq, list(self.principal.areas)])

    def _read_cursor(self, cursor: str | None) -> tuple[int, list[str]]:
        if not cursor:
            return 0, list(self.principal.areas)
        seq, areas = decode_cursor(PULL_KIND, cursor, 2)
        if not isinstance(areas, list) or not all(isinstance(a, str) for a in areas):
            raise InvalidCursor("cursor is not one this service issued")
        return sequence_number(seq), areas

    async def _head(self) -> int:
        head = await self.session.get(ChangeLogHead, 1)
        return 0 if head is None else head.last_seq

    def _readable_types(self) -> list[str]:
        return access.readable(self.principal, [t.value for t in SYNCED])

    async def pull(self, cursor: str | None, limit: int, client: Client) -> Answer[PullPage]:
        async with self._logged("pull", client, cursor) as log:
            page = await self._pull(cursor, limit)
            return log.answered(Answer(page), {"changes": len(page.changes)}, page.cursor)

    async def _pull(self, cursor: str | None, limit: int) -> PullPage:
        access.require(self.principal, Permission.CHANGES_READ)
        after, areas = self._read_cursor(cursor)
        scope = None
        now = list(self.principal.areas)
        if sorted(areas) != sorted(now):
            dropped = [a for a in areas if not access.in_scope(self.principal, a)]
            # A narrowed area (commune → one village) is dropped as a whole; what the user keeps
            # inside it is listed again to download, so a device that obeys loses nothing.
            scope = ScopeChange(
                dropped_areas=dropped,
                added_areas=[
                    a
                    for a in now
                    if not any(covers(b, a) for b in areas) or any(covers(d, a) for d in dropped)
                ],
            )
        head = await self._head()
        stmt = select(ChangeLogEntry).where(
            col(ChangeLogEntry.seq) > after,
            col(ChangeLogEntry.entity_type).in_(self._readable_types()),
        )
        stmt = access.scoped(stmt, self.principal, col(ChangeLogEntry.unit_path))
        rows, _, has_more = await paging.page(
            self.uow, stmt, IN_COMMIT_ORDER, None, limit, PULL_MAX
        )
        last: dict[tuple[str, str], ChangeLogEntry] = {}
        for r in rows:
            last.pop((r.entity_type, r.entity_id), None)
            last[(r.entity_type, r.entity_id)] = r
        found = await self._records(
            [(t, uuid.UUID(i)) for (t, i), r in last.items() if r.operation != Operation.DELETE]
        )
        changes = []
        for (kind, rid), r in last.items():
            record = found.get((kind, rid))
            if r.operation == Operation.DELETE:
                op = "delete"
            elif r.operation == Operation.EXIT or record is None:
                op = "drop"  # gone from this area (moved, or deleted since: its tombstone follows)
            else:
                op = "upsert"
            changes.append(
                PulledChange(
                    seq=r.seq,
                    entity=kind,
                    id=rid,
                    op=op,
                    version=int(record["version"]) if record and op == "upsert" else r.version,
                    record=record if op == "upsert" else None,
                )
            )
        end = rows[-1].seq if has_more else max(head, rows[-1].seq if rows else after)
        return PullPage(changes=changes, cursor=self._cursor(end), has_more=has_more, scope=scope)

    async def _records(
        self, keys: Sequence[tuple[str, uuid.UUID]]
    ) -> dict[tuple[str, str], dict[str, Any]]:
        """The records the page names, as their readers may see them, by (type, id)."""
        by: dict[str, list[uuid.UUID]] = defaultdict(list)
        for kind, rid in keys:
            by[kind].append(rid)
        out: dict[tuple[str, str], dict[str, Any]] = {}
        for kind, ids in by.items():
            found = registration(kind)
            rows = await records.rows_of(self.uow, found, ids)
            for row, shown in zip(rows, await records.shown(self.uow, found, rows), strict=True):
                out[(kind, str(row.id))] = shown.model_dump(mode="json")
        return out

    # Snapshot ------------------------------------------------------------------------------

    async def snapshot(
        self, unit: str, after: str | None, limit: int, client: Client
    ) -> Answer[SnapshotPage]:
        async with self._logged("snapshot", client, after) as log:
            page = await self._snapshot(unit, after, limit)
            return log.answered(Answer(page), {"households": len(page.households)}, page.cursor)

    async def _snapshot(self, unit: str, after: str | None, limit: int) -> SnapshotPage:
        """A commune's households with their synced children, a page at a time. The first
        page fixes the pull cursor: changes committed after it come through `pull`."""
        households = registration(EntityType.HOUSEHOLD)
        records.reading(self.uow, households)
        if after:
            seq, issued_for, position_cursor = decode_cursor(SNAP_KIND, after, 3)
            seq = sequence_number(seq)
            if issued_for != unit or not isinstance(position_cursor, str):
                raise InvalidCursor("cursor is not one this service issued for this unit")
        else:
            seq, position_cursor = await self._head(), ""
        u = await self.units.get(unit)
        model = households.model
        stmt = households.readable(self.principal)
        area = under(col(model.unit_path), u.path)
        if area is not None:
            stmt = stmt.where(area)
        rows, cursors, has_more = await paging.page(
            self.uow,
            stmt,
            paging.by_creation("hh", model),
            position_cursor or None,
            limit,
            SNAPSHOT_MAX,
        )
        shown = await records.shown(self.uow, households, rows)
        children = {
            child.entity: await self._children(child, [h.id for h in rows])
            for child in households.children()
            if child.entity in SYNCED
        }
        next_page = encode_cursor(SNAP_KIND, [seq, unit, cursors[-1]]) if has_more else None
        return SnapshotPage(
            households=[
                SnapshotHousehold(
                    household=h.model_dump(mode="json"),
                    members=children[EntityType.MEMBER].get(str(h.id), []),
                    assessments=children.get(EntityType.ASSESSMENT, {}).get(str(h.id), []),
                    needs=children.get(EntityType.NEED, {}).get(str(h.id), []),
                )
                for h in shown
            ],
            campaigns=[] if after else await self._open_campaigns(u.path),
            next=next_page,
            has_more=has_more,
            cursor=self._cursor(seq),
        )

    async def _children(
        self, child: Registration, parent_ids: list[uuid.UUID]
    ) -> dict[str, list[dict[str, Any]]]:
        """A child type's records of these parents, by parent; none if the caller may not
        read the type (as pull leaves it out)."""
        grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
        if not parent_ids or not access.may_read(self.principal, child.entity):
            return grouped
        assert child.parent_key is not None
        model = child.model
        stmt = child.readable(self.principal).where(
            col(getattr(model, child.parent_key)).in_(parent_ids)
        )
        rows = (
            await self.session.scalars(stmt.order_by(col(model.created_at), col(model.id)))
        ).all()
        for row, shown in zip(rows, await records.shown(self.uow, child, rows), strict=True):
            grouped[str(getattr(row, child.parent_key))].append(shown.model_dump(mode="json"))
        return grouped

    async def _open_campaigns(self, path: str) -> list[dict[str, Any]]:
        campaigns = registration(EntityType.CAMPAIGN)
        if not access.may_read(self.principal, campaigns.entity):
            return []
        rows = (
            await self.session.scalars(
                campaigns.readable(self.principal).where(
                    col(campaigns.model.state) == CampaignState.OPEN
                )
            )
        ).all()
        return [
            campaigns.view(c, self.principal).model_dump(mode="json")
            for c in rows
            if covers(path, c.unit_path) or covers(c.unit_path, path)
        ]

    # Digest --------------------------------------------------------------------------------

    async def digest(self, unit: str, entity: Entity, bucket: str | None = None) -> Digest:
        """Counts and hashes of (id, version) by the first hex digit of the id: a device
        computes the same over what it holds and fetches only the buckets that differ."""
        access.require(self.principal, Permission.HOUSEHOLDS_READ)
        if bucket is not None and (len(bucket) != 1 or bucket not in "0123456789abcdef"):
            raise ValidationFailed([FieldProblem("bucket", "one hex digit", "invalid", "query")])
        u = await self.units.get(unit)
        found = registration(entity.value)
        model = found.model
        stmt = found.readable(self.principal).with_only_columns(col(model.id), col(model.version))
        area = under(col(model.unit_path), u.path)
        if area is not None:
            stmt = stmt.where(area)
        # What the caller may not read is not there for it: the digest of an empty set.
        rows = (
            (await self.session.execute(stmt)).all()
            if access.may_read(self.principal, found.entity)
            else []
        )
        pairs = sorted((str(i), int(v)) for i, v in rows)
        groups: dict[str, list[tuple[str, int]]] = defaultdict(list)
        for i, v in pairs:
            groups[i[0]].append((i, v))
        buckets = [
            Bucket(
                bucket=b,
                count=len(groups[b]),
                hash=hashlib.sha256(
                    "".join(f"{i}:{v}\n" for i, v in groups[b]).encode()
                ).hexdigest(),
            )
            for b in "0123456789abcdef"
        ]
        versions = dict(groups[bucket]) if bucket is not None else None
        return Digest(entity=entity, unit=unit, buckets=buckets, versions=versions)

    # Conflicts and rejected items --------------------------------------------------------

    async def items(
        self, outcome: Outcome | None, state: ItemState | None, limit: int
    ) -> list[SyncItemPublic]:
        access.require(self.principal, Permission.HOUSEHOLDS_READ)
        paging.page_size(limit, ITEMS_MAX)
        stmt = select(SyncItem).where(col(SyncItem.state) != ItemState.DONE)
        mine = col(SyncItem.actor) == self.principal.subject
        area = access.path_condition(self.principal, col(SyncItem.unit_path))
        if not self._sees_area_items():
            stmt = stmt.where(mine)
        elif area is not None:
            stmt = stmt.where(area | mine)
        if outcome:
            stmt = stmt.where(col(SyncItem.outcome) == outcome)
        if state:
            stmt = stmt.where(col(SyncItem.state) == state)
        stmt = stmt.order_by(col(SyncItem.created_at), col(SyncItem.id)).limit(limit)
        return [self._shown(r) for r in (await self.session.scalars(stmt)).all()]

    def _shown(self, row: SyncItem) -> SyncItemPublic:
        """Personal fields the reader may not see are withheld from payloads and conflicts,
        as on the records themselves."""
        item = SyncItemPublic.model_validate(row, from_attributes=True)
        payload, hidden = access.masked(self.principal, row.entity.value, item.payload)
        conflicts, hidden_conflicts = access.masked(
            self.principal, row.entity.value, item.result.get("conflicts") or {}
        )
        if not hidden and not hidden_conflicts:
            return item
        return item.model_copy(
            update={"payload": payload, "result": {**item.result, "conflicts": conflicts or None}}
        )

    def _sees_area_items(self) -> bool:
        return self.principal.can(Permission.REVIEW_MANAGE) or self.principal.can(
            Permission.AUDIT_READ
        )

    async def resolve(
        self, item_id: uuid.UUID, body: Resolve, key: RequestKey | None = None
    ) -> SyncItemPublic:
        """Take mine (apply what the device sent), take theirs (keep the server's), or new
        values; for a rejected item, new values retry it and take theirs discards it. A retry
        (the same Idempotency-Key, or the same resolution again) gets the first answer."""
        access.require(self.principal, Permission.HOUSEHOLDS_WRITE)
        return await self.checks.kept(
            lambda: self.uow.run_keyed(
                key, SyncItemPublic, 200, lambda: self._resolve(item_id, body)
            )
        )

    async def _resolve(self, item_id: uuid.UUID, body: Resolve) -> SyncItemPublic:
        row = await self.session.get(SyncItem, item_id, with_for_update=True)
        own = row is not None and row.actor == self.principal.subject
        if row is None or not (
            own
            or (
                self.principal.can(Permission.REVIEW_MANAGE)
                and access.in_scope(self.principal, row.unit_path)
            )
        ):
            raise NotFound(f"no sync item {item_id}")
        if row.state != ItemState.OPEN:
            if row.resolution is not None and _same(row.resolution, body):
                return self._shown(row)
            raise ValidationFailed(
                [FieldProblem("resolution", f"the item is {row.state.value}", "not_open")]
            )
        version = None
        if body.resolution != Resolution.TAKE_THEIRS:
            values = row.payload if body.resolution == Resolution.TAKE_MINE else body.values
            if body.resolution == Resolution.NEW_VALUES and not values:
                raise ValidationFailed([FieldProblem("values", "required", "missing")])
            version = await self._apply(row, values or {})
        row.state = ItemState.RESOLVED
        row.resolution = {
            "resolution": body.resolution.value,
            "values": body.values,
            "note": body.note,
            "version": version,
        }
        row.resolved_by, row.resolved_at = self.principal.subject, utcnow()
        await self.checks.settle()
        return self._shown(row)

    async def _apply(self, row: SyncItem, values: dict[str, Any]) -> int:
        item = PushItem(
            op_id=row.op_id,
            op=row.op,
            entity=row.entity,
            id=row.entity_id,
            base_version=row.base_version,
            data=values,
        )
        data, _ = device_data(item)
        applier = Applier(self.uow, self.ops)
        async with self.uow.batch():
            if row.op == Op.CREATE:
                return (await applier.apply(item, data)).version
            current, _ = await applier.current(item)
            return await applier.write(item, data, current)


def _same(resolution: dict[str, Any], body: Resolve) -> bool:
    return (resolution.get("resolution"), resolution.get("values"), resolution.get("note")) == (
        body.resolution.value,
        body.values,
        body.note,
    )
