"""The review report as tables with Vietnamese headers, for CSV and Excel downloads."""

from collections.abc import Callable
from enum import StrEnum
from typing import Any

from api.domain.review.report_models import ReviewReport
from api.domain.spreadsheets import Sheet, csv_bytes, xlsx_bytes

MOVEMENT_LIST = {"poor": "Hộ nghèo", "near_poor": "Hộ cận nghèo"}


class Table(StrEnum):
    UNITS = "units"
    MOVEMENTS = "movements"
    DEPRIVATIONS = "deprivations"
    FLAGS = "flags"
    CAUSES = "causes"


def _units(r: ReviewReport) -> Sheet:
    rows = [
        [
            u.code,
            u.name,
            u.households,
            u.persons,
            u.poor_households,
            u.poor_persons,
            u.poor_rate,
            u.near_poor_households,
            u.near_poor_persons,
            u.near_poor_rate,
        ]
        for u in [*r.rows, r.totals]
    ]
    rows[-1][1] = f"Tổng cộng {r.totals.name}"
    return Sheet(
        "Theo đơn vị",
        [
            "Mã đơn vị",
            "Tên đơn vị",
            "Tổng số hộ",
            "Tổng số nhân khẩu",
            "Số hộ nghèo",
            "Số nhân khẩu hộ nghèo",
            "Tỷ lệ hộ nghèo (%)",
            "Số hộ cận nghèo",
            "Số nhân khẩu hộ cận nghèo",
            "Tỷ lệ hộ cận nghèo (%)",
        ],
        rows,
    )


def _movements(r: ReviewReport) -> Sheet:
    return Sheet(
        "Biến động",
        [
            "Danh sách",
            "Đầu kỳ",
            "Phát sinh mới",
            "Tái nghèo",
            "Chuyển từ danh sách khác",
            "Thoát",
            "Chuyển sang danh sách khác",
            "Giảm khác",
            "Cuối kỳ",
            "Cuối kỳ theo biến động",
            "Khớp",
        ],
        [
            [
                MOVEMENT_LIST[m.list.value],
                m.start,
                m.new,
                m.re_entered,
                m.from_other_list,
                m.escaped,
                m.to_other_list,
                m.other_decrease,
                m.end,
                m.expected_end,
                "Có" if m.balanced else "Không",
            ]
            for m in r.movements
        ],
    )


def _deprivations(r: ReviewReport) -> Sheet:
    return Sheet(
        "Thiếu hụt",
        [
            "Mã chỉ số",
            "Chỉ số",
            "Chiều",
            "Số hộ nghèo thiếu hụt",
            "Tỷ lệ hộ nghèo (%)",
            "Số hộ cận nghèo thiếu hụt",
            "Tỷ lệ hộ cận nghèo (%)",
        ],
        [
            [
                d.indicator,
                d.name_vi,
                d.dimension,
                d.poor_households,
                d.poor_share,
                d.near_poor_households,
                d.near_poor_share,
            ]
            for d in r.deprivations
        ],
    )


def _counts(title: str, key: str, rows: list[Any]) -> Sheet:
    return Sheet(
        title,
        [key, "Nội dung", "Số hộ nghèo", "Số hộ cận nghèo"],
        [[c.key, c.label_vi, c.poor_households, c.near_poor_households] for c in rows],
    )


BUILDERS: dict[Table, Callable[[ReviewReport], Sheet]] = {
    Table.UNITS: _units,
    Table.MOVEMENTS: _movements,
    Table.DEPRIVATIONS: _deprivations,
    Table.FLAGS: lambda r: _counts("Nhóm đối tượng", "Mã nhóm", r.flags),
    Table.CAUSES: lambda r: _counts("Nguyên nhân nghèo", "Mã nguyên nhân", r.causes),
}


# The cells of each table, by the paths `ReviewReport.suppressed` names them with.
PATHS = {
    Table.UNITS: ("rows.", "totals."),
    Table.MOVEMENTS: ("movements.",),
    Table.DEPRIVATIONS: ("deprivations.",),
    Table.FLAGS: ("flags.",),
    Table.CAUSES: ("causes.",),
}
HIDDEN = "Ô bị ẩn"


def _hidden_note(report: ReviewReport) -> str:
    return (
        f"Ô để trống: số từ 1 đến {(report.small_cells_below or 1) - 1} của thôn và ô bổ sung "
        "để không suy ra được (small counts suppressed, with complementary cells)"
    )


def to_csv(report: ReviewReport, table: Table = Table.UNITS) -> bytes:
    hidden = [p for p in report.suppressed if p.startswith(PATHS[table])]
    trailer = [[_hidden_note(report)], *([HIDDEN, p] for p in hidden)] if hidden else []
    return csv_bytes(BUILDERS[table](report), trailer)


def to_xlsx(report: ReviewReport) -> bytes:
    title = (
        f"Kết quả rà soát hộ nghèo, cận nghèo: {report.unit_name} ({report.unit_code}), "
        f"{report.period_from:%d/%m/%Y} – {report.period_to:%d/%m/%Y}; chuẩn "
        f"{report.standard_code}; {report.rate_definition.name}"
    )
    sheets = [(title, build(report)) for build in BUILDERS.values()]
    if report.small_cells_below is not None:
        hidden = Sheet(HIDDEN, [HIDDEN], [[p] for p in report.suppressed])
        sheets.append((_hidden_note(report), hidden))
    return xlsx_bytes(sheets)
