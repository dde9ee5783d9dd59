from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.domain import access
from api.domain.access import Permission, Principal
from api.domain.changes.models import ChangeLogEntry, ChangePage, ChangePublic
from api.domain.pagination import decode_cursor, encode_cursor, sequence_number

CURSOR_KIND = "chg"


class ChangeFeed:
    def __init__(self, session: AsyncSession, principal: Principal) -> None:
        self.session = session
        self.principal = principal

    async def page(self, after: str | None, limit: int) -> ChangePage:
        """Entries after the cursor in commit order.

        Sequence numbers are allocated at commit under one row lock (see UnitOfWork), so every
        entry with a lower number is already visible: paging by number never skips a change.
        """
        access.require(self.principal, Permission.CHANGES_READ)
        after_seq = 0
        if after:
            (value,) = decode_cursor(CURSOR_KIND, after, 1)
            after_seq = sequence_number(value)
        stmt = select(ChangeLogEntry).where(
            col(ChangeLogEntry.seq) > after_seq,
            col(ChangeLogEntry.entity_type).in_(access.readable(self.principal)),
        )
        stmt = access.scoped(stmt, self.principal, col(ChangeLogEntry.unit_path))
        stmt = stmt.order_by(col(ChangeLogEntry.seq)).limit(limit + 1)
        rows = list((await self.session.scalars(stmt)).all())
        has_more = len(rows) > limit
        rows = rows[:limit]
        last = rows[-1].seq if rows else after_seq
        return ChangePage(
            items=[
                ChangePublic(
                    seq=r.seq,
                    entity_type=r.entity_type,
                    entity_id=r.entity_id,
                    operation=r.operation,
                    version=r.version,
                    unit_path=r.unit_path,
                    actor=r.actor,
                    occurred_at=r.occurred_at,
                    changed_fields=sorted(r.diff),
                )
                for r in rows
            ],
            next_cursor=encode_cursor(CURSOR_KIND, [last]),
            has_more=has_more,
        )
