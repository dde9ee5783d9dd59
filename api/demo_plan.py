"""The seed plan as demo data: Kim Bảng district's 2023 plan for the sustainable poverty
reduction programme, its targets (the district's, and its communes' cascaded from it) and
the thirteen agencies' tasks of section V, in Vietnamese, written through the plan service."""

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.domain.access import SYSTEM
from api.domain.plans.models import (
    Plan,
    PlanCreate,
    PlanStatus,
    Recurrence,
    TargetCreate,
    TaskCreate,
    TaskStatus,
    TaskUpdateCreate,
)
from api.domain.review.report_models import RateBasis
from api.domain.services import Services

DISTRICT = "350"
BASELINE, END = date(2022, 12, 31), date(2023, 12, 31)
TITLE = "Kế hoạch thực hiện Chương trình mục tiêu quốc gia giảm nghèo bền vững năm 2023"

# (indicator, baseline, target, tolerance): section II of the seed.
TARGETS = [
    ("poor-rate-households", 2.50, 1.95, 0.05),
    ("bhyt-poor-coverage", None, 100.0, 1.0),
    ("bhyt-near-poor-coverage", None, 100.0, 1.0),
    ("study-cost-coverage", None, 100.0, 1.0),
    ("legal-aid-coverage", None, 90.0, 1.0),
    ("staff-trained", None, 100.0, 0.0),
]

# (owner, supporting, the targets it moves, the task): section V of the seed.
TASKS: list[tuple[str, list[str], list[str], str]] = [
    (
        "labour",
        ["commune"],
        ["poor-rate-households"],
        "Thường trực theo dõi, tổng hợp, tham mưu UBND huyện chỉ đạo công tác giảm nghèo; "
        "giao chỉ tiêu giảm nghèo cho các xã, thị trấn; hướng dẫn rà soát hộ nghèo, hộ cận "
        "nghèo năm 2023, kiểm tra, đánh giá việc thực hiện kế hoạch",
    ),
    (
        "labour",
        [],
        ["staff-trained"],
        "Phối hợp Sở Lao động - TB&XH tập huấn, hướng dẫn chuyên môn cho cán bộ làm công tác "
        "giảm nghèo của huyện, xã, thị trấn và trưởng thôn, tổ trưởng tổ dân phố",
    ),
    (
        "finance",
        [],
        [],
        "Tham mưu bố trí kinh phí cho các hoạt động của Chương trình; hướng dẫn quản lý, sử "
        "dụng kinh phí theo quy định",
    ),
    (
        "agriculture",
        [],
        [],
        "Thực hiện khuyến nông, khuyến công, khuyến lâm, khuyến ngư; hỗ trợ mô hình sản xuất "
        "và chuồng trại chăn nuôi hợp vệ sinh cho hộ nghèo, hộ cận nghèo",
    ),
    (
        "health",
        ["social_insurance"],
        [],
        "Chủ trì thực hiện chính sách hỗ trợ người nghèo, người cận nghèo, người bị bệnh hiểm "
        "nghèo trong khám, chữa bệnh",
    ),
    (
        "education",
        ["commune"],
        ["study-cost-coverage"],
        "Thực hiện đầy đủ, kịp thời chính sách miễn giảm học phí, hỗ trợ chi phí học tập đối "
        "với học sinh thuộc hộ nghèo, hộ cận nghèo",
    ),
    (
        "justice",
        ["commune"],
        ["legal-aid-coverage"],
        "Chủ trì thực hiện chính sách trợ giúp pháp lý miễn phí cho người nghèo",
    ),
    (
        "infrastructure",
        ["fatherland_front"],
        [],
        "Đề xuất đề án khuyến công, phát triển công nghiệp nông thôn; vận động doanh nghiệp "
        "ủng hộ Quỹ “Vì người nghèo”, tiếp nhận lao động thuộc hộ nghèo vào làm việc",
    ),
    (
        "culture",
        [],
        [],
        "Chủ trì thực hiện giảm nghèo về thông tin; đưa văn hóa về cơ sở, ưu tiên người nghèo "
        "tiếp cận văn hóa, thông tin",
    ),
    (
        "culture_centre",
        [],
        [],
        "Tuyên truyền chủ trương, chính sách giảm nghèo, các mô hình, cách làm hay và gương "
        "điển hình vươn lên thoát nghèo",
    ),
    (
        "social_insurance",
        ["labour", "commune"],
        ["bhyt-poor-coverage", "bhyt-near-poor-coverage"],
        "Cấp thẻ bảo hiểm y tế cho người thuộc hộ nghèo, hộ cận nghèo, hộ làm nông, lâm, ngư "
        "nghiệp có mức sống trung bình và đối tượng bảo trợ xã hội kịp thời, chính xác",
    ),
    (
        "social_policy_bank",
        [],
        [],
        "Chủ trì thực hiện chính sách tín dụng ưu đãi đối với hộ nghèo, hộ cận nghèo, hộ mới "
        "thoát nghèo và các đối tượng ưu đãi khác",
    ),
    (
        "fatherland_front",
        [],
        [],
        "Giám sát, phản biện xã hội; vận động phong trào “Cả nước chung tay vì người nghèo - "
        "Không để ai bị bỏ lại phía sau” và Quỹ “Vì người nghèo”",
    ),
]
COMMUNE_REPORTS = (
    "Xây dựng kế hoạch giảm nghèo của xã; rà soát hộ nghèo, hộ cận nghèo định kỳ và thường "
    "xuyên; báo cáo kết quả giảm nghèo 6 tháng, 1 năm về UBND huyện (qua phòng Lao động - "
    "TB&XH)"
)


async def has_demo_plan(session: AsyncSession) -> bool:
    return (
        await session.scalar(select(col(Plan.id)).where(col(Plan.title_vi) == TITLE))
    ) is not None


async def load_demo_plan(session: AsyncSession) -> dict[str, int]:
    system = Services(session, SYSTEM)
    plan = await system.plans.create_plan(
        PlanCreate(
            unit_code=DISTRICT,
            title_vi=TITLE,
            issuing_agency="UBND huyện Kim Bảng",
            programme="mtqg-gnbv-2021-2025",
            year=2023,
            period_from=date(2023, 1, 1),
            period_to=END,
            status=PlanStatus.ISSUED,
        )
    )
    ids = {}
    for indicator, baseline, target, tolerance in TARGETS:
        made = await system.plans.add_target(
            plan.id,
            TargetCreate(
                indicator=indicator,
                baseline_value=baseline,
                baseline_on=BASELINE,
                target_value=target,
                target_on=END,
                tolerance=tolerance,
            ),
        )
        ids[indicator] = made.id
    # The labour office assigns each commune its share: the district's cut, commune by
    # commune, from the commune's own rate at the end of 2022.
    report = await system.reports.review(DISTRICT, date(2022, 1, 1), BASELINE, RateBasis.HOUSEHOLDS)
    communes = 0
    for row in report.rows:
        if row.poor_rate is None:
            continue
        await system.plans.add_target(
            plan.id,
            TargetCreate(
                indicator="poor-rate-households",
                unit_code=row.code,
                parent_id=ids["poor-rate-households"],
                baseline_value=row.poor_rate,
                baseline_on=BASELINE,
                target_value=round(row.poor_rate * 1.95 / 2.50, 2),
                target_on=END,
                tolerance=0.05,
            ),
        )
        communes += 1
    tasks = [
        TaskCreate(
            owner_agency=owner,
            supporting_agencies=supporting,
            target_ids=[ids[t] for t in moves],
            title_vi=title,
            due_on=END,
        )
        for owner, supporting, moves, title in TASKS
    ]
    tasks.append(
        TaskCreate(
            owner_agency="commune",
            supporting_agencies=["labour"],
            title_vi=COMMUNE_REPORTS,
            recurrence=Recurrence.HALF_YEARLY,
            due_on=END,
        )
    )
    made_tasks = [await system.plans.add_task(plan.id, t) for t in tasks]
    training = next(t for t in made_tasks if ids["staff-trained"] in t.target_ids)
    await system.plans.post_update(
        training.id,
        TaskUpdateCreate(
            note="Đã tổ chức 2 lớp tập huấn cho cán bộ giảm nghèo, trưởng thôn, tổ trưởng "
            "tổ dân phố",
            evidence="Báo cáo kết quả tập huấn 6 tháng đầu năm 2023",
            reported_numerator=168,
            reported_denominator=186,
            reported_on=date(2023, 6, 30),
        ),
    )
    done = {
        "social_insurance": "Đã cấp thẻ BHYT năm 2023 theo danh sách hộ nghèo, cận nghèo",
        "education": "Đã thực hiện miễn giảm học phí, hỗ trợ chi phí học tập học kỳ I và II",
        "culture_centre": "Đã tuyên truyền trên đài truyền thanh các xã, thị trấn",
    }
    for task in made_tasks:
        if task.owner_agency in done:
            await system.plans.post_update(
                task.id, TaskUpdateCreate(note=done[task.owner_agency], status=TaskStatus.DONE)
            )
    await system.uow.finish()
    return {"targets": len(TARGETS) + communes, "tasks": len(made_tasks)}
