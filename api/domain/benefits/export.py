"""Coverage as tables with Vietnamese headers, for CSV and Excel downloads."""

from collections.abc import Callable
from enum import StrEnum

from api.domain.benefits.coverage_models import CoverageReport, CoverageRow
from api.domain.errors import Forbidden
from api.domain.spreadsheets import Sheet, csv_bytes, xlsx_bytes

SUBJECT_VI = {"person": "Người", "household": "Hộ"}
WITHHELD = "Ô để trống: số nhỏ hơn {n} không được công bố ra ngoài (small counts withheld)"


class CoverageTable(StrEnum):
    UNITS = "units"
    GAPS = "gaps"
    LEAKAGE = "leakage"


def _percent(rate: float | None) -> float | None:
    return None if rate is None else round(rate * 100, 2)


def _row(code: str, r: CoverageRow) -> list[object]:
    return [
        code,
        r.eligible,
        r.needing,
        r.entitled,
        r.delivered,
        r.gap,
        r.leakage,
        _percent(r.rate),
    ]


def _units(report: CoverageReport) -> Sheet:
    rows = [_row(r.unit_code, r) for r in report.rows]
    rows.append(_row("Tổng cộng", report.totals))
    return Sheet(
        "Theo xã",
        [
            "Mã xã, phường",
            "Đủ điều kiện",
            "Có nhu cầu",
            "Được hưởng",
            "Đã nhận",
            "Chưa nhận (thiếu hụt)",
            "Nhận nhưng không thuộc diện",
            "Tỷ lệ bao phủ (%)",
        ],
        rows,
    )


def _gaps(report: CoverageReport) -> Sheet:
    return Sheet(
        "Chưa được nhận",
        ["Đối tượng", "Mã đối tượng", "Mã hộ", "Địa bàn"],
        [
            [SUBJECT_VI[g.subject_kind.value], str(g.subject_id), str(g.household_id), g.unit_path]
            for g in report.gaps or []
        ],
    )


def _leakage(report: CoverageReport) -> Sheet:
    return Sheet(
        "Nhận không thuộc diện",
        ["Mã bản ghi", "Mã của đối tác", "Đối tác", "Mã đối tượng", "Mã hộ", "Địa bàn", "Lý do"],
        [
            [
                str(e.delivery_id),
                e.external_id,
                e.partner,
                str(e.subject_id),
                str(e.household_id),
                e.unit_path,
                "; ".join(e.reasons),
            ]
            for e in report.leakage or []
        ],
    )


BUILDERS: dict[CoverageTable, Callable[[CoverageReport], Sheet]] = {
    CoverageTable.UNITS: _units,
    CoverageTable.GAPS: _gaps,
    CoverageTable.LEAKAGE: _leakage,
}


def _title(report: CoverageReport) -> str:
    return (
        f"Bao phủ chính sách {report.name_vi} ({report.policy}, phiên bản {report.version}): "
        f"{report.period_from:%d/%m/%Y} – {report.as_of:%d/%m/%Y}"
    )


def _tables(report: CoverageReport) -> list[CoverageTable]:
    """The lists only for readers of personal data; the others never get them."""
    if report.gaps is None:
        return [CoverageTable.UNITS]
    return list(CoverageTable)


def to_csv(report: CoverageReport, table: CoverageTable = CoverageTable.UNITS) -> bytes:
    if table not in _tables(report):
        raise Forbidden("the lists name people: only readers of personal data get them")
    sheet = BUILDERS[table](report)
    trailer = (
        [] if report.suppressed_below is None else [[WITHHELD.format(n=report.suppressed_below)]]
    )
    return csv_bytes(sheet, trailer)


def to_xlsx(report: CoverageReport) -> bytes:
    title = _title(report)
    if report.suppressed_below is not None:
        title += "; " + WITHHELD.format(n=report.suppressed_below)
    return xlsx_bytes([(title, BUILDERS[t](report)) for t in _tables(report)])
