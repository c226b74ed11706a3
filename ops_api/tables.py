"""Tabular exports: CSV (UTF-8 with BOM, so Excel shows Vietnamese) and XLSX (openpyxl), with Vietnamese
column headers by default and English on request.

Every text cell goes through ``inert``: a name such as ``=HYPERLINK(...)`` or ``@SUM(...)`` (a site, camera,
counter or officer is named by people) would otherwise be a live formula when the file is opened in a
spreadsheet, and control characters pasted into a name (which an XLSX file cannot hold: openpyxl refuses the
whole workbook) are dropped. Numbers stay numbers."""

from __future__ import annotations

import csv
import io
import re
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
# C0 controls but tab, line feed and carriage return: XML 1.0, hence XLSX, has no way to write them.
UNWRITABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def inert(value: Any) -> Any:
    """A text without control characters and, where a spreadsheet would read it as a formula, with a single
    quote in front (OWASP's advice for CSV injection); anything else as it is."""
    if not isinstance(value, str):
        return value
    value = UNWRITABLE.sub("", value)
    return "'" + value if value.startswith(FORMULA_STARTS) else value


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


# The province overview as a provincial office files it (Decree 30/2020 layout: the issuing body on the left, the
# national motto on the right, place and date, the title, the table with a totals row, the signatures).
PROVINCE_COLUMNS: list[Column] = [
    ("index", "STT", "No."), ("center", "Trung tâm", "Center"), ("level", "Cấp", "Level"),
    ("counters", "Số quầy", "Counters"),
    ("presence_pct", "Tỷ lệ có mặt trong giờ làm việc (%)", "Presence in working hours (%)"),
    ("citizens_served", "Lượt công dân được phục vụ", "Citizens served"),
    ("wait_mean_min", "Thời gian chờ trung bình (phút)", "Mean wait (min)"),
    ("wait_p90_min", "Thời gian chờ P90 (phút)", "Wait p90 (min)"),
    ("satisfaction_pct", "Tỷ lệ hài lòng (%)", "Satisfied (%)"), ("ratings", "Số lượt đánh giá", "Ratings"),
    ("open_alarms", "Cảnh báo chưa xử lý", "Open alarms"),
]


def province_xlsx(province: str, month: str, rows: Sequence[dict[str, Any]], total: dict[str, Any], lang: str,
                  issued: datetime) -> bytes:
    """The overview workbook: title block, one row per center, the totals row, signature block (Times New Roman,
    A4 landscape, bordered table, headers repeated on each printed page)."""
    from openpyxl.styles import Alignment, Border, Side
    from openpyxl.utils import get_column_letter

    vi = lang == "vi"
    book = Workbook()
    ws = book.active
    ws.title = ("Tổng hợp" if vi else "Overview")
    width = len(PROVINCE_COLUMNS)
    last = get_column_letter(width)
    font = "Times New Roman"
    thin = Side(style="thin")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    center = Alignment(horizontal="center", vertical="center", wrap_text=True)

    def put(cell: str, value: str, *, bold: bool = False, italic: bool = False, size: int = 13,
            underline: bool = False, merge: str | None = None, align: str = "center") -> None:
        ws[cell] = inert(value)
        ws[cell].font = Font(name=font, size=size, bold=bold, italic=italic, underline="single" if underline else None)
        ws[cell].alignment = Alignment(horizontal=align, vertical="center", wrap_text=True)
        if merge:
            ws.merge_cells(merge)

    split = 4  # the issuing body over the first four columns, the motto over the rest
    body = f"UBND {province.upper()}" if vi else province
    put("A1", body, size=12, merge=f"A1:{get_column_letter(split)}1")
    put("A2", "TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG" if vi else "Public administration service centers", bold=True,
        size=12, merge=f"A2:{get_column_letter(split)}2")
    right = get_column_letter(split + 1)
    put(f"{right}1", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" if vi else "Socialist Republic of Viet Nam", bold=True,
        size=12, merge=f"{right}1:{last}1")
    put(f"{right}2", "Độc lập - Tự do - Hạnh phúc" if vi else "Independence - Freedom - Happiness", bold=True,
        underline=True, merge=f"{right}2:{last}2")
    when = (f"{province}, ngày {issued.day:02d} tháng {issued.month:02d} năm {issued.year}" if vi
            else f"{province}, {issued.date().isoformat()}")
    put(f"{right}4", when, italic=True, merge=f"{right}4:{last}4")
    put("A6", "BÁO CÁO TÌNH HÌNH HOẠT ĐỘNG CỦA CÁC TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG" if vi
        else "Service centers of the province: monthly report", bold=True, size=14, merge=f"A6:{last}6")
    year, number = month.split("-")
    put("A7", f"Tháng {number} năm {year}" if vi else f"Month {month}", italic=True, merge=f"A7:{last}7")
    head = 9
    for i, title in enumerate(headers(PROVINCE_COLUMNS, lang), start=1):
        cell = ws.cell(head, i, title)
        cell.font, cell.alignment, cell.border = Font(name=font, size=12, bold=True), center, box
    ws.row_dimensions[head].height = 48
    for offset, row in enumerate([*rows, total], start=1):
        is_total = offset == len(rows) + 1
        for i, (key, _, _) in enumerate(PROVINCE_COLUMNS, start=1):
            cell = ws.cell(head + offset, i, _cell(row.get(key)))
            if isinstance(cell.value, str):
                cell.data_type = "s"  # text, whatever it looks like: never a formula
            cell.font = Font(name=font, size=12, bold=is_total)
            cell.border = box
            cell.alignment = Alignment(horizontal="left" if key == "center" else "center", vertical="center",
                                       wrap_text=True)
    sign = head + len(rows) + 3
    put(f"A{sign}", "NGƯỜI LẬP BIỂU" if vi else "Prepared by", bold=True,
        merge=f"A{sign}:{get_column_letter(split)}{sign}")
    put(f"{right}{sign}", "THỦ TRƯỞNG ĐƠN VỊ" if vi else "Head of office", bold=True,
        merge=f"{right}{sign}:{last}{sign}")
    note = "(Ký, ghi rõ họ tên)" if vi else "(signature, full name)"
    put(f"A{sign + 1}", note, italic=True, size=12, merge=f"A{sign + 1}:{get_column_letter(split)}{sign + 1}")
    put(f"{right}{sign + 1}", "(Ký, ghi rõ họ tên, đóng dấu)" if vi else "(signature, full name, seal)", italic=True,
        size=12, merge=f"{right}{sign + 1}:{last}{sign + 1}")
    for i, width_chars in enumerate((6, 40, 12, 9, 16, 15, 15, 13, 13, 12, 13), start=1):
        ws.column_dimensions[get_column_letter(i)].width = width_chars
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{head}:{head}"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
