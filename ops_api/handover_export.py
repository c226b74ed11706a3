"""A shift handover as a workbook (XLSX, through ``ops_api.tables``: every text cell inert): the shift and its
remarks on the first sheet, then a sheet per section of the summary as it was generated."""

from __future__ import annotations

from typing import Any

from ops_api.tables import Column, to_xlsx_sheets

SHIFT: list[Column] = [("what", "Mục", "Item"), ("value", "Nội dung", "Value")]
RAISED: list[Column] = [
    ("id", "Mã cảnh báo", "Alarm"), ("type", "Loại sự kiện", "Event type"), ("priority", "Mức ưu tiên", "Priority"),
    ("status", "Trạng thái", "Status"), ("site", "Địa điểm", "Site"), ("camera", "Camera", "Camera"),
    ("event_count", "Số sự kiện", "Events"), ("raised_at", "Thời điểm báo", "Raised"),
    ("escalated_at", "Thời điểm leo thang", "Escalated")]
HANDLED: list[Column] = [
    ("id", "Mã cảnh báo", "Alarm"), ("type", "Loại sự kiện", "Event type"), ("priority", "Mức ưu tiên", "Priority"),
    ("site", "Địa điểm", "Site"), ("camera", "Camera", "Camera"), ("resolved_at", "Thời điểm xử lý xong", "Resolved"),
    ("resolved_by", "Người xử lý", "Resolved by"), ("resolution", "Ghi chú xử lý", "Resolution"),
    ("auto_closed", "Tự đóng theo quy tắc", "Closed by rule")]
OPEN: list[Column] = [
    ("id", "Mã cảnh báo", "Alarm"), ("type", "Loại sự kiện", "Event type"), ("priority", "Mức ưu tiên", "Priority"),
    ("status", "Trạng thái", "Status"), ("site", "Địa điểm", "Site"), ("camera", "Camera", "Camera"),
    ("assignee", "Người được giao", "Assignee"), ("last_note", "Ghi chú gần nhất", "Last note"),
    ("last_note_time", "Thời điểm ghi chú", "Noted at"), ("escalated_at", "Thời điểm leo thang", "Escalated")]
OFFLINE: list[Column] = [
    ("name", "Camera", "Camera"), ("site", "Địa điểm", "Site"), ("state", "Trạng thái", "State"),
    ("state_since", "Từ lúc", "Since")]
# (key in the summary's counts or the handover, Vietnamese, English)
FACTS = [("from_username", "Người giao ca", "Handed over by"), ("to_username", "Người nhận ca", "Handed over to"),
         ("shift_start", "Bắt đầu ca", "Shift start"), ("shift_end", "Kết thúc ca", "Shift end"),
         ("remarks", "Nhận xét của người giao", "Remarks"), ("acknowledged_at", "Nhận ca lúc", "Acknowledged"),
         ("ack_note", "Ghi chú nhận ca", "Acknowledgement note")]
COUNTS = [("raised", "Cảnh báo mới trong ca", "Alarms raised"), ("handled", "Cảnh báo đã xử lý", "Alarms handled"),
          ("open", "Cảnh báo còn mở", "Alarms still open"), ("escalated", "Cảnh báo bị leo thang", "Alarms escalated"),
          ("cameras_offline", "Camera mất kết nối", "Cameras offline")]


def workbook(handover: dict[str, Any], lang: str) -> bytes:
    summary = handover["summary"]
    word = (lambda vi, en: vi) if lang == "vi" else (lambda vi, en: en)
    shift = [{"what": word(vi, en), "value": handover.get(key)} for key, vi, en in FACTS]
    shift += [{"what": word(vi, en), "value": summary.get("counts", {}).get(key, 0)} for key, vi, en in COUNTS]
    return to_xlsx_sheets([
        (word("Ca trực", "Shift"), SHIFT, shift),
        (word("Cảnh báo mới", "Raised"), RAISED, summary.get("raised", [])),
        (word("Đã xử lý", "Handled"), HANDLED, summary.get("handled", [])),
        (word("Còn mở", "Still open"), OPEN, summary.get("open", [])),
        (word("Camera mất kết nối", "Cameras offline"), OFFLINE, summary.get("cameras_offline", []))], lang)
