"""The audit trail: writes come from the change log (with old and new values), partner reads
of personal data from their own append-only table. Nothing here updates or deletes."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, insert, select
from sqlmodel import col

from api.domain import access
from api.domain.access import Permission, Principal
from api.domain.audit.models import PersonalDataRead, ReadPublic, WritePublic
from api.domain.base import utcnow
from api.domain.changes.models import ChangeLogEntry
from api.domain.errors import PurposeRequired
from api.domain.kernel.paging import page_size
from api.domain.uow import UnitOfWork


async def log_partner_reads(
    uow: UnitOfWork, entity_type: str, records: Iterable[tuple[str, str]]
) -> None:
    """Record (id, unit_path) pairs shown to a partner; committed at once, since a read has no
    other write (within a batch, with the batch)."""
    principal = uow.principal
    if not principal.is_partner:
        return
    if not principal.purpose:
        raise PurposeRequired("send the purpose of this read in the X-Purpose header")
    rows = [
        {
            "actor": principal.subject,
            "agency": principal.agency,
            "purpose": principal.purpose,
            "entity_type": entity_type,
            "entity_id": entity_id,
            "unit_path": path,
            "read_at": utcnow(),
        }
        for entity_id, path in records
    ]
    if rows:
        # A Core insert goes through the session's one-operation-at-a-time guard; add_all
        # would touch the shared identity map while a concurrent GraphQL sibling flushes.
        await uow.session.execute(insert(PersonalDataRead), rows)
        await uow.commit()


def require_purpose(principal: Principal) -> None:
    if principal.is_partner and not principal.purpose:
        raise PurposeRequired("send the purpose of this read in the X-Purpose header")


@dataclass(frozen=True)
class AuditQuery:
    entity_id: str | None = None
    actor: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    after: int = 0
    limit: int = 100


S = TypeVar("S", bound=Select[*tuple[Any, ...]])


def _filtered(stmt: S, q: AuditQuery, key: Any, entity: Any, actor: Any, at: Any) -> S:
    stmt = stmt.where(key > q.after)
    for column, value in ((entity, q.entity_id), (actor, q.actor)):
        if value:
            stmt = stmt.where(column == value)
    if q.since:
        stmt = stmt.where(at >= q.since)
    if q.until:
        stmt = stmt.where(at < q.until)
    return stmt.order_by(key).limit(q.limit)


class AuditTrail:
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.session = uow.session
        self.principal = uow.principal

    async def writes(self, q: AuditQuery) -> list[WritePublic]:
        access.require(self.principal, Permission.AUDIT_READ)
        page_size(q.limit, self.uow.policy.page_size_max)
        e = ChangeLogEntry
        stmt = access.scoped(select(e), self.principal, col(e.unit_path))
        stmt = _filtered(stmt, q, col(e.seq), col(e.entity_id), col(e.actor), col(e.occurred_at))
        rows = (await self.session.scalars(stmt)).all()
        return [self._write(r) for r in rows]

    def _write(self, entry: ChangeLogEntry) -> WritePublic:
        """Old and new values of fields the reader may not see are replaced by nulls and the
        field is listed in `redacted`, as on the record itself."""
        shown = WritePublic.model_validate(entry, from_attributes=True)
        shown.diff, shown.redacted = access.masked(self.principal, entry.entity_type, shown.diff)
        return shown

    async def reads(self, q: AuditQuery) -> list[ReadPublic]:
        access.require(self.principal, Permission.AUDIT_READ)
        page_size(q.limit, self.uow.policy.page_size_max)
        r = PersonalDataRead
        stmt = access.scoped(select(r), self.principal, col(r.unit_path))
        stmt = _filtered(stmt, q, col(r.id), col(r.entity_id), col(r.actor), col(r.read_at))
        rows = (await self.session.scalars(stmt)).all()
        return [ReadPublic.model_validate(x, from_attributes=True) for x in rows]
