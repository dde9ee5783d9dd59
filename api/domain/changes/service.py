from sqlalchemy import select
from sqlmodel import col

from api.domain import access
from api.domain.access import Permission
from api.domain.changes.models import ChangeLogEntry, ChangePage, ChangePublic
from api.domain.kernel import paging
from api.domain.pagination import sequence_number
from api.domain.uow import UnitOfWork

BY_SEQ = paging.by_key("chg", lambda: col(ChangeLogEntry.seq), lambda e: e.seq, sequence_number)


class ChangeFeed:
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.session = uow.session
        self.principal = uow.principal

    async def page(self, after: str | None, limit: int) -> ChangePage:
        """Entries after the cursor in commit order.

        Sequence numbers are allocated at commit under one row lock (see UnitOfWork), so every
        entry with a lower number is already visible: paging by number never skips a change.
        """
        access.require(self.principal, Permission.CHANGES_READ)
        stmt = select(ChangeLogEntry).where(
            col(ChangeLogEntry.entity_type).in_(access.readable(self.principal))
        )
        stmt = access.scoped(stmt, self.principal, col(ChangeLogEntry.unit_path))
        rows, cursors, has_more = await paging.page(self.uow, stmt, BY_SEQ, after, limit)
        # Stable even when empty: the next page starts where this one would have.
        next_cursor = cursors[-1] if cursors else after or BY_SEQ.cursor_at([0])
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
            next_cursor=next_cursor,
            has_more=has_more,
        )
