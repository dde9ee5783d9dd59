"""Duplicate personal-ID checks look across the whole country, so they are an oracle of whose
ID is whose: each is counted against the caller's hourly allowance, and one that finds a person
outside the caller's area is written to the audit trail of that person's area.

Both must outlive the use case that checked: a refused write, a rejected sync item and a dry
run learn as much as a successful one. Checks are held here and stored by `settle`, in the
use case's transaction when it commits, or after its rollback when it does not."""

import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from api.domain.access import Role
from api.domain.audit.models import PersonalDataRead
from api.domain.base import utcnow
from api.domain.errors import PersonalIdCheckLimit
from api.domain.identity.models import LoginThrottle
from api.domain.uow import UnitOfWork

CHECK = "personal_id_check"  # the audit trail's entity type for a look-up outside the area
PURPOSE = "duplicate personal ID check"
WINDOW = timedelta(hours=1)
T = TypeVar("T")


class PersonalIdChecks:
    def __init__(self, uow: UnitOfWork, per_hour: int) -> None:
        self.uow = uow
        self.session = uow.session
        self.principal = uow.principal
        self.per_hour = per_hour
        # The allowance is a fixed-window counter in the generic throttle table.
        self.key = f"personal-id-checks:{self.principal.subject}"
        self._used: int | None = None
        self._window_ends = utcnow()
        self._spent = 0
        self._found: list[dict[str, Any]] = []
        # Settled in the current transaction, not yet committed.
        self._written: tuple[int, list[dict[str, Any]]] = (0, [])

    @property
    def pending(self) -> bool:
        return bool(self._spent or self._found)

    async def load(self) -> None:
        """Read (and on PostgreSQL lock until the transaction ends) what the caller has used
        this hour, so concurrent requests of one caller cannot each spend the allowance."""
        row = await self._counter(lock=True)
        now = utcnow()
        if row is None or now - row.window_started_at >= WINDOW:
            self._used, self._window_ends = 0, now + WINDOW
        else:
            self._used, self._window_ends = row.failures, row.window_started_at + WINDOW

    async def spend(self) -> None:
        """Count one check, or refuse it once the hour's allowance is used up."""
        if self.principal.role == Role.SYSTEM:
            return  # imports and the command line, not a person
        if self._used is None:
            await self.load()
        assert self._used is not None
        if self._used + self._spent >= self.per_hour:
            wait = int((self._window_ends - utcnow()).total_seconds()) + 1
            raise PersonalIdCheckLimit(
                f"at most {self.per_hour} personal ID checks an hour; try again later",
                retry_after=max(1, wait),
            )
        self._spent += 1

    def found_outside(self, member_id: uuid.UUID, unit_path: str) -> None:
        self._found.append(
            {
                "actor": self.principal.subject,
                "agency": self.principal.agency,
                "purpose": PURPOSE,
                "entity_type": CHECK,
                "entity_id": str(member_id),
                "unit_path": unit_path,
                "read_at": utcnow(),
            }
        )

    async def settle(self) -> None:
        """Store the checks held so far in the current transaction (a sync batch settles once,
        at its end: not inside an item's savepoint, which a rejection rolls back)."""
        if self.uow.batched or not self.pending:
            return
        if self._spent:
            row = await self._counter(lock=True) or await self._new_counter()
            now = utcnow()
            if now - row.window_started_at >= WINDOW:
                row.failures, row.window_started_at = 0, now
            row.failures += self._spent
            self._used, self._window_ends = row.failures, row.window_started_at + WINDOW
        if self._found:
            await self.session.execute(insert(PersonalDataRead), self._found)
        spent, found = self._written
        self._written = (spent + self._spent, found + self._found)
        self._spent, self._found = 0, []
        await self.session.flush()

    def forget(self) -> None:
        """Drop what is held: the batch that checked is about to run again from the start."""
        self._spent, self._found, self._used, self._written = 0, [], None, (0, [])

    async def kept(self, action: Callable[[], Awaitable[T]]) -> T:
        """Run a use case that commits itself; if it fails, what it checked is stored again
        after the rollback and committed on its own."""
        try:
            result = await action()
        except Exception:
            spent, found = self._written
            self._spent, self._found = self._spent + spent, self._found + found
            self._written = (0, [])
            if self.pending and not self.uow.batched:
                await self.uow.rollback()
                self._used = None  # the rollback released the lock and the counter's value
                await self.settle()
                await self.uow.finish()
                self._written = (0, [])
            raise
        if not self.uow.batched:
            self._written = (0, [])
        return result

    async def _counter(self, *, lock: bool) -> LoginThrottle | None:
        stmt = select(LoginThrottle).where(col(LoginThrottle.key) == self.key)
        if lock:
            stmt = stmt.with_for_update()
        found: LoginThrottle | None = (
            await self.session.scalars(stmt.execution_options(populate_existing=True))
        ).one_or_none()
        return found

    async def _new_counter(self) -> LoginThrottle:
        row = LoginThrottle(key=self.key, failures=0, window_started_at=utcnow())
        try:
            async with self.session.begin_nested():
                self.session.add(row)
        except IntegrityError:
            # A concurrent request of the same caller made it first.
            found = await self._counter(lock=True)
            assert found is not None
            return found
        return row
