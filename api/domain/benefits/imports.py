"""Partners' deliveries as a spreadsheet (CSV or XLSX), imported by a durable job: the whole
file is read and checked first; the rows that pass are then written in chunks, each chunk
committed with the job's progress, so a worker that dies is followed by another that goes on
from the last chunk written. The same file uploaded twice is the same job."""

import csv
import hashlib
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pydantic import ValidationError
from python_calamine import CalamineWorkbook

from api.domain import access
from api.domain.access import Permission
from api.domain.benefits.delivery_models import DeliveryBatch, DeliveryItem
from api.domain.errors import FieldProblem, ValidationFailed
from api.domain.jobs.models import Job, JobPublic, job_public
from api.domain.jobs.queue import JobQueue, handles, renew
from api.domain.spreadsheets import Sheet, csv_bytes, xlsx_bytes
from api.domain.uow import UnitOfWork

KIND = "delivery_import"
CHUNK = 1000
MAX_ROWS = 200_000
# The file's columns: the field, and its Vietnamese label (a header may be either, or both as
# "label (field)", the way the template writes it).
COLUMNS = [
    ("external_id", "Mã bản ghi"),
    ("policy", "Mã chính sách"),
    ("kind", "Loại"),
    ("occurred_on", "Ngày thực hiện"),
    ("valid_from", "Hiệu lực từ"),
    ("valid_to", "Hiệu lực đến"),
    ("amount_vnd", "Số tiền (đồng)"),
    ("instrument", "Số thẻ, hợp đồng, vụ việc"),
    ("state_share", "Tỷ lệ ngân sách đóng"),
    ("personal_id", "Số định danh cá nhân"),
    ("household_id", "Mã hộ"),
    ("commune_code", "Mã xã"),
    ("source_version", "Phiên bản nguồn"),
]
HEADERS = [f"{label} ({name})" for name, label in COLUMNS]
DATES = {"occurred_on", "valid_from", "valid_to"}
# Identifiers spreadsheets turn into numbers, losing their leading zeros: (field, widths).
PADDED = {"personal_id": (9, 12)}
MESSAGES_VI = {
    "missing": "thiếu giá trị",
    "extra_forbidden": "cột không có trong mẫu",
    "date_from_datetime_parsing": "ngày không hợp lệ (dd/mm/yyyy hoặc yyyy-mm-dd)",
    "date_parsing": "ngày không hợp lệ (dd/mm/yyyy hoặc yyyy-mm-dd)",
    "int_parsing": "phải là số nguyên",
    "float_parsing": "phải là số",
    "enum": "giá trị không có trong danh mục",
    "string_too_long": "quá dài",
    "uuid_parsing": "mã không hợp lệ",
    "greater_than_equal": "quá nhỏ",
    "less_than_equal": "quá lớn",
    "value_error": "không hợp lệ",
}
_VN_DAY = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")


class FileFormat:
    CSV = "csv"
    XLSX = "xlsx"


@dataclass
class Parsed:
    items: list[tuple[int, DeliveryItem]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    rows: int = 0


def _cell(name: str, value: Any, row: int, warnings: list[dict[str, Any]]) -> Any:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if name in DATES:
        if isinstance(value, datetime):
            return value.date().isoformat()
        if isinstance(value, date):
            return value.isoformat()
        text = str(value).strip()
        if m := _VN_DAY.fullmatch(text):
            return f"{m[3]}-{int(m[2]):02d}-{int(m[1]):02d}"
        return text
    if name in PADDED:
        text = str(value).strip()
        widths = PADDED[name]
        if text.isdigit() and len(text) not in widths:
            wanted = next((w for w in widths if len(text) < w), None)
            if wanted is not None and wanted - len(text) <= 3:
                warnings.append(
                    {
                        "row": row,
                        "column": name,
                        "message": f"đã thêm {wanted - len(text)} số 0 ở đầu ({text} → "
                        f"{text.zfill(wanted)}): ô bị bảng tính đổi thành số",
                    }
                )
                return text.zfill(wanted)
        return text
    return value.strip() if isinstance(value, str) else value


def _columns(header: list[Any]) -> list[str | None]:
    names = {n for n, _ in COLUMNS}
    by_label = {label.casefold(): n for n, label in COLUMNS}
    found: list[str | None] = []
    for raw in header:
        text = str(raw or "").strip()
        code = re.search(r"\(([a-z_]+)\)\s*$", text)
        if code and code[1] in names:
            found.append(code[1])
        elif text in names:
            found.append(text)
        else:
            found.append(by_label.get(text.casefold()))
    return found


def _rows(content: bytes, fmt: str) -> list[list[Any]]:
    if fmt == FileFormat.XLSX:
        book = CalamineWorkbook.from_filelike(io.BytesIO(content))
        sheet = book.get_sheet_by_index(0)
        return [list(r) for r in sheet.to_python(skip_empty_area=False)]
    text = content.decode("utf-8-sig")
    return [list(r) for r in csv.reader(io.StringIO(text))]


def _table(content: bytes, fmt: str) -> tuple[list[list[Any]], list[str | None], int]:
    """The file's rows and what each column holds; a file that cannot be read, or has no
    header the template would give it, is refused at once."""
    try:
        table = _rows(content, fmt)
    except Exception as exc:  # a file no reader can open is the client's, whatever the library says
        raise ValidationFailed(
            [FieldProblem("file", f"không đọc được tệp: {exc}", "unreadable")]
        ) from None
    if not table:
        raise ValidationFailed([FieldProblem("file", "tệp trống", "empty")])
    # The header is the first row naming the columns (the template's workbook has a title
    # line above it).
    header = next((i for i, row in enumerate(table[:5]) if "external_id" in _columns(row)), None)
    if header is None:
        raise ValidationFailed(
            [FieldProblem("file", "không có cột Mã bản ghi (external_id): dùng tệp mẫu", "header")]
        )
    if len(table) - header - 1 > MAX_ROWS:
        raise ValidationFailed([FieldProblem("file", f"quá {MAX_ROWS:,} dòng", "too_many_rows")])
    return table, _columns(table[header]), header


def parse(content: bytes, fmt: str) -> Parsed:
    """Every row read and checked; rows in file order, numbered as the spreadsheet shows them
    (the first row is 1)."""
    table, columns, header = _table(content, fmt)
    parsed = Parsed()
    seen: dict[str, int] = {}
    for n, raw in enumerate(table[header + 1 :], start=header + 2):
        if all(v is None or str(v).strip() == "" for v in raw):
            continue
        parsed.rows += 1
        values = {
            name: _cell(name, value, n, parsed.warnings)
            for name, value in zip(columns, raw, strict=False)
            if name is not None
        }
        data = {k: v for k, v in values.items() if v is not None}
        errors: list[str] = []
        try:
            item = DeliveryItem.model_validate(data)
        except ValidationError as exc:
            for e in exc.errors():
                where = ".".join(str(p) for p in e["loc"]) or "dòng"
                errors.append(f"{where}: {MESSAGES_VI.get(e['type'], e['msg'])}")
        else:
            if item.external_id in seen:
                errors.append(f"external_id: trùng với dòng {seen[item.external_id]}")
            else:
                seen[item.external_id] = n
                parsed.items.append((n, item))
        if errors:
            shown = {k: None if v is None else str(v) for k, v in values.items()}
            parsed.failed.append({"row": n, "values": shown, "errors": errors})
    return parsed


class DeliveryImports:
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.jobs = JobQueue(uow)

    async def upload(self, content: bytes, fmt: str) -> tuple[JobPublic, bool]:
        """The import job for this file: new, or the one the same file already made."""
        access.require(self.uow.principal, Permission.DELIVERIES_WRITE)
        if not content:
            raise ValidationFailed([FieldProblem("file", "tệp trống", "empty")])
        _table(content, fmt)
        key = hashlib.sha256(content).hexdigest()
        job, created = await self.jobs.enqueue(KIND, key, {"format": fmt}, content)
        await self.uow.commit()
        return job_public(job), created

    async def results(self, job_id: Any) -> dict[str, Any]:
        job = await self.jobs.get(job_id)
        return {"job": job_public(job), **job.result}

    async def failed_rows(self, job_id: Any) -> bytes:
        """The rows to fix and upload again, as the template has them, with the errors."""
        job = await self.jobs.get(job_id)
        failed = job.result.get("failed", []) + [
            r for r in job.result.get("refused", []) if "values" in r
        ]
        rows = [
            [
                *(f["values"].get(name) for name, _ in COLUMNS),
                f"Dòng {f['row']}: " + "; ".join(f["errors"]),
            ]
            for f in sorted(failed, key=lambda f: f["row"])
        ]
        return csv_bytes(Sheet("Dòng lỗi", [*HEADERS, "Lỗi"], rows))


def template(fmt: str) -> bytes:
    example = [
        "BHYT-2026-000001",
        "bhyt-poor",
        "issued",
        "05/01/2026",
        "01/01/2026",
        "31/12/2026",
        "",
        "HN2350000000001",
        "1",
        "035190001234",
        "",
        "13384",
        "1",
    ]
    sheet = Sheet("Mẫu nhập", HEADERS, [example])
    if fmt == FileFormat.XLSX:
        title = "Mẫu nhập dữ liệu chi trả, cấp thẻ, cho vay (định dạng ô Số định danh: Văn bản)"
        return xlsx_bytes([(title, sheet)])
    return csv_bytes(sheet)


@handles(KIND)
async def run_import(services: Any, job: Job) -> None:
    parsed = parse(job.content or b"", job.params["format"])
    result = dict(job.result)
    if job.total is None:
        job.total = len(parsed.items)
        result = {
            "rows": parsed.rows,
            "failed": parsed.failed,
            "warnings": parsed.warnings,
            "counts": {"invalid": len(parsed.failed)} if parsed.failed else {},
            "outcomes": [],
        }
    while job.done < len(parsed.items):
        chunk = parsed.items[job.done : job.done + CHUNK]
        written = await services.deliveries.write(
            DeliveryBatch.model_validate({"items": [i.model_dump() for _, i in chunk]})
        )
        counts = dict(result["counts"])
        outcomes = list(result["outcomes"])
        for (row, item), answer in zip(chunk, written.items, strict=True):
            counts[answer.outcome.value] = counts.get(answer.outcome.value, 0) + 1
            outcomes.append([row, item.external_id, answer.outcome.value])
            if answer.problem is not None:
                errors = [e["message"] for e in answer.problem.get("errors", [])] or [
                    answer.problem.get("detail", "")
                ]
                values = {k: None if v is None else str(v) for k, v in item.model_dump().items()}
                result.setdefault("refused", []).append(
                    {"row": row, "values": values, "errors": errors}
                )
        result["counts"], result["outcomes"] = counts, outcomes
        result["summary"] = _summary(result)
        job.done += len(chunk)
        job.result = dict(result)
        renew(job)
        await services.uow.finish()  # the chunk and the progress, together
    if job.total == 0:
        job.result = {**result, "summary": _summary(result)}


def _summary(result: dict[str, Any]) -> dict[str, Any]:
    return {
        "rows": result["rows"],
        "counts": result["counts"],
        "warnings": len(result["warnings"]),
        "to_fix": len(result["failed"]) + len(result.get("refused", [])),
    }
