"""Sign-in throttling: slow down, then lock, per account name and per client address.

A guess takes a slot BEFORE its password is verified, in a short transaction of its own that
locks the counters: however many attempts arrive at once, at most the limit are verified. The
slot counts as a failure from the start (an attempt that never finishes stays counted); a
success gives it back.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError

from api.domain.base import utcnow
from api.domain.errors import Locked
from api.domain.identity.models import LoginThrottle
from api.domain.uow import UnitOfWork


@dataclass(frozen=True)
class ThrottlePolicy:
    max_failures: int
    max_failures_per_address: int
    lock: timedelta
    slowdown_after: int

    def delay_seconds(self, failures: int) -> float:
        """Extra wait before answering a failed attempt: grows, capped at 2 s."""
        if failures < self.slowdown_after:
            return 0.0
        return min(0.25 * 2.0 ** (failures - self.slowdown_after), 2.0)


def _locked(until: datetime, now: datetime) -> Locked:
    return Locked(
        "too many failed sign-ins; try again later",
        retry_after=max(1, int((until - now).total_seconds()) + 1),
    )


class Throttle:
    def __init__(self, uow: UnitOfWork, policy: ThrottlePolicy) -> None:
        self.uow = uow
        self.session = uow.session
        self.policy = policy

    async def _locked_row(self, key: str) -> LoginThrottle:
        """The counter row, locked until the transaction ends (created on first use)."""
        row = await self.session.get(
            LoginThrottle, key, with_for_update=True, populate_existing=True
        )
        if row is not None:
            return row
        try:
            async with self.session.begin_nested():
                row = LoginThrottle(key=key, failures=0)
                self.session.add(row)
            return row
        except IntegrityError:
            # A concurrent first attempt created it; the locks taken so far are kept.
            row = await self.session.get(
                LoginThrottle, key, with_for_update=True, populate_existing=True
            )
            assert row is not None
            return row

    async def claim(self, account_key: str, address_key: str) -> int:
        """Take a guess slot on both keys and commit; returns the account's count with it.

        Raises Locked (and takes nothing) if either key has no slot left."""
        now = utcnow()
        limits = {
            account_key: self.policy.max_failures,
            address_key: self.policy.max_failures_per_address,
        }
        rows = {key: await self._locked_row(key) for key in limits}
        for row in rows.values():
            lock_over = row.locked_until is not None and row.locked_until <= now
            if lock_over or now - row.window_started_at > self.policy.lock:
                row.failures, row.window_started_at, row.locked_until = 0, now, None
        for row in rows.values():
            if row.locked_until is not None:
                refusal = _locked(row.locked_until, now)
                await self.uow.rollback()
                raise refusal
        for key, row in rows.items():
            row.failures += 1
            if row.failures >= limits[key]:
                # The last slot: the lock holds unless this very guess turns out right.
                row.locked_until = now + self.policy.lock
        failures = rows[account_key].failures
        await self.uow.finish()
        return failures

    async def succeed(self, account_key: str, address_key: str) -> None:
        """The guess was right: the account starts afresh, the address gets its slot back."""
        account = await self._locked_row(account_key)
        account.failures, account.locked_until = 0, None
        account.window_started_at = utcnow()
        address = await self._locked_row(address_key)
        address.failures = max(0, address.failures - 1)
        if address.failures < self.policy.max_failures_per_address:
            address.locked_until = None
