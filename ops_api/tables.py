"""Tabular exports: CSV (UTF-8 with BOM, so Excel shows Vietnamese) and XLSX (openpyxl), with Vietnamese
column headers by default and English on request.

Every text cell goes through ``inert``: a name such as ``=HYPERLINK(...)`` or ``@SUM(...)`` (a site, camera,
counter or officer is named by people) would otherwise be a live formula when the file is opened in a
spreadsheet. Numbers stay numbers."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

# (key, Vietnamese, English)
Column = tuple[str, str, str]

EVENT_COLUMNS: list[Column] = [
    ("time", "Thời gian bắt đầu", "Start time"), ("end_time", "Thời gian kết thúc", "End time"),
    ("site", "Địa điểm", "Site"), ("camera", "Camera", "Camera"), ("counter", "Quầy", "Counter"),
    ("type", "Loại sự kiện", "Event type"), ("severity", "Mức độ", "Severity"), ("status", "Trạng thái", "Status"),
    ("assignee", "Người xử lý", "Assignee"), ("id", "Mã sự kiện", "Event id"),
]
AUDIT_COLUMNS: list[Column] = [
    ("day", "Ngày", "Date"), ("site", "Địa điểm", "Site"), ("number", "Quầy số", "Counter"),
    ("department", "Lĩnh vực", "Department"), ("officer", "Cán bộ", "Officer"),
    ("minutes_open", "Thời gian làm việc (phút)", "Working time (min)"),
    ("minutes_staffed", "Thời gian có mặt (phút)", "Staffed (min)"),
    ("absences", "Số lần vắng mặt", "Absences"), ("absent_minutes", "Thời gian vắng (phút)", "Absent (min)"),
    ("sessions", "Lượt phục vụ", "Citizens served"),
    ("wait_mean_s", "Chờ trung bình (giây)", "Mean wait (s)"), ("wait_p90_s", "Chờ P90 (giây)", "Wait p90 (s)"),
    ("service_mean_s", "Phục vụ trung bình (giây)", "Mean service (s)"),
    ("service_p90_s", "Phục vụ P90 (giây)", "Service p90 (s)"), ("peak_queue", "Hàng chờ tối đa", "Peak queue"),
    ("tickets_issued", "Số phiếu cấp", "Tickets issued"), ("tickets_served", "Số phiếu đã phục vụ", "Tickets served"),
    ("ratings", "Lượt đánh giá", "Ratings"), ("rating_mean", "Điểm hài lòng TB", "Mean rating"),
]


def headers(columns: Sequence[Column], lang: str) -> list[str]:
    return [vi if lang == "vi" else en for _, vi, en in columns]


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def inert(value: Any) -> Any:
    """A text that a spreadsheet would read as a formula, with a single quote in front (OWASP's advice for CSV
    injection); anything else as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None) if value.tzinfo is None else value.isoformat(timespec="seconds")
    if isinstance(value, float):
        return round(value, 1)
    if isinstance(value, dict | list):
        return inert(str(value))
    return inert(value)


def to_csv(columns: Sequence[Column], rows: Iterable[dict[str, Any]], lang: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers(columns, lang))
    for row in rows:
        writer.writerow(["" if row.get(k) is None else _cell(row.get(k)) for k, _, _ in columns])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(columns: Sequence[Column], rows: Iterable[dict[str, Any]], lang: str, sheet: str) -> bytes:
    return to_xlsx_sheets([(sheet, columns, rows)], lang)


def to_xlsx_sheets(sheets: Sequence[tuple[str, Sequence[Column], Iterable[dict[str, Any]]]], lang: str) -> bytes:
    """One workbook, a sheet per (name, columns, rows); every text cell inert."""
    book = Workbook(write_only=False)
    book.remove(book.active)
    for sheet, columns, rows in sheets:
        ws = book.create_sheet(sheet[:31])
        ws.append(headers(columns, lang))
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in rows:
            ws.append([_cell(row.get(k)) for k, _, _ in columns])
            for cell in ws[ws.max_row]:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # text, whatever it looks like: never a formula
        for i, (_, vi, en) in enumerate(columns, start=1):
            ws.column_dimensions[ws.cell(1, i).column_letter].width = max(12, len(vi if lang == "vi" else en) + 2)
        ws.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
