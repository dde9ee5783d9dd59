"""Deliveries imported from a real XLSX by a durable job, on the real engine (the worker opens
its own sessions, as in production): the whole file is checked first, leading zeros that the
spreadsheet dropped come back, a worker killed mid-import is followed by another that goes on
from the last chunk written, nothing is written twice, and the same file is the same job."""

import asyncio
import io
import uuid
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from openpyxl import Workbook
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col

from api.config import Settings
from api.db import session_factory
from api.deps import policy_of
from api.domain.access import SYSTEM, Principal, Role
from api.domain.benefits import imports
from api.domain.benefits.delivery_models import Delivery
from api.domain.errors import Forbidden
from api.domain.households.member_models import MemberCreate, Relation, Sex
from api.domain.households.models import HouseholdCreate
from api.domain.identity.service import area_paths
from api.domain.jobs.models import Job, JobState
from api.domain.jobs.queue import Worker, policy_services
from api.domain.services import Services
from tests.builders import ok, refusal
from tests.conftest import DATABASE_URL

ROWS = 3 * imports.CHUNK + 500
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _workbook(personal_id: str, tag: str) -> bytes:
    book = Workbook()
    ws = book.active
    ws.append(imports.HEADERS)
    for n in range(ROWS):
        # The spreadsheet holds personal IDs as numbers: the leading zero is gone.
        pid = int(personal_id) if n == 0 else 10**10 + n
        ws.append(
            [
                f"{tag}-{n}",
                "bhyt-poor",
                "issued",
                date(2026, 1, 5),
                date(2026, 1, 1),
                date(2026, 12, 31),
                None,
                f"HN{n:010d}",
                1,
                pid,
                None,
                None,  # filed under the partner's area, not a commune other tests count in
                1,
            ]
        )
    ws.append([f"{tag}-bad", "bhyt-poor", "issued", "31/02/2026", *[None] * 9])
    ws.append(
        [f"{tag}-0", "bhyt-poor", "issued", date(2026, 1, 5), *[None] * 5, 10**10, None, None, 1]
    )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def _seed(engine: AsyncEngine) -> tuple[Principal, str, uuid.UUID]:
    """A person with a personal ID that starts with 0, committed, and a partner."""
    factory = session_factory(engine)
    async with factory() as session:
        services = Services(session, SYSTEM)
        # Bình Lục: a commune other tests do not count in, since this one commits for real.
        villages = await services.units.children("13504")
        village = villages[0].code
        household = await services.households.create(
            # Committed for real: an address no other test looks for.
            HouseholdCreate.model_validate(
                {"village_code": village, "address": f"Nhập {uuid.uuid4().hex[:8]}"}
            )
        )
        personal_id = f"035{uuid.uuid4().int % 10**9:09d}"
        member = await services.members.create(
            household.id,
            MemberCreate.model_validate(
                {
                    "full_name": "Đinh Thị Mận",
                    "sex": Sex.FEMALE,
                    "date_of_birth": "1975-04-04",
                    "personal_id": personal_id,
                    "relation_to_head": Relation.HEAD,
                }
            ),
        )
        areas = await area_paths(session, ["37"])
    partner = Principal(
        subject=f"partner:import-{uuid.uuid4().hex[:8]}",
        role=Role.PARTNER,
        areas=areas,
        agency="social_insurance",
    )
    return partner, personal_id, member.id


async def test_a_killed_import_resumes_and_writes_each_row_once(engine: AsyncEngine) -> None:
    partner, personal_id, member_id = await _seed(engine)
    tag = uuid.uuid4().hex[:8]
    content = _workbook(personal_id, tag)
    factory = session_factory(engine)
    async with factory() as session:
        job, created = await Services(session, partner).imports.upload(content, "xlsx")
    async with factory() as session:
        again, created_again = await Services(session, partner).imports.upload(content, "xlsx")
    assert (created, created_again, again.id) == (True, False, job.id)
    officer = Principal(subject="user:officer", role=Role.COMMUNE_OFFICER, areas=partner.areas)
    async with factory() as session:
        with pytest.raises(Forbidden):
            await Services(session, officer).imports.upload(content, "xlsx")

    async def progress() -> Job:
        async with factory() as session:
            found = await session.get(Job, job.id)
            assert found is not None
            return found

    services = policy_services(policy_of(Settings(database_url=DATABASE_URL)))
    first = asyncio.create_task(Worker(factory, services, "first").run_one())
    for _ in range(20_000):  # watching the job's row, as an operator would
        if (await progress()).done >= imports.CHUNK or first.done():
            break
        await asyncio.sleep(0.005)
    assert not first.done(), "the first worker should still be importing"
    first.cancel()
    await asyncio.gather(first, return_exceptions=True)
    stopped = await progress()
    assert stopped.state == JobState.RUNNING
    assert 0 < stopped.done < ROWS

    # Its lease runs out (two minutes, here at once): another worker takes the job over.
    async with factory() as session:
        await session.execute(
            update(Job)
            .where(col(Job.id) == job.id)
            .values(lease_until=datetime(2000, 1, 1, tzinfo=UTC))
        )
        await session.commit()
    assert await Worker(factory, services, "second").drain() >= 1
    finished = await progress()
    assert (finished.state, finished.done, finished.total, finished.attempts) == (
        JobState.DONE,
        ROWS,
        ROWS,
        2,
    )
    outcomes = finished.result["outcomes"]
    assert [row for row, _, _ in outcomes] == list(range(2, ROWS + 2))
    assert finished.result["counts"] == {"invalid": 2, "created": 1, "unmatched": ROWS - 1}
    async with factory() as session:
        stored = await session.scalar(
            select(func.count()).where(col(Delivery.partner) == partner.subject)
        )
        matched = (
            await session.scalars(select(Delivery).where(col(Delivery.external_id) == f"{tag}-0"))
        ).one()
    assert stored == ROWS
    assert (matched.personal_id, matched.matched_member_id) == (personal_id, member_id)
    (warning,) = [w for w in finished.result["warnings"] if w["row"] == 2]
    assert "số 0 ở đầu" in warning["message"]

    async with factory() as session:
        shown = await Services(session, partner).jobs.public(job.id)
    assert shown.summary == {
        "rows": ROWS + 2,
        "counts": {"invalid": 2, "created": 1, "unmatched": ROWS - 1},
        "warnings": ROWS + 1,  # every personal ID lost its leading zero in the spreadsheet
        "to_fix": 2,
    }
    failed = finished.result["failed"]
    assert [f["row"] for f in failed] == [ROWS + 2, ROWS + 3]
    assert "ngày không hợp lệ" in failed[0]["errors"][0]
    assert failed[1]["errors"] == ["external_id: trùng với dòng 2"]
    async with factory() as session:
        rows = (await Services(session, partner).imports.failed_rows(job.id)).decode("utf-8-sig")
    assert rows.splitlines()[0].startswith("Mã bản ghi (external_id),")
    assert f"{tag}-bad" in rows
    assert "Dòng " in rows


async def test_uploads_over_http_are_jobs_and_the_template_reads_back(
    client: httpx.AsyncClient,
) -> None:
    template = await client.get("/api/v1/deliveries/template", params={"format": "csv"})
    assert template.status_code == 200
    assert (
        template.content.decode("utf-8-sig")
        .splitlines()[0]
        .startswith("Mã bản ghi (external_id),Mã chính sách (policy)")
    )
    parsed = imports.parse(template.content, "csv")
    assert (len(parsed.items), parsed.failed) == (1, [])
    assert parsed.items[0][1].personal_id == "035190001234"

    book = (await client.get("/api/v1/deliveries/template")).content
    upload = await client.post(
        "/api/v1/deliveries/imports", content=book, headers={"Content-Type": XLSX}
    )
    job: dict[str, Any] = ok(upload, 202)
    assert (job["state"], job["done"], job["kind"]) == ("queued", 0, "delivery_import")
    assert upload.headers["location"] == f"/api/v1/jobs/{job['id']}"
    same = ok(
        await client.post(
            "/api/v1/deliveries/imports", content=book, headers={"Content-Type": XLSX}
        )
    )
    assert same["id"] == job["id"]
    assert ok(await client.get(f"/api/v1/jobs/{job['id']}"))["id"] == job["id"]
    assert job["id"] in {j["id"] for j in ok(await client.get("/api/v1/jobs"))}  # type: ignore[index]
    wrong = await client.post(
        "/api/v1/deliveries/imports", content=b"a,b", headers={"Content-Type": "text/plain"}
    )
    assert [e["path"] for e in refusal(wrong, 422, "validation_failed")["errors"]] == [
        "header.Content-Type"
    ]
    garbage = await client.post(
        "/api/v1/deliveries/imports",
        content=b"PK\x03\x04 not a workbook",
        headers={"Content-Type": XLSX},
    )
    problem = refusal(garbage, 422, "validation_failed")
    assert [e["code"] for e in problem["errors"]] == ["unreadable"]
