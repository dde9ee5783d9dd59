"""Demo deliveries of 2023 for the synthetic district, written the way partners write them
(each agency's batches through the delivery service), and the needs behind the on-need
policies: BHYT cards for most poor and near-poor people but not all (gaps), a few for people
no longer entitled (leakage) and some for nobody the registry knows (unmatched); VBSP loans,
also to newly escaped households; legal-aid cases for recorded needs; study-cost support and
electricity payments."""

import random
import uuid
from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.domain.access import SYSTEM, Principal, Role
from api.domain.benefits.delivery_models import MAX_ITEMS, DeliveryBatch
from api.domain.benefits.need_models import Need, NeedCreate, NeedKind
from api.domain.households.member_models import Member, MembershipStatus
from api.domain.households.models import Household, PovertyStatus
from api.domain.households.records import HOUSEHOLD
from api.domain.kernel import records
from api.domain.review import status as book
from api.domain.review.derive import age_on
from api.domain.review.models import Answers, Assessment, State, StatusRecord
from api.domain.services import Services

DAY = date(2023, 6, 30)
BEFORE = date(2022, 6, 30)
CARD_SHARE = {PovertyStatus.POOR: 0.96, PovertyStatus.NEAR_POOR: 0.93}
LEAKED_CARDS = 0.10  # of people whose household escaped at the end of 2022
UNMATCHED_CARDS = 15


def _partner(client_id: str, agency: str) -> Principal:
    return Principal(
        subject=f"partner:{client_id}", role=Role.PARTNER, areas=("37",), agency=agency
    )


async def _status_on(session: AsyncSession, day: date) -> dict[uuid.UUID, PovertyStatus]:
    rows = (await session.scalars(select(StatusRecord).where(book.covering(day)))).all()
    return {r.household_id: r.status for r in rows}


def _item(external_id: str, policy: str, kind: str, on: date, **extra: Any) -> dict[str, Any]:
    return {
        "external_id": external_id,
        "policy": policy,
        "kind": kind,
        "occurred_on": on,
        "source_version": 1,
        **extra,
    }


async def _needs_from_reviews(session: AsyncSession) -> int:
    """The support needs of the recognised assessments, recorded as a recognition records
    them (the demo's reviews were loaded in bulk, past the recognition use case)."""
    system = Services(session, SYSTEM)
    rows = (
        await session.scalars(
            select(Assessment).where(
                col(Assessment.deleted_at).is_(None),
                col(Assessment.state).in_([State.RECOGNISED, State.CERTIFIED]),
            )
        )
    ).all()
    wanted = [
        (date.fromisoformat(r.decision["decided_on"]), r.household_id, answers)
        for r in rows
        if r.decision and (answers := Answers.model_validate(r.answers)).needs
    ]
    found = await records.rows_of(system.uow, HOUSEHOLD, {h for _, h, _ in wanted})
    homes = {h.id: h for h in found}
    before = await session.scalar(select(func.count()).select_from(Need))
    async with system.uow.batch():
        for day, household_id, answers in sorted(wanted, key=lambda w: (w[0], str(w[1]))):
            await system.needs.from_assessment(homes[household_id], answers, day)
    await system.uow.finish()
    after = await session.scalar(select(func.count()).select_from(Need))
    return int(after or 0) - int(before or 0)


async def load_demo_benefits(session: AsyncSession, seed: int = 2023) -> dict[str, int]:
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not secrets
    from_reviews = await _needs_from_reviews(session)
    now, before = await _status_on(session, DAY), await _status_on(session, BEFORE)
    homes = {
        h.id: h
        for h in (
            await session.scalars(select(Household).where(col(Household.deleted_at).is_(None)))
        ).all()
    }
    people: dict[uuid.UUID, list[Member]] = defaultdict(list)
    for m in (
        await session.scalars(
            select(Member).where(
                col(Member.deleted_at).is_(None),
                col(Member.membership_status) == MembershipStatus.ACTIVE,
            )
        )
    ).all():
        people[m.household_id].append(m)
    # Ids are random: draw in an order that does not depend on them.
    for members in people.values():
        members.sort(key=lambda m: (m.date_of_birth, m.full_name, m.personal_id or ""))
    ordered = sorted(
        now, key=lambda h: (homes[h].unit_path, homes[h].address) if h in homes else ("", "")
    )

    def households(*statuses: PovertyStatus) -> list[uuid.UUID]:
        return [h for h in ordered if now[h] in statuses and h in homes]

    escaped = [
        h
        for h in sorted(
            before, key=lambda h: (homes[h].unit_path, homes[h].address) if h in homes else ("", "")
        )
        if before[h] == PovertyStatus.POOR and now.get(h) not in CARD_SHARE and h in homes
    ]
    cards: list[dict[str, Any]] = []
    for status, policy in (
        (PovertyStatus.POOR, "bhyt-poor"),
        (PovertyStatus.NEAR_POOR, "bhyt-near-poor"),
    ):
        for h in households(status):
            for m in people[h]:
                if m.personal_id and rng.random() < CARD_SHARE[status]:
                    cards.append(
                        _card(
                            len(cards),
                            policy,
                            m.personal_id,
                            1.0 if status == PovertyStatus.POOR else 0.7,
                        )
                    )
    for h in escaped:
        for m in people[h]:
            if m.personal_id and rng.random() < LEAKED_CARDS:
                cards.append(_card(len(cards), "bhyt-poor", m.personal_id, 1.0))
    communes = sorted({homes[h].unit_path.split("/")[1] for h in ordered})
    for _ in range(UNMATCHED_CARDS):
        unknown = f"0{rng.randrange(10**10, 10**11)}"
        cards.append(
            _card(len(cards), "bhyt-poor", unknown, 1.0, commune_code=rng.choice(communes))
        )

    needs: list[tuple[uuid.UUID, NeedCreate]] = []
    loans: list[dict[str, Any]] = []
    # A credit need came with a recognised assessment (capital wanted), or an escaped
    # household asks the bank itself.
    asked = set(
        (
            await session.scalars(
                select(col(Need.household_id)).where(col(Need.kind) == NeedKind.CREDIT)
            )
        ).all()
    )
    for policy, pool in (
        ("credit-poor", [h for h in households(PovertyStatus.POOR) if h in asked]),
        ("credit-newly-escaped", escaped),
    ):
        for h in pool:
            if h in asked or rng.random() < 0.25:
                if h not in asked:
                    needs.append(
                        (h, NeedCreate(kind=NeedKind.CREDIT, recorded_on=date(2023, 2, 1)))
                    )
                if rng.random() < 0.7:
                    month = rng.randrange(3, 7)
                    loans.append(
                        _item(
                            f"HD-2023-{len(loans):05d}",
                            policy,
                            "disbursed",
                            date(2023, month, 15),
                            household_id=h,
                            amount_vnd=rng.choice((30, 50, 60, 80, 100)) * 1_000_000,
                            instrument=f"HĐTD {len(loans):05d}/2023",
                        )
                    )
    cases: list[dict[str, Any]] = []
    paid: list[dict[str, Any]] = []
    for h in households(PovertyStatus.POOR):
        for m in people[h]:
            age = age_on(m.date_of_birth, DAY)
            if age >= 18 and rng.random() < 0.03:
                needs.append(
                    (
                        h,
                        NeedCreate(
                            kind=NeedKind.LEGAL_AID, member_id=m.id, recorded_on=date(2023, 3, 1)
                        ),
                    )
                )
                if m.personal_id and rng.random() < 0.85:
                    cases.append(
                        _item(
                            f"TGPL-{len(cases):04d}",
                            "legal-aid",
                            "case_opened",
                            date(2023, 4, 10),
                            personal_id=m.personal_id,
                        )
                    )
            if m.attending_school and 3 <= age < 19 and m.personal_id and rng.random() < 0.9:
                paid.append(
                    _item(
                        f"CPHT-{len(paid):05d}",
                        "study-cost",
                        "paid",
                        date(2023, 5, 20),
                        personal_id=m.personal_id,
                        amount_vnd=150_000 * 4,
                    )
                )
    power = [
        _item(
            f"TD-Q2-{i:05d}", "electricity", "paid", DAY, household_id=h, amount_vnd=30 * 1728 * 3
        )
        for i, h in enumerate(households(PovertyStatus.POOR))
        if rng.random() < 0.97
    ]

    system = Services(session, SYSTEM)
    async with system.uow.batch():  # one transaction for all the needs
        for household_id, need in needs:
            await system.needs.create(household_id, need)
    await system.uow.finish()
    counts = {"needs from reviews": from_reviews, "needs": len(needs)}
    for client_id, agency, items in (
        ("bhxh", "social_insurance", cards),
        ("nhcsxh", "social_policy_bank", loans),
        ("tgpl", "justice", cases),
        ("sgd", "education", paid),
        ("dienluc", "electricity", power),
    ):
        services = Services(session, _partner(client_id, agency))
        for i in range(0, len(items), MAX_ITEMS):
            batch = DeliveryBatch.model_validate({"items": items[i : i + MAX_ITEMS]})
            await services.deliveries.upsert(batch)
        counts[agency] = len(items)
    return counts


def _card(n: int, policy: str, personal_id: str, share: float, **extra: Any) -> dict[str, Any]:
    return _item(
        f"BHYT-2023-{n:06d}",
        policy,
        "issued",
        date(2023, 1, 3),
        valid_from=date(2023, 1, 1),
        valid_to=date(2023, 12, 31),
        personal_id=personal_id,
        state_share=share,
        instrument=f"HN2{35:02d}{n:010d}",
        **extra,
    )
