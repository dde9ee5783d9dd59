"""Tables for officers' downloads: CSV that Excel opens as UTF-8, and workbooks whose sheets
have a title line, bold headers and frozen panes. Each report brings its own Vietnamese
headers."""

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font


@dataclass(frozen=True)
class Sheet:
    title: str
    headers: list[str]
    rows: list[list[Any]]


def csv_bytes(sheet: Sheet, trailer: Sequence[Sequence[Any]] = ()) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(sheet.headers)
    writer.writerows(sheet.rows)
    if trailer:
        writer.writerow([])
        writer.writerows(trailer)
    # A byte-order mark makes Excel read the Vietnamese text as UTF-8.
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def xlsx_bytes(sheets: Sequence[tuple[str, Sheet]]) -> bytes:
    """One worksheet a sheet, each under its title line."""
    book = Workbook()
    book.remove(book.active)
    for title, sheet in sheets:
        ws = book.create_sheet(sheet.title)
        ws.append([title])
        ws.append(sheet.headers)
        for cell in ws[2]:
            cell.font = Font(bold=True)
        for row in sheet.rows:
            ws.append(row)
        ws.freeze_panes = "A3"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
