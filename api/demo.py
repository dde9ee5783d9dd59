"""A small demo data set: a few households with members in each current demo village.

Created through the same services as the API, so the change feed holds every record.
"""

import random
import uuid
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlmodel import col

from api.domain.access import Role
from api.domain.households.models import (
    Durability,
    Household,
    HouseholdCreate,
    InformationAsset,
    LatrineType,
    WaterSource,
)
from api.domain.identity.shapes import PartnerCreate, UserCreate
from api.domain.members.models import (
    EducationLevel,
    Employment,
    MemberCreate,
    Relation,
    Sex,
)
from api.domain.services import Services
from api.domain.units.models import AdminUnit, UnitLevel

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô"]
MIDDLE_M = ["Văn", "Đức", "Minh", "Quang", "Hữu"]
MIDDLE_F = ["Thị", "Thu", "Ngọc", "Thanh", "Kim"]
GIVEN_M = ["Hùng", "Dũng", "Nam", "Tuấn", "Long", "Sơn", "Phúc", "Thắng", "Hải", "Quý"]
GIVEN_F = ["Lan", "Hoa", "Mai", "Hương", "Hạnh", "Nga", "Thảo", "Yến", "Liên", "Dung"]
HA_NAM_BIRTH_PROVINCE = "035"


def _name(rng: random.Random, family: str, sex: Sex) -> str:
    middle, given = (MIDDLE_M, GIVEN_M) if sex == Sex.MALE else (MIDDLE_F, GIVEN_F)
    return f"{family} {rng.choice(middle)} {rng.choice(given)}"


def _personal_id(rng: random.Random, born: date, sex: Sex) -> str:
    century = 0 if born.year < 2000 else 2
    digit = century + (1 if sex == Sex.FEMALE else 0)
    return f"{HA_NAM_BIRTH_PROVINCE}{digit}{born.year % 100:02d}{rng.randrange(10**6):06d}"


def _born(rng: random.Random, min_age: int, max_age: int) -> date:
    return date(2026, 1, 1) - timedelta(days=rng.randint(min_age * 365, max_age * 365))


async def has_demo_data(services: Services) -> bool:
    count = await services.session.scalar(select(func.count()).select_from(Household))
    return bool(count)


async def load_demo(services: Services, households_per_village: int = 3, seed: int = 2022) -> int:
    rng = random.Random(seed)
    villages = (
        await services.session.scalars(
            select(AdminUnit)
            .where(col(AdminUnit.level) == UnitLevel.VILLAGE, col(AdminUnit.valid_to).is_(None))
            .order_by(col(AdminUnit.code))
        )
    ).all()
    created = 0
    for village in villages:
        for n in range(households_per_village):
            household = await services.households.create(
                HouseholdCreate(
                    village_code=village.code,
                    address=f"Số {n + 1}, {village.name}",
                    phone=f"09{rng.randrange(10**8):08d}",
                    floor_area_m2=round(rng.uniform(18, 120), 1),
                    wall_material=rng.choice(list(Durability)),
                    column_material=Durability.DURABLE,
                    roof_material=rng.choice(list(Durability)),
                    water_source=rng.choice(
                        [WaterSource.PIPED, WaterSource.DRILLED_WELL, WaterSource.UNPROTECTED_WELL]
                    ),
                    latrine_type=rng.choice([LatrineType.FLUSH_SEPTIC, LatrineType.UNHYGIENIC]),
                    uses_telecom=rng.random() > 0.1,
                    information_assets=rng.sample(list(InformationAsset), rng.randint(0, 3)),
                )
            )
            await _add_family(services, rng, household.id)
            created += 1
    return created


async def _add_family(services: Services, rng: random.Random, household_id: uuid.UUID) -> None:
    family = rng.choice(FAMILY)
    head_sex = rng.choice(list(Sex))
    people = [(Relation.HEAD, head_sex, _born(rng, 30, 80))]
    if rng.random() < 0.7:
        people.append(
            (Relation.SPOUSE, Sex.FEMALE if head_sex == Sex.MALE else Sex.MALE, _born(rng, 28, 75))
        )
    people += [
        (Relation.CHILD, rng.choice(list(Sex)), _born(rng, 1, 25)) for _ in range(rng.randint(0, 3))
    ]
    for relation, sex, born in people:
        age = 2026 - born.year
        await services.members.create(
            household_id,
            MemberCreate(
                full_name=_name(rng, family, sex),
                sex=sex,
                date_of_birth=born,
                personal_id=_personal_id(rng, born, sex),
                ethnicity="Kinh",
                relation_to_head=relation,
                joined_on=born if relation == Relation.CHILD else None,
                attending_school=6 <= age <= 18,
                education_level=EducationLevel.UPPER_SECONDARY if age > 18 else None,
                employment=(
                    rng.choice(list(Employment))
                    if 18 <= age <= 60
                    else Employment.NOT_IN_LABOUR_FORCE
                ),
                health_insurance=rng.random() > 0.15,
                labour_capacity=18 <= age <= 65,
            ),
        )


DEMO_PASSWORD = "GiamNgheo@2026"  # noqa: S105 - documented demo credential, demo data only
KIM_BANG_WARDS = ["13384", "13393", "13396", "13402", "13420", "13435"]
DEMO_USERS: list[tuple[str, str, Role, list[str], str | None]] = [
    ("admin", "Quản trị hệ thống", Role.ADMIN, [], None),
    ("tinh.ninhbinh", "Sở Nội vụ Ninh Bình (giảm nghèo)", Role.PROVINCE_OFFICER, ["37"], None),
    ("huyen.kimbang", "Phòng LĐ-TB&XH Kim Bảng (cũ)", Role.DISTRICT_OFFICER, KIM_BANG_WARDS, None),
    ("xa.kimbang", "Cán bộ phường Kim Bảng", Role.COMMUNE_OFFICER, ["13384"], None),
    ("rsv.kimbang", "Rà soát viên phường Kim Bảng", Role.REVIEWER, ["13384"], None),
    ("rsv.leho", "Rà soát viên phường Lê Hồ", Role.REVIEWER, ["13393"], None),
    ("mttq.ninhbinh", "Mặt trận Tổ quốc Ninh Bình", Role.SUPERVISOR, ["37"], None),
]
DEMO_PARTNERS = [
    ("nhcsxh", "Ngân hàng Chính sách xã hội Ninh Bình", "social_policy_bank"),
    ("bhxh", "Bảo hiểm xã hội Ninh Bình", "social_insurance"),
]


def demo_partner_secret(client_id: str) -> str:
    return f"demo-secret-{client_id}-2026"


async def load_demo_accounts(services: Services) -> list[str]:
    """Demo sign-ins for every role, and two partner systems. Returns lines to print."""
    lines = []
    for username, name, role, areas, agency in DEMO_USERS:
        await services.identity.create_user(
            UserCreate(
                username=username,
                full_name=name,
                password=DEMO_PASSWORD,
                role=role,
                area_codes=areas,
                agency=agency,
            )
        )
        lines.append(
            f"  {role.value:<17} {username:<15} password {DEMO_PASSWORD}  "
            f"areas {','.join(areas) or 'all'}"
        )
    for client_id, name, agency in DEMO_PARTNERS:
        await services.identity.create_partner(
            PartnerCreate(client_id=client_id, name=name, agency=agency, area_codes=["37"]),
            secret=demo_partner_secret(client_id),
        )
        lines.append(
            f"  partner ({agency:<18}) client_id {client_id:<7} "
            f"secret {demo_partner_secret(client_id)}"
        )
    return lines
