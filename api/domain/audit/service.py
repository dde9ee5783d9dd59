"""The audit trail: writes come from the change log (with old and new values), partner reads
of personal data from their own append-only table. Nothing here updates or deletes."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.domain import access
from api.domain.access import Permission, Principal
from api.domain.audit.models import PersonalDataRead, ReadPublic, WritePublic
from api.domain.changes.models import ChangeLogEntry
from api.domain.errors import PurposeRequired


async def log_partner_reads(
    session: AsyncSession,
    principal: Principal,
    entity_type: str,
    records: Iterable[tuple[str, str]],
) -> None:
    """Record (id, unit_path) pairs shown to a partner. Commits: a read has no other write."""
    if not principal.is_partner:
        return
    if not principal.purpose:
        raise PurposeRequired("send the purpose of this read in the X-Purpose header")
    rows = [
        PersonalDataRead(
            actor=principal.subject,
            agency=principal.agency,
            purpose=principal.purpose,
            entity_type=entity_type,
            entity_id=entity_id,
            unit_path=path,
        )
        for entity_id, path in records
    ]
    if rows:
        session.add_all(rows)
        await session.commit()


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
    def __init__(self, session: AsyncSession, principal: Principal) -> None:
        self.session = session
        self.principal = principal

    async def writes(self, q: AuditQuery) -> list[WritePublic]:
        access.require(self.principal, Permission.AUDIT_READ)
        e = ChangeLogEntry
        stmt = access.scoped(select(e), self.principal, col(e.unit_path))
        stmt = _filtered(stmt, q, col(e.seq), col(e.entity_id), col(e.actor), col(e.occurred_at))
        rows = (await self.session.scalars(stmt)).all()
        return [WritePublic.model_validate(r, from_attributes=True) for r in rows]

    async def reads(self, q: AuditQuery) -> list[ReadPublic]:
        access.require(self.principal, Permission.AUDIT_READ)
        r = PersonalDataRead
        stmt = access.scoped(select(r), self.principal, col(r.unit_path))
        stmt = _filtered(stmt, q, col(r.id), col(r.entity_id), col(r.actor), col(r.read_at))
        rows = (await self.session.scalars(stmt)).all()
        return [ReadPublic.model_validate(x, from_attributes=True) for x in rows]
