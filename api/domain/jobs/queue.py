"""Enqueueing (in the caller's transaction) and running jobs. A worker claims a ready job
(or one whose lease ran out) with a row lock that other workers skip, renews the lease as the
handler commits its steps, and on failure puts the job back with a growing delay."""

import asyncio
import logging
import random
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from api.domain import access
from api.domain.access import SYSTEM, Permission, Principal, Role
from api.domain.base import new_id, utcnow
from api.domain.errors import NotFound
from api.domain.jobs.models import Job, JobPublic, JobState, job_public
from api.domain.policy import Policy
from api.domain.uow import UnitOfWork

log = logging.getLogger("api.jobs")
LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 5
# A handler does the job's work with the services of the principal who asked for it, and
# commits as it goes (each step together with the job's progress: see `renew`).
Handler = Callable[[Any, Job], Awaitable[None]]
HANDLERS: dict[str, Handler] = {}


def handles(kind: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        HANDLERS[kind] = handler
        return handler

    return register


def _snapshot(principal: Principal) -> dict[str, Any]:
    return {
        "subject": principal.subject,
        "role": principal.role.value,
        "areas": list(principal.areas),
        "agency": principal.agency,
    }


def _principal(data: dict[str, Any]) -> Principal:
    return Principal(
        subject=data["subject"],
        role=Role(data["role"]),
        areas=tuple(data["areas"]),
        agency=data.get("agency"),
    )


def renew(job: Job) -> None:
    """Mark progress: the lease runs on from now (committed with the step)."""
    now = utcnow()
    job.lease_until = now + LEASE
    job.updated_at = now


class JobQueue:
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.session = uow.session
        self.principal = uow.principal

    async def enqueue(
        self, kind: str, key: str, params: dict[str, Any], content: bytes | None = None
    ) -> tuple[Job, bool]:
        """The job for this kind and key, new (True) or the one already asked for (False).
        Flushed, not committed: it commits with the caller's data."""
        existing = await self._existing(kind, key)
        if existing is not None:
            return existing, False
        job = Job(
            id=new_id(),
            kind=kind,
            key=key,
            owner=self.principal.subject,
            unit_path=self.principal.areas[0] if self.principal.areas else "",
            principal=_snapshot(self.principal),
            params=params,
            content=content,
        )
        self.session.add(job)
        try:
            async with self.session.begin_nested():
                await self.session.flush()
        except IntegrityError:
            # The same upload, enqueued at the same moment by another request.
            found = await self._existing(kind, key)
            assert found is not None
            return found, False
        return job, True

    async def _existing(self, kind: str, key: str) -> Job | None:
        stmt = select(Job).where(
            col(Job.owner) == self.principal.subject, col(Job.kind) == kind, col(Job.key) == key
        )
        found: Job | None = (await self.session.scalars(stmt)).one_or_none()
        return found

    async def get(self, job_id: uuid.UUID) -> Job:
        """A job its owner (or an admin) may read; any other does not exist for the caller."""
        job = await self.session.get(Job, job_id)
        if job is None or not (
            job.owner == self.principal.subject or self.principal.can(Permission.AUDIT_READ)
        ):
            raise NotFound(f"no job {job_id}")
        return job

    async def public(self, job_id: uuid.UUID) -> JobPublic:
        return job_public(await self.get(job_id))

    async def mine(self, limit: int = 50) -> list[JobPublic]:
        stmt = select(Job).order_by(col(Job.created_at).desc()).limit(limit)
        if not self.principal.can(Permission.AUDIT_READ):
            stmt = stmt.where(col(Job.owner) == self.principal.subject)
        access.require(self.principal, Permission.UNITS_READ)
        return [job_public(j) for j in (await self.session.scalars(stmt)).all()]


class Worker:
    """Runs jobs from the queue, each with the services of the principal who asked for it."""

    def __init__(
        self,
        factory: async_sessionmaker[AsyncSession],
        services: Callable[[AsyncSession, Principal], Any],
        name: str | None = None,
    ) -> None:
        self.factory = factory
        self.services = services
        self.name = name or f"worker-{uuid.uuid4().hex[:8]}"

    async def claim(self) -> uuid.UUID | None:
        now = utcnow()
        async with self.factory() as session:
            stmt = (
                select(Job)
                .where(
                    or_(
                        and_(col(Job.state) == JobState.QUEUED, col(Job.run_after) <= now),
                        and_(col(Job.state) == JobState.RUNNING, col(Job.lease_until) < now),
                    )
                )
                .order_by(col(Job.run_after), col(Job.created_at))
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            job = (await session.scalars(stmt)).one_or_none()
            if job is None:
                return None
            job.state = JobState.RUNNING
            job.attempts += 1
            job.worker = self.name
            renew(job)
            await UnitOfWork(session, SYSTEM).finish()
            return job.id

    async def run_one(self) -> bool:
        """Claim and run one job; False when none is ready."""
        job_id = await self.claim()
        if job_id is None:
            return False
        async with self.factory() as session:
            job = await session.get(Job, job_id)
            assert job is not None
            try:
                await HANDLERS[job.kind](self.services(session, _principal(job.principal)), job)
                job.state, job.error, job.lease_until = JobState.DONE, None, None
                job.updated_at = utcnow()
                await UnitOfWork(session, SYSTEM).finish()
            except Exception as exc:
                log.exception("job %s (%s) failed, attempt %s", job_id, job.kind, job.attempts)
                await session.rollback()
                await self._failed(session, job_id, exc)
        return True

    async def _failed(self, session: AsyncSession, job_id: uuid.UUID, exc: Exception) -> None:
        job = await session.get(Job, job_id)
        assert job is not None
        job.error = f"{type(exc).__name__}: {exc}"[:2000]
        job.lease_until = None
        if job.attempts >= MAX_ATTEMPTS:
            job.state = JobState.FAILED
        else:
            job.state = JobState.QUEUED
            backoff = 2**job.attempts * (1 + random.random())  # noqa: S311 - jitter, not secrets
            job.run_after = utcnow() + timedelta(seconds=backoff)
        job.updated_at = utcnow()
        await UnitOfWork(session, SYSTEM).finish()

    async def drain(self) -> int:
        """Run ready jobs until none is left; how many ran."""
        ran = 0
        while await self.run_one():
            ran += 1
        return ran

    async def forever(
        self,
        poll: float = 1.0,
        idle: Callable[[], Awaitable[None]] | None = None,
        idle_every: float = 30.0,
    ) -> None:
        """Run jobs as they come; when none is ready, `idle` (upkeep such as bringing
        projections up to date) at most every `idle_every` seconds."""
        last_idle = 0.0
        loop = asyncio.get_running_loop()
        while True:
            try:
                if await self.run_one():
                    continue
                if idle is not None and loop.time() - last_idle >= idle_every:
                    last_idle = loop.time()
                    await idle()
                await asyncio.sleep(poll)
            except asyncio.CancelledError:
                raise
            except Exception:  # the database may be away for a while: keep polling
                log.exception("worker %s: polling failed", self.name)
                await asyncio.sleep(poll * 5)


def policy_services(policy: Policy) -> Callable[[AsyncSession, Principal], Any]:
    def make(session: AsyncSession, principal: Principal) -> Any:
        from api.domain.services import Services

        return Services(session, principal, policy)

    return make
