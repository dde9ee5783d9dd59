"""The synthetic Kim Bảng district: about 40,500 households whose recognised reviews of 2021
(Decision 59/2015) and 2022 (Decree 07/2021) reproduce the seed plan's end-of-2022 figures,
each scored against the line of its commune's type in that year (in 2021-2022 only Quế and
Ba Sao were towns: the other sixteen were rural xã). A few households of a rural commune of
Ninh Bình created after 1 July 2025 (no review yet) let the 2027 standard's rural line be tried.

Each household gets facts and survey answers; its class comes out of the classifier, never
from a label. The loader writes with bulk inserts in one transaction (with change-log
entries), because creating 160,000 records one use case at a time takes minutes."""

import random
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from functools import cache
from typing import Any

from sqlalchemy import Table, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.domain.changes.models import ChangeLogEntry, ChangeLogHead, Operation
from api.domain.households.member_models import Member
from api.domain.households.models import Household, PovertyStatus
from api.domain.review.assess import evaluate, flags
from api.domain.review.models import Answers, Assessment, Campaign, StatusRecord
from api.domain.review.places import parents_on
from api.domain.review.standards import Area, Catalog, Standard, catalog
from api.domain.review.status import next_period
from api.domain.text import folded_key, lower_key
from api.domain.units.models import AdminUnit, AdminUnitSuccession, UnitLevel
from api.domain.units.periods import names_on
from api.domain.uow import UnitOfWork

HOUSEHOLDS = 40_520
LATER_HOUSEHOLDS = 60  # in villages of communes formed after the reviews
SIZES = (1, 2, 2, 3, 3, 3, 4, 4, 5)
ACTOR = "system:demo-import"
P, N, A, X = (
    PovertyStatus.POOR,
    PovertyStatus.NEAR_POOR,
    PovertyStatus.AVERAGE,
    PovertyStatus.NOT_POOR,
)


@dataclass(frozen=True)
class Story:
    """What a group of households went through: its class in 2021 and 2022 (None: not
    surveyed that year), its facts profile and its household sizes."""

    name: str
    count: int
    y2021: PovertyStatus | None
    y2022: PovertyStatus | None
    profile: str
    sizes: tuple[tuple[int, int], ...]  # (size, how many households)


# Poor 2022: 850 + 120 + 42 = 1,012 households, 2,007 persons; near-poor 2022:
# 100 + 700 + 166 = 966 households, 2,387 persons (the seed's end-of-2022 figures).
STORIES = (
    Story("poor_stays", 850, P, P, "housing", ((1, 270), (2, 430), (3, 150))),
    Story("poor_new", 42, None, P, "housing", ((1, 17), (2, 25))),
    Story("near_to_poor", 120, N, P, "livelihood", ((3, 120),)),
    Story("poor_to_near", 100, P, N, "one", ((2, 63), (3, 26), (4, 11))),
    Story("near_stays", 700, N, N, "two", ((2, 443), (3, 185), (4, 72))),
    Story("near_new", 166, None, N, "none", ((2, 105), (3, 44), (4, 17))),
    Story("poor_escapes_average", 70, P, A, "one", ((3, 70),)),
    Story("poor_escapes", 80, P, X, "none", ((3, 80),)),
    Story("near_escapes_average", 100, N, A, "one", ((3, 100),)),
    Story("near_escapes", 80, N, X, "none", ((4, 80),)),
    Story("requested_average", 120, None, A, "none", ((4, 120),)),
    Story("requested_not_poor", 80, None, X, "none", ((4, 80),)),
)
POOR_CAUSES = (
    ("illness", 40),
    ("no_labour", 35),
    ("no_capital", 10),
    ("no_land", 5),
    ("no_skills", 5),
    ("other", 5),
)
NEAR_CAUSES = (
    ("no_capital", 30),
    ("illness", 25),
    ("no_labour", 20),
    ("no_skills", 15),
    ("other", 10),
)
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô", "Đinh"]
GIVEN_M = ["Văn Hùng", "Đức Dũng", "Minh Nam", "Quang Tuấn", "Hữu Long", "Văn Sơn", "Đức Phúc"]
GIVEN_F = ["Thị Lan", "Thị Hoa", "Thu Mai", "Thị Hương", "Ngọc Hạnh", "Thị Nga", "Thanh Thảo"]


@dataclass(frozen=True)
class Review:
    year: int
    standard: Standard
    opens_on: date
    closes_on: date
    decided_on: date


@dataclass
class _Home:
    floor_area_m2: float | None
    wall_material: str | None
    column_material: str | None
    roof_material: str | None
    water_source: str | None
    latrine_type: str | None
    uses_telecom: bool | None
    information_assets: list[str]


@dataclass
class _Person:
    id: uuid.UUID
    full_name: str
    sex: str
    date_of_birth: date
    relation_to_head: str
    employment: str | None
    health_insurance: bool | None
    attending_school: bool | None
    education_level: str | None
    labour_capacity: bool | None
    ethnicity: str | None = "Kinh"


@dataclass
class _Rows:
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    changes: list[tuple[str, uuid.UUID, Operation, int, str]] = field(default_factory=list)

    def add(self, table: str, row: dict[str, Any], change: tuple[str, str] | None = None) -> None:
        self.tables.setdefault(table, []).append(row)
        if change is not None:
            self.changes.append((change[0], row["id"], Operation.CREATE, 1, change[1]))


def _home(profile: str, size: int, rng: random.Random) -> _Home:
    durable = "durable"
    home = _Home(
        floor_area_m2=float(12 * size + rng.randint(5, 40)),
        wall_material=durable,
        column_material=durable,
        roof_material=durable,
        water_source=rng.choice(["piped", "drilled_well"]),
        latrine_type=rng.choice(["flush_septic", "double_vault"]),
        uses_telecom=True,
        information_assets=["phone", "tv"],
    )
    if profile == "housing":  # walls and roof, water, latrine: 3 deprivations in both standards
        home.wall_material = home.roof_material = "non_durable"
        home.water_source = "unprotected_well"
        home.latrine_type = "unhygienic"
        home.information_assets = ["phone"]
    elif profile == "two":  # water and latrine
        home.water_source = "unprotected_well"
        home.latrine_type = "unhygienic"
    elif profile == "one":
        home.latrine_type = "unhygienic"
    return home


class _People:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.serial = 0

    def person(self, relation: str, sex: str, born: date, **facts: Any) -> _Person:
        family = self.rng.choice(FAMILY)
        given = self.rng.choice(GIVEN_M if sex == "male" else GIVEN_F)
        return _Person(
            id=uuid.uuid4(),
            full_name=f"{family} {given}",
            sex=sex,
            date_of_birth=born,
            relation_to_head=relation,
            **{
                "employment": None,
                "health_insurance": True,
                "attending_school": False,
                "education_level": "upper_secondary",
                "labour_capacity": True,
                **facts,
            },
        )

    def personal_id(self, p: _Person) -> str:
        self.serial += 1
        digit = (0 if p.date_of_birth.year < 2000 else 2) + (p.sex == "female")
        return f"035{digit}{p.date_of_birth.year % 100:02d}{self.serial:06d}"

    def _born(self, first: int, last: int) -> date:
        return date(self.rng.randint(first, last), self.rng.randint(1, 12), self.rng.randint(1, 28))

    def elderly(self, relation: str, sex: str) -> _Person:
        return self.person(
            relation,
            sex,
            self._born(1932, 1952),
            employment="not_in_labour_force",
            labour_capacity=False,
            education_level="primary",
        )

    def adult(self, relation: str, sex: str, **facts: Any) -> _Person:
        work = self.rng.choice(["self_employed", "wage_with_contract"])
        return self.person(relation, sex, self._born(1968, 1990), **{"employment": work, **facts})

    def child(self) -> _Person:
        return self.person(
            "child",
            self.rng.choice(["male", "female"]),
            self._born(2008, 2015),
            employment="not_in_labour_force",
            attending_school=True,
            education_level="primary",
            labour_capacity=False,
        )

    def family(self, profile: str, size: int) -> list[_Person]:
        head_sex = self.rng.choice(["male", "female", "male"])
        other = "female" if head_sex == "male" else "male"
        if profile == "housing":  # old people, poorly housed
            people = [self.elderly("head", head_sex)]
            if size >= 2:
                people.append(self.elderly("spouse", other))
            if size >= 3:
                people.append(
                    self.adult(
                        "child", other, labour_capacity=False, employment="not_in_labour_force"
                    )
                )
            return people
        if profile == "livelihood":  # an old parent, a jobless adult, a stunted child
            return [
                self.adult("head", head_sex, employment="unemployed"),
                self.elderly("parent", other),
                self.child(),
            ]
        people = [self.adult("head", head_sex), self.adult("spouse", other)]
        people += [self.child() for _ in range(size - 2)]
        return people


def _income(standard: Standard, area: Area, target: PovertyStatus, rng: random.Random) -> int:
    lines = standard.lines(area)
    if target in (P, N) and lines.upper is not None:  # two-tier: poor under the line
        low, high = (0.6, 0.95) if target == P else (1.05, 0.98 * lines.upper / lines.line)
    elif target in (P, N):
        low, high = (0.6, 0.97)
    elif target == A:
        assert lines.average_upper is not None
        low, high = 1.05, 0.98 * lines.average_upper / lines.line
    else:
        top = lines.average_upper or lines.upper or lines.line
        low, high = 1.1 * top / lines.line, 1.6 * top / lines.line
    return int(round(lines.line * rng.uniform(low, high), -3))


def _answers(
    review: Review,
    area: Area,
    target: PovertyStatus,
    profile: str,
    rng: random.Random,
    cause_table: Sequence[tuple[str, int]],
) -> Answers:
    said: dict[str, dict[str, Any]] = {}
    for ind in review.standard.indicators:
        if ind.rule["kind"] == "answered":
            said[ind.code] = {"deprived": profile == "livelihood" and ind.code == "nutrition"}
    listed = target in (P, N)
    causes = rng.choices([c for c, _ in cause_table], [w for _, w in cause_table])
    return Answers.model_validate(
        {
            "monthly_income_per_capita": _income(review.standard, area, target, rng),
            "agricultural": target == A,
            "indicators": said,
            "causes": causes if listed else [],
            "needs": _needs(target, causes) if listed else [],
            "meritorious": listed and rng.random() < 0.02,
            "social_protection": target == P and rng.random() < 0.15,
        }
    )


def _needs(target: PovertyStatus, causes: list[str]) -> list[str]:
    """Support needs follow the causes: capital wanted is credit, skills wanted is a job."""
    found = ["health"] if target == P else []
    if "no_capital" in causes:
        found.append("credit")
    if "no_skills" in causes:
        found.append("jobs")
    return found


def _reviews(standards: Catalog) -> list[Review]:
    out = []
    for year in (2021, 2022):
        closes = date(year, 12, 14)
        out.append(
            Review(year, standards.in_force(closes), date(year, 9, 1), closes, date(year, 12, 20))
        )
    return out


async def _villages(session: AsyncSession) -> list[AdminUnit]:
    rows = await session.scalars(
        select(AdminUnit)
        .where(col(AdminUnit.level) == UnitLevel.VILLAGE, col(AdminUnit.valid_to).is_(None))
        .order_by(col(AdminUnit.code))
    )
    return list(rows.all())


async def load_district(uow: UnitOfWork, seed: int = 2022) -> dict[str, int]:
    """Load the district in one transaction. Returns counts of what was written."""
    session = uow.session
    rng = random.Random(seed)  # noqa: S311 - reproducible synthetic data, not secrets
    standards = catalog()
    reviews = _reviews(standards)
    current = await _villages(session)
    communes = {
        r.year: await parents_on(session, {v.code for v in current}, r.closes_on) for r in reviews
    }
    villages = [v for v in current if all(v.code in communes[r.year] for r in reviews)]
    later = [v for v in current if v.code not in communes[reviews[0].year]]
    # The commune's name and type on each review's date: the line depends on the type then.
    named = {
        r.year: await names_on(session, set(communes[r.year].values()), r.closes_on)
        for r in reviews
    }
    units = {u.code: u for u in (await session.scalars(select(AdminUnit))).all()}
    succession = await session.execute(
        select(col(AdminUnitSuccession.predecessor_code), col(AdminUnitSuccession.successor_code))
    )
    heirs = dict(succession.all())
    people = _People(rng)
    rows = _Rows()
    now = datetime.now(UTC)
    # The district's households were entered before the 2021 review: records are backdated
    # so that reports for 2021 and 2022 count them (reports count what the registry held).
    entered = datetime(2021, 1, 4, 8, tzinfo=UTC)
    campaigns: dict[tuple[int, str], uuid.UUID] = {}
    for review in reviews:
        for commune in sorted(set(communes[review.year].values())):
            cid = uuid.uuid4()
            campaigns[(review.year, commune)] = cid
            path = _current_path(units, heirs, commune)
            rows.add(
                "review_campaign",
                {
                    "id": cid,
                    "commune_code": commune,
                    "kind": "periodic",
                    "name": f"Rà soát định kỳ {review.year} – {named[review.year][commune].name}",
                    "opens_on": review.opens_on,
                    "closes_on": review.closes_on,
                    "unit_path": path,
                    "standard_code": review.standard.code,
                    "state": "closed",
                    "created_by": ACTOR,
                    "version": 1,
                    "created_at": now,
                    "updated_at": now,
                },
                ("review_campaign", path),
            )
    plan: list[tuple[Story | None, int]] = [
        (s, size) for s in STORIES for size, n in s.sizes for _ in range(n)
    ]
    plan += [(None, 0)] * (HOUSEHOLDS - len(plan))
    rng.shuffle(plan)
    tally: Counter[str] = Counter()
    for i, (story, size) in enumerate(plan):
        village = villages[i % len(villages)]
        profile = story.profile if story else "none"
        size = size or rng.choice(SIZES)
        home = _home(profile, size, rng)
        family = _family(people, profile, size, rng)
        hid = _household(rows, people, village, i // len(villages) + 1, home, family, entered, now)
        head = family[0]
        if story is None:
            continue
        history: list[StatusRecord] = []
        for review, target in zip(reviews, (story.y2021, story.y2022), strict=True):
            if target is None:
                continue
            commune = communes[review.year][village.code]
            area = Area.URBAN if named[review.year][commune].urban else Area.RURAL
            cause_table = POOR_CAUSES if target == P else NEAR_CAUSES
            answers = _answers(review, area, target, profile, rng, cause_table)
            outcome = evaluate(review.standard, area, "35", home, family, review.closes_on, answers)
            got = outcome.classification.status
            if got != target or outcome.problems:
                raise RuntimeError(f"demo generator: {story.name} {review.year} gave {got}")
            tally[f"{review.year}:{got.value}"] += 1
            aid = uuid.uuid4()
            assessment = _assessment(
                aid,
                campaigns[(review.year, commune)],
                hid,
                village.path,
                review,
                area,
                answers,
                outcome,
                now,
            )
            rows.add("assessment", assessment, ("assessment", village.path))
            previous, move = next_period(history, got, review.decided_on)
            if previous is not None:
                previous.effective_to = review.decided_on
            record = StatusRecord(
                id=uuid.uuid4(),
                household_id=hid,
                unit_path=village.path,
                status=got,
                previous_status=None if previous is None else previous.status,
                movement=move,
                effective_from=review.decided_on,
                assessment_id=aid,
                standard_code=review.standard.code,
                decision_number=f"{review.year}/QĐ-UBND-{commune}",
                flags=[f.value for f in flags(head, family, answers)],
                causes=[c.value for c in answers.causes],
                deprived=list(outcome.classification.deprived),
                recorded_at=now,
            )
            history.append(record)
        for record in history:
            rows.add("household_status", record.model_dump(), ("household_status", village.path))
        rows.tables["household"][-1]["poverty_status"] = history[-1].status
    # After the district's households, so that they draw the same numbers as ever.
    for i in range(LATER_HOUSEHOLDS if later else 0):
        village = later[i % len(later)]
        profile = rng.choice(("none", "none", "one", "two", "housing"))
        size = rng.choice(SIZES)
        home = _home(profile, size, rng)
        family = _family(people, profile, size, rng)
        _household(rows, people, village, i // len(later) + 1, home, family, now, now)
    await _write(session, rows, now)
    await uow.finish()
    counts = {table: len(items) for table, items in rows.tables.items()}
    return {**counts, **tally}


def _family(people: _People, profile: str, size: int, rng: random.Random) -> list[_Person]:
    family = people.family(profile, size)
    if rng.random() < 0.03:  # a few Mường families (the hills of Kim Bảng)
        for p in family:
            p.ethnicity = "Mường"
    return family


def _household(
    rows: _Rows,
    people: _People,
    village: AdminUnit,
    number: int,
    home: _Home,
    family: list[_Person],
    entered: datetime,
    now: datetime,
) -> uuid.UUID:
    """Rows for a household and its members; returns the household's id."""
    hid = uuid.uuid4()
    rows.add(
        "household",
        {
            "id": hid,
            "village_code": village.code,
            "address": f"Số {number}, {village.name}",
            "unit_path": village.path,
            "head_member_id": family[0].id,
            "phone": None,
            **home.__dict__,
            "version": 1,
            "created_at": entered,
            "updated_at": now,
            "poverty_status": None,
        },
        ("household", village.path),
    )
    for p in family:
        rows.add(
            "member",
            {
                **p.__dict__,
                "household_id": hid,
                "unit_path": village.path,
                "personal_id": people.personal_id(p),
                "name_lower": _lower(p.full_name),
                "name_folded": _folded(p.full_name),
                "membership_status": "active",
                "joined_on": p.date_of_birth if p.relation_to_head == "child" else date(2000, 1, 1),
                "disability": None,
                "version": 1,
                "created_at": entered,
                "updated_at": now,
            },
            ("member", village.path),
        )
    return hid


# A few hundred distinct names among 124,000 people: fold each once.
_lower = cache(lower_key)
_folded = cache(folded_key)


def _current_path(units: dict[str, AdminUnit], heirs: dict[str, str], code: str) -> str:
    """Campaigns of communes merged in 2025 are filed under the ward that holds them now."""
    unit = units[code]
    while unit.valid_to is not None and unit.code in heirs:
        unit = units[heirs[unit.code]]
    return unit.path


def _assessment(
    aid: uuid.UUID,
    campaign: uuid.UUID,
    household: uuid.UUID,
    path: str,
    review: Review,
    area: Area,
    answers: Answers,
    outcome: Any,
    now: datetime,
) -> dict[str, Any]:
    c = outcome.classification
    listed = c.status in (P, N)
    steps = ["submit", "record_meeting", "post", "district_opinion", "recognise"]
    states = ["draft", "submitted", "agreed", "posted", "district_reviewed", "recognised"]
    if listed:
        steps.append("issue_certificate")
        states.append("certified")
    at = datetime.combine(review.decided_on, time(9), tzinfo=UTC).isoformat()
    return {
        "id": aid,
        "campaign_id": campaign,
        "household_id": household,
        "unit_path": path,
        "standard_code": review.standard.code,
        "review_date": review.closes_on,
        "area": area.value,
        "state": states[-1],
        "surveyed_by": ACTOR,
        "surveyed_on": date(review.year, 10, 15),
        "answers": answers.model_dump(mode="json"),
        "indicators": [r.model_dump(mode="json") for r in outcome.indicators],
        "status": c.status,
        "deprivation_count": c.deprivation_count,
        "missing": [],
        "explanation": c.explanation[:500],
        "meeting": {
            "held_on": str(date(review.year, 11, 10)),
            "attendees": 40,
            "agreeing": 36,
            "chaired_by": "Trưởng thôn",
            "minutes_ref": None,
        },
        "posted_on": date(review.year, 11, 15),
        "complaints": [],
        "district_opinion": {
            "given_on": str(date(review.year, 12, 10)),
            "by": "UBND huyện Kim Bảng",
            "agrees": True,
            "note": None,
        },
        "decision": {
            "number": f"{review.year}/QĐ-UBND",
            "decided_on": str(review.decided_on),
            "signer": "Chủ tịch UBND xã",
        },
        "certificate": (
            {
                "number": f"GCN-{review.year}-{str(household)[:8]}",
                "issued_on": str(review.decided_on),
            }
            if listed
            else None
        ),
        "transitions": [
            {"at": at, "by": ACTOR, "action": a, "from_state": s, "to_state": t, "reason": None}
            for a, s, t in zip(steps, states, states[1:], strict=False)
        ],
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }


def _table(name: str) -> Table:
    models: dict[str, Any] = {
        "review_campaign": Campaign,
        "household": Household,
        "member": Member,
        "assessment": Assessment,
        "household_status": StatusRecord,
        "change_log": ChangeLogEntry,
    }
    table: Table = models[name].__table__
    return table


async def _write(session: AsyncSession, rows: _Rows, now: datetime) -> None:
    order = ("review_campaign", "household", "member", "assessment", "household_status")
    for name in order:
        await _chunks(session, _table(name), rows.tables.get(name, []))
    last = (
        await session.execute(
            update(ChangeLogHead)
            .where(col(ChangeLogHead.id) == 1)
            .values(last_seq=col(ChangeLogHead.last_seq) + len(rows.changes))
            .returning(col(ChangeLogHead.last_seq))
        )
    ).scalar_one()
    first, txn = last - len(rows.changes) + 1, uuid.uuid4()
    entries: list[dict[str, Any]] = [
        {
            "seq": first + i,
            "entity_type": kind,
            "entity_id": str(rid),
            "operation": op,
            "version": version,
            "unit_path": path,
            "actor": ACTOR,
            "client": None,
            "occurred_at": now,
            "transaction_id": txn,
            "diff": {},
        }
        for i, (kind, rid, op, version, path) in enumerate(rows.changes)
    ]
    await _chunks(session, _table("change_log"), entries)


async def _chunks(session: AsyncSession, table: Table, items: Iterable[dict[str, Any]]) -> None:
    batch: list[dict[str, Any]] = []
    for item in items:
        batch.append(item)
        if len(batch) == 5000:
            await session.execute(insert(table), batch)
            batch = []
    if batch:
        await session.execute(insert(table), batch)
