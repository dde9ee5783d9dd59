"""Demo data: the synthetic Kim Bảng district (see api.demo_district) and sign-ins for
every role."""

from sqlalchemy import func, select

from api.demo_district import load_district
from api.domain.access import Role
from api.domain.households.models import Household
from api.domain.identity.shapes import PartnerCreate, UserCreate
from api.domain.services import Services


async def has_demo_data(services: Services) -> bool:
    count = await services.session.scalar(select(func.count()).select_from(Household))
    return bool(count)


async def load_demo(services: Services, seed: int = 2022) -> int:
    """The district's households, members, 2021 and 2022 reviews and status history, and
    unreviewed households of the rural commune Bình Lục."""
    counts = await load_district(services.uow, seed)
    return counts["household"]


DEMO_PASSWORD = "GiamNgheo@2026"  # noqa: S105 - documented demo credential, demo data only
KIM_BANG_WARDS = ["13384", "13393", "13396", "13402", "13420", "13435"]
DEMO_USERS: list[tuple[str, str, Role, list[str], str | None]] = [
    ("admin", "Quản trị hệ thống", Role.ADMIN, [], None),
    ("tinh.ninhbinh", "Sở Nội vụ Ninh Bình (giảm nghèo)", Role.PROVINCE_OFFICER, ["37"], None),
    ("huyen.kimbang", "Phòng LĐ-TB&XH Kim Bảng (cũ)", Role.DISTRICT_OFFICER, KIM_BANG_WARDS, None),
    ("xa.kimbang", "Cán bộ phường Kim Bảng", Role.COMMUNE_OFFICER, ["13384"], None),
    ("rsv.kimbang", "Rà soát viên phường Kim Bảng", Role.REVIEWER, ["13384"], None),
    ("rsv.leho", "Rà soát viên phường Lê Hồ", Role.REVIEWER, ["13393"], None),
    ("xa.binhluc", "Cán bộ xã Bình Lục", Role.COMMUNE_OFFICER, ["13504"], None),
    ("mttq.ninhbinh", "Mặt trận Tổ quốc Ninh Bình", Role.SUPERVISOR, ["37"], None),
]
DEMO_PARTNERS = [
    ("nhcsxh", "Ngân hàng Chính sách xã hội Ninh Bình", "social_policy_bank"),
    ("bhxh", "Bảo hiểm xã hội Ninh Bình", "social_insurance"),
    ("tgpl", "Trung tâm Trợ giúp pháp lý Ninh Bình", "justice"),
    ("sgd", "Sở Giáo dục và Đào tạo Ninh Bình", "education"),
    ("dienluc", "Công ty Điện lực Ninh Bình", "electricity"),
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
