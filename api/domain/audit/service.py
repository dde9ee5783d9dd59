"""The audit trail: writes come from the change log (with old and new values), partner reads
of personal data from their own append-only table. Nothing here updates or deletes."""

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
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


class AuditTrail:
    def __init__(self, session: AsyncSession, principal: Principal) -> None:
        self.session = session
        self.principal = principal

    async def writes(
        self,
        *,
        entity_id: str | None,
        actor: str | None,
        since: datetime | None,
        until: datetime | None,
        after: int,
        limit: int,
    ) -> list[WritePublic]:
        access.require(self.principal, Permission.AUDIT_READ)
        e = ChangeLogEntry
        stmt = access.scoped(select(e).where(col(e.seq) > after), self.principal, col(e.unit_path))
        if entity_id:
            stmt = stmt.where(col(e.entity_id) == entity_id)
        if actor:
            stmt = stmt.where(col(e.actor) == actor)
        if since:
            stmt = stmt.where(col(e.occurred_at) >= since)
        if until:
            stmt = stmt.where(col(e.occurred_at) < until)
        rows = (await self.session.scalars(stmt.order_by(col(e.seq)).limit(limit))).all()
        return [WritePublic.model_validate(r, from_attributes=True) for r in rows]

    async def reads(
        self,
        *,
        entity_id: str | None,
        actor: str | None,
        since: datetime | None,
        until: datetime | None,
        after: int,
        limit: int,
    ) -> list[ReadPublic]:
        access.require(self.principal, Permission.AUDIT_READ)
        r = PersonalDataRead
        stmt = access.scoped(select(r).where(col(r.id) > after), self.principal, col(r.unit_path))
        if entity_id:
            stmt = stmt.where(col(r.entity_id) == entity_id)
        if actor:
            stmt = stmt.where(col(r.actor) == actor)
        if since:
            stmt = stmt.where(col(r.read_at) >= since)
        if until:
            stmt = stmt.where(col(r.read_at) < until)
        rows = (await self.session.scalars(stmt.order_by(col(r.id)).limit(limit))).all()
        return [ReadPublic.model_validate(x, from_attributes=True) for x in rows]
