"""What devices download: a snapshot of a commune, then the changes in their area in commit
order (records, tombstones, and drops when a record leaves the area), and digests to check
what they hold without downloading it all. Also the sync log and the conflict queue."""

import hashlib
import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from api.domain import access
from api.domain.access import Permission
from api.domain.base import utcnow
from api.domain.changes.models import ChangeLogEntry, ChangeLogHead, Operation
from api.domain.errors import FieldProblem, Forbidden, InvalidCursor, NotFound, ValidationFailed
from api.domain.households.models import Household
from api.domain.keyset import after_position, position
from api.domain.members.models import Member
from api.domain.pagination import decode_cursor, encode_cursor
from api.domain.review.base import ASSESSMENT, CAMPAIGN, campaign_public
from api.domain.review.models import Assessment, Campaign, CampaignState
from api.domain.services import Services
from api.domain.sync.models import (
    Bucket,
    Digest,
    Entity,
    ItemState,
    Op,
    Outcome,
    PulledChange,
    PullPage,
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

PULL_KIND = "pull"
SNAP_KIND = "snap"
SYNCED = ("household", "member", ASSESSMENT, CAMPAIGN)
MAX_SEQ = 2**63


class SyncService:
    def __init__(self, services: Services) -> None:
        self.s = services
        self.session = services.session
        self.principal = services.principal

    # Cursors carry the areas they were issued for, so a reassigned user is told what to drop.

    def _cursor(self, seq: int) -> str:
        return encode_cursor(PULL_KIND, [seq, list(self.principal.areas)])

    def _read_cursor(self, cursor: str | None) -> tuple[int, list[str]]:
        if not cursor:
            return 0, list(self.principal.areas)
        seq, areas = decode_cursor(PULL_KIND, cursor, 2)
        if (
            isinstance(seq, bool)
            or not isinstance(seq, int)
            or not 0 <= seq < MAX_SEQ
            or not isinstance(areas, list)
            or not all(isinstance(a, str) for a in areas)
        ):
            raise InvalidCursor("cursor is not one this service issued")
        return seq, areas

    async def _head(self) -> int:
        head = await self.session.get(ChangeLogHead, 1)
        return 0 if head is None else head.last_seq

    async def pull(self, cursor: str | None, limit: int) -> PullPage:
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
                    if not any(_covers(b, a) for b in areas) or any(_covers(d, a) for d in dropped)
                ],
            )
        head = await self._head()
        stmt = select(ChangeLogEntry).where(
            col(ChangeLogEntry.seq) > after,
            col(ChangeLogEntry.entity_type).in_(access.readable(self.principal, SYNCED)),
        )
        stmt = access.scoped(stmt, self.principal, col(ChangeLogEntry.unit_path))
        rows = list(
            await self.session.scalars(stmt.order_by(col(ChangeLogEntry.seq)).limit(limit + 1))
        )
        has_more = len(rows) > limit
        rows = rows[:limit]
        last: dict[tuple[str, str], ChangeLogEntry] = {}
        for r in rows:
            last.pop((r.entity_type, r.entity_id), None)
            last[(r.entity_type, r.entity_id)] = r
        records = await self._records(
            [(t, uuid.UUID(i)) for (t, i), r in last.items() if r.operation != Operation.DELETE]
        )
        changes = []
        for (kind, rid), r in last.items():
            record = records.get((kind, rid))
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

    async def _records(self, keys: Sequence[tuple[str, uuid.UUID]]) -> dict[tuple[str, str], Any]:
        by: dict[str, list[uuid.UUID]] = defaultdict(list)
        for kind, rid in keys:
            by[kind].append(rid)
        out: dict[tuple[str, str], Any] = {}
        if by["household"]:
            for hid, h in (await self.s.households.by_ids(by["household"])).items():
                out[("household", str(hid))] = h.model_dump(mode="json")
        if by["member"]:
            for m in await self._members(col(Member.id).in_(by["member"])):
                out[("member", str(m["id"]))] = m
        if by["assessment"]:
            for aid, a in (await self.s.review.assessments_by_id(by["assessment"])).items():
                out[("assessment", str(aid))] = a.model_dump(mode="json")
        if by["review_campaign"]:
            rows = await self.session.scalars(
                access.scoped(
                    select(Campaign).where(col(Campaign.id).in_(by["review_campaign"])),
                    self.principal,
                    col(Campaign.unit_path),
                )
            )
            for c in rows.all():
                out[("review_campaign", str(c.id))] = campaign_public(c).model_dump(mode="json")
        return out

    async def _members(self, condition: Any) -> list[dict[str, Any]]:
        stmt = access.scoped(
            select(Member).where(condition, col(Member.deleted_at).is_(None)),
            self.principal,
            col(Member.unit_path),
        )
        rows = (await self.session.scalars(stmt)).all()
        return [m.model_dump(mode="json") for m in await self.s.members.shown(rows)]

    async def snapshot(self, unit: str, after: str | None, limit: int) -> SnapshotPage:
        """A commune's households with members and assessments, a page at a time. The first
        page fixes the pull cursor: changes committed after it come through `pull`."""
        access.require(self.principal, Permission.HOUSEHOLDS_READ)
        if after:
            seq, issued_for, position_cursor = decode_cursor(SNAP_KIND, after, 3)
            if (
                isinstance(seq, bool)
                or not isinstance(seq, int)
                or not 0 <= seq < MAX_SEQ
                or issued_for != unit
                or not isinstance(position_cursor, str)
            ):
                raise InvalidCursor("cursor is not one this service issued for this unit")
        else:
            seq, position_cursor = await self._head(), ""
        u = await self.s.units.get(unit)
        stmt = select(Household).where(
            col(Household.deleted_at).is_(None),
            col(Household.unit_path).like(u.path + "/%") | (col(Household.unit_path) == u.path),
        )
        stmt = access.scoped(stmt, self.principal, col(Household.unit_path))
        stmt = after_position(
            stmt, "hh", position_cursor or None, col(Household.created_at), col(Household.id)
        )
        rows = list((await self.session.scalars(stmt.limit(limit + 1))).all())
        has_more = len(rows) > limit
        rows = rows[:limit]
        shown = await self.s.households.shown(rows)
        ids = [h.id for h in rows]
        members: dict[str, list[dict[str, Any]]] = defaultdict(list)
        if ids:
            for m in await self._members(col(Member.household_id).in_(ids)):
                members[str(m["household_id"])].append(m)
        assessments: dict[str, list[dict[str, Any]]] = defaultdict(list)
        if ids and access.may_read(self.principal, ASSESSMENT):
            for a in await self.s.review.assessments_of(ids):
                assessments[str(a.household_id)].append(a.model_dump(mode="json"))
        campaigns: list[dict[str, Any]] = []
        if not after and access.may_read(self.principal, CAMPAIGN):
            open_ones = await self.session.scalars(
                access.scoped(
                    select(Campaign).where(col(Campaign.state) == CampaignState.OPEN),
                    self.principal,
                    col(Campaign.unit_path),
                )
            )
            campaigns = [
                campaign_public(c).model_dump(mode="json")
                for c in open_ones.all()
                if _covers(u.path, c.unit_path) or _covers(c.unit_path, u.path)
            ]
        next_page = (
            encode_cursor(SNAP_KIND, [seq, unit, position("hh", rows[-1].created_at, rows[-1].id)])
            if has_more
            else None
        )
        return SnapshotPage(
            households=[
                SnapshotHousehold(
                    household=h.model_dump(mode="json"),
                    members=members[str(h.id)],
                    assessments=assessments[str(h.id)],
                )
                for h in shown
            ],
            campaigns=campaigns,
            next=next_page,
            has_more=has_more,
            cursor=self._cursor(seq),
        )

    async def digest(self, unit: str, entity: Entity, bucket: str | None = None) -> Digest:
        """Counts and hashes of (id, version) by the first hex digit of the id: a device
        computes the same over what it holds and fetches only the buckets that differ."""
        access.require(self.principal, Permission.HOUSEHOLDS_READ)
        if bucket is not None and (len(bucket) != 1 or bucket not in "0123456789abcdef"):
            raise ValidationFailed([FieldProblem("bucket", "one hex digit", "invalid", "query")])
        u = await self.s.units.get(unit)
        model: Any = {Entity.HOUSEHOLD: Household, Entity.MEMBER: Member}.get(entity, Assessment)
        stmt = select(col(model.id), col(model.version)).where(
            col(model.deleted_at).is_(None),
            col(model.unit_path).like(u.path + "/%") | (col(model.unit_path) == u.path),
        )
        stmt = access.scoped(stmt, self.principal, col(model.unit_path))
        # What the caller may not read is not there for it: the digest of an empty set.
        rows = (
            (await self.session.execute(stmt)).all()
            if access.may_read(self.principal, entity.value)
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

    # The sync log ------------------------------------------------------------------------

    async def log_session(self, entry: SyncSession) -> None:
        entry.actor = self.principal.subject
        entry.unit_path = self.principal.areas[0] if self.principal.areas else ""
        self.session.add(entry)
        await self.session.commit()

    async def sessions(
        self, actor: str | None, device_id: str | None, limit: int
    ) -> list[SyncSessionPublic]:
        if not (
            self.principal.can(Permission.DEVICES_MANAGE)
            or self.principal.can(Permission.AUDIT_READ)
        ):
            raise Forbidden("your role may not read the sync log")
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

    # Conflicts and rejected items --------------------------------------------------------

    async def items(
        self, outcome: Outcome | None, state: ItemState | None, limit: int
    ) -> list[SyncItemPublic]:
        access.require(self.principal, Permission.HOUSEHOLDS_READ)
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
        hidden = access.hidden_fields(self.principal, row.entity.value)
        if not hidden:
            return item
        conflicts = item.result.get("conflicts") or {}
        return item.model_copy(
            update={
                "payload": {k: None if k in hidden else v for k, v in item.payload.items()},
                "result": {
                    **item.result,
                    "conflicts": {
                        k: {"mine": None, "theirs": None} if k in hidden else v
                        for k, v in conflicts.items()
                    }
                    or None,
                },
            }
        )

    def _sees_area_items(self) -> bool:
        return self.principal.can(Permission.REVIEW_MANAGE) or self.principal.can(
            Permission.AUDIT_READ
        )

    async def resolve(self, item_id: uuid.UUID, body: Resolve) -> SyncItemPublic:
        """Take mine (apply what the device sent), take theirs (keep the server's), or new
        values; for a rejected item, new values retry it and take theirs discards it."""
        access.require(self.principal, Permission.HOUSEHOLDS_WRITE)
        return await self.s.members.checks.kept(lambda: self._resolve(item_id, body))

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
        await self.s.members.checks.settle()
        await self.s.uow.commit()
        return self._shown(row)

    async def _apply(self, row: SyncItem, values: dict[str, Any]) -> int:
        from api.domain.sync.models import PushItem
        from api.domain.sync.push import SERVER_FIELDS, Pusher

        data = {k: v for k, v in values.items() if k not in SERVER_FIELDS}
        item = PushItem(
            op_id=row.op_id,
            op=row.op,
            entity=row.entity,
            id=row.entity_id,
            base_version=row.base_version,
            data=data,
        )
        pusher = Pusher(self.s)
        self.s.uow.deferred = True
        try:
            if row.op == Op.CREATE:
                _, version, _ = await pusher._apply(item, dict(data))
                return version
            current, _ = await pusher._current(item)
            return await pusher._write(item, data, current)
        finally:
            self.s.uow.deferred = False


def _covers(area: str, path: str) -> bool:
    return area == "" or path == area or path.startswith(area + "/")
