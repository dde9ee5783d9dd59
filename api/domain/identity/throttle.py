"""Sign-in throttling: slow down, then lock, per account name and per client address."""

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from api.domain.base import utcnow
from api.domain.errors import Locked
from api.domain.identity.models import LoginThrottle


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


class Throttle:
    def __init__(self, session: AsyncSession, policy: ThrottlePolicy) -> None:
        self.session = session
        self.policy = policy

    async def _row(self, key: str) -> LoginThrottle:
        row = await self.session.get(LoginThrottle, key, with_for_update=True)
        if row is None:
            row = LoginThrottle(key=key, failures=0)
            self.session.add(row)
        return row

    async def check(self, keys: list[str]) -> None:
        now = utcnow()
        for key in keys:
            row = await self.session.get(LoginThrottle, key)
            if row is not None and row.locked_until is not None and row.locked_until > now:
                raise Locked(
                    "too many failed sign-ins; try again later",
                    retry_after=max(1, int((row.locked_until - now).total_seconds()) + 1),
                )

    async def fail(self, account_key: str, address_key: str) -> float:
        """Count a failure on both keys; returns how long to hold the answer back."""
        now = utcnow()
        failures = 0
        limits = {
            account_key: self.policy.max_failures,
            address_key: self.policy.max_failures_per_address,
        }
        for key, limit in limits.items():
            row = await self._row(key)
            if now - row.window_started_at > self.policy.lock:
                row.failures, row.window_started_at = 0, now
            row.failures += 1
            if row.failures >= limit:
                row.locked_until = now + self.policy.lock
                row.failures, row.window_started_at = 0, now
            if key == account_key:
                failures = row.failures
        await self.session.flush()
        return self.policy.delay_seconds(failures)

    async def succeed(self, account_key: str) -> None:
        row = await self.session.get(LoginThrottle, account_key)
        if row is not None:
            row.failures, row.locked_until = 0, None
            row.window_started_at = utcnow()
