"""Reading a queue-ticket system's exported log (CSV or Excel): one row per ticket, with the ticket number, when it
was issued and, when known, called and finished, its service and counter. The columns are found by a mapping
(field -> the column's header), given, saved for the site, or recognised from common Vietnamese and English
headers ("Số vé", "Giờ lấy số", "Giờ gọi", "Giờ kết thúc", "Quầy", "Dịch vụ"...).

Every bad row is reported with its line in the file (a CSV's line, an Excel sheet's row) and the field at
fault, and the good rows still count. Times are the site's local time; a log whose times carry no date takes
the ``day`` given for the file.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from ops_api.schemas import control_position
from store.ticket_import import TicketRow

FIELDS = ("ticket_number", "issued_at", "called_at", "finished_at", "date", "service", "counter")
REQUIRED = ("ticket_number", "issued_at")
ALIASES: dict[str, tuple[str, ...]] = {
    "ticket_number": ("so ve", "so phieu", "so thu tu", "ma ve", "stt ve", "ticket", "ticket number", "ticket_number"),
    "issued_at": ("gio lay so", "thoi gian lay so", "gio in phieu", "gio cap so", "issued", "issued at", "issued_at"),
    "called_at": ("gio goi", "thoi gian goi", "gio goi so", "called", "called at", "called_at"),
    "finished_at": ("gio ket thuc", "thoi gian ket thuc", "gio hoan thanh", "finished", "finished at", "finished_at",
                    "served at", "served_at"),
    "date": ("ngay", "ngay lay so", "date", "day"),
    "service": ("dich vu", "linh vuc", "ten dich vu", "service", "department"),
    "counter": ("quay", "quay so", "so quay", "counter", "counter number"),
}
TIME_FORMATS = ("%H:%M", "%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S",
                "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%d-%m-%Y %H:%M", "%d-%m-%Y %H:%M:%S")
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y")
MAX_ROWS = 50_000


class TicketFileError(ValueError):
    """The file as a whole cannot be read; ``code`` and ``params`` say why (the API's error codes)."""

    def __init__(self, message: str, code: str, params: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code, self.params = code, params or {}


@dataclass(frozen=True)
class RowError:
    line: int
    field: str
    code: str  # ticket_missing, time_unreadable, time_missing, date_missing, time_order, counter_unknown...
    message: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LogTicket:
    line: int
    ticket_number: str
    issued: datetime
    called: datetime | None
    finished: datetime | None
    service: str | None
    counter: int | None


@dataclass
class ParsedLog:
    mapping: dict[str, str]
    columns: list[str]
    lines: int  # data rows read
    tickets: list[LogTicket] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def _plain(text: Any) -> str:
    """A header as compared: lower case, no accents, single spaces ("Giờ lấy số" -> "gio lay so")."""
    decomposed = unicodedata.normalize("NFD", str(text or "")).replace("đ", "d").replace("Đ", "d")
    bare = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    return " ".join(bare.lower().replace("_", " ").split())


def read_table(data: bytes, filename: str) -> list[tuple[int, list[Any]]]:
    """The file's rows with their line numbers: an Excel workbook's first sheet, or CSV (UTF-8, BOM or not;
    comma, semicolon or tab)."""
    if data[:2] == b"PK" or filename.lower().endswith((".xlsx", ".xlsm")):
        return _read_xlsx(data)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise TicketFileError("the file is neither an Excel workbook (.xlsx) nor UTF-8 CSV",
                              "ticket_file_unreadable") from None
    sample = text[:4096]
    delimiter = max((",", ";", "\t"), key=sample.count)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    out = []
    for cells in reader:
        out.append((reader.line_num, cells))
        if len(out) > MAX_ROWS:
            raise TicketFileError(f"more than {MAX_ROWS} rows", "ticket_file_too_long", {"max_rows": MAX_ROWS})
    return out


def _read_xlsx(data: bytes) -> list[tuple[int, list[Any]]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a file that is not a workbook
        raise TicketFileError("the file is not an Excel workbook that can be read", "ticket_file_unreadable") from None
    try:
        sheet = book.worksheets[0]
        out = []
        for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
            out.append((number, list(cells)))
            if len(out) > MAX_ROWS:
                raise TicketFileError(f"more than {MAX_ROWS} rows", "ticket_file_too_long", {"max_rows": MAX_ROWS})
        return out
    finally:
        book.close()


def _header(table: list[tuple[int, list[Any]]], mapping: dict[str, str] | None) -> tuple[int, list[str]]:
    """The index of the header row (title rows above it are skipped) and its cells as text."""
    wanted = {_plain(mapping["ticket_number"])} if mapping and mapping.get("ticket_number") else set(
        ALIASES["ticket_number"])
    for index, (_, cells) in enumerate(table[:30]):
        texts = [_plain(c) for c in cells]
        if wanted & set(texts):
            return index, ["" if c is None else str(c).strip() for c in cells]
    raise TicketFileError("no header row names the ticket number column", "ticket_column_missing",
                          {"field": "ticket_number"})


def find_mapping(columns: list[str], mapping: dict[str, str] | None) -> dict[str, str]:
    """field -> column header: the given mapping's (each must name a column), else recognised headers."""
    plain = {_plain(c): c for c in columns if c}
    out: dict[str, str] = {}
    for name in FIELDS:
        if mapping and name in mapping:
            if mapping[name] and _plain(mapping[name]) not in plain:
                raise TicketFileError(f"no column {mapping[name]!r} for {name}", "ticket_column_missing",
                                      {"field": name, "column": mapping[name]})
            if mapping[name]:
                out[name] = plain[_plain(mapping[name])]
            continue
        found = next((plain[a] for a in ALIASES[name] if a in plain), None)
        if found:
            out[name] = found
    for name in REQUIRED:
        if name not in out:
            raise TicketFileError(f"no column for {name}", "ticket_column_missing", {"field": name})
    return out


def _day(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(str(value).strip(), fmt).date()
        except ValueError:
            continue
    raise ValueError(str(value))


def _moment(value: Any, day: date | None, tz: ZoneInfo) -> datetime | None:
    """A cell as an aware local time; None when empty; ValueError when unreadable; LookupError without a day."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=tz)
    if isinstance(value, time):
        if day is None:
            raise LookupError("date")
        return datetime.combine(day, value, tz)
    text = str(value).strip()
    for fmt in TIME_FORMATS:
        try:
            parsed = datetime.strptime(text, fmt)
        except ValueError:
            continue
        if fmt.startswith("%H"):
            if day is None:
                raise LookupError("date")
            return datetime.combine(day, parsed.time(), tz)
        return parsed.replace(tzinfo=tz)
    raise ValueError(text)


def parse_log(data: bytes, filename: str, timezone: str, mapping: dict[str, str] | None = None,
              day: date | None = None) -> ParsedLog:
    """Every ticket of the file that reads, and a line-numbered error for each row that does not."""
    tz = ZoneInfo(timezone)
    table = read_table(data, filename)
    head, columns = _header(table, mapping)
    found = find_mapping(columns, mapping)
    index = {name: columns.index(column) for name, column in found.items()}
    parsed = ParsedLog(found, [c for c in columns if c], 0)
    for line, cells in table[head + 1:]:
        if not any(c not in (None, "") and str(c).strip() for c in cells):
            continue  # blank rows between days, or after the last ticket
        parsed.lines += 1
        ticket = _ticket(line, cells, index, tz, day, parsed.errors)
        if ticket is not None:
            parsed.tickets.append(ticket)
    return parsed


def _cell(cells: list[Any], index: dict[str, int], name: str) -> Any:
    position = index.get(name)
    return cells[position] if position is not None and position < len(cells) else None


def _ticket(line: int, cells: list[Any], index: dict[str, int], tz: ZoneInfo, default_day: date | None,
            errors: list[RowError]) -> LogTicket | None:
    def bad(name: str, code: str, message: str, **params: Any) -> None:
        errors.append(RowError(line, name, code, message, params))

    number = str(_cell(cells, index, "ticket_number") or "").strip()
    if not number:
        bad("ticket_number", "ticket_missing", "no ticket number")
        return None
    if len(number) > 32:
        bad("ticket_number", "ticket_too_long", "ticket number longer than 32 characters", max_length=32)
        return None
    service = str(_cell(cells, index, "service") or "").strip()[:200] or None
    for name, text in (("ticket_number", number), ("service", service or "")):
        if (position := control_position(text)) is not None:  # as the API refuses them (ops_api.schemas)
            bad(name, "control_character", f"a control character at position {position}", position=position)
            return None
    try:
        day = _day(_cell(cells, index, "date")) or default_day
    except ValueError as exc:
        bad("date", "date_unreadable", f"unreadable date {exc}", value=str(exc)[:40])
        return None
    times: dict[str, datetime | None] = {}
    for name in ("issued_at", "called_at", "finished_at"):
        try:
            times[name] = _moment(_cell(cells, index, name), day, tz)
        except LookupError:
            bad(name, "date_missing", "a time without a date: give the file's day")
            return None
        except ValueError as exc:
            bad(name, "time_unreadable", f"unreadable time {exc}", value=str(exc)[:40])
            return None
    issued, called, finished = times["issued_at"], times["called_at"], times["finished_at"]
    if issued is None:
        bad("issued_at", "time_missing", "no time the ticket was issued")
        return None
    for name, earlier, later in (("called_at", issued, called), ("finished_at", called or issued, finished)):
        if later is not None and later < earlier:
            bad(name, "time_order", f"{name} is before the ticket's previous step")
            return None
    counter_cell = _cell(cells, index, "counter")
    counter = None
    if counter_cell not in (None, ""):
        try:
            counter = int(float(str(counter_cell).strip()))
        except ValueError:
            bad("counter", "counter_unreadable", f"unreadable counter number {counter_cell}",
                value=str(counter_cell)[:40])
            return None
    return LogTicket(line, number, issued, called, finished, service, counter)


def to_events(parsed: ParsedLog, counters: dict[int, int], timezone: str) -> tuple[list[TicketRow], int]:
    """The events of the good tickets (issued, called, served) keyed for idempotent writing, and how many tickets
    gave them; a ticket of an unknown counter or seen twice on one day is one more line-numbered error."""
    tz = ZoneInfo(timezone)
    seen: dict[str, int] = {}
    out: list[TicketRow] = []
    good = 0
    for t in parsed.tickets:
        if t.counter is not None and t.counter not in counters:
            parsed.errors.append(RowError(t.line, "counter", "counter_unknown", f"no counter {t.counter} at this site",
                                          {"number": t.counter}))
            continue
        key = f"{t.issued.astimezone(tz).date().isoformat()}:{t.ticket_number}"
        if key in seen:
            parsed.errors.append(RowError(t.line, "ticket_number", "ticket_repeated",
                                          f"ticket {t.ticket_number} of that day is on line {seen[key]} already",
                                          {"ticket": t.ticket_number, "first_line": seen[key]}))
            continue
        seen[key] = t.line
        good += 1
        counter_id = counters.get(t.counter) if t.counter is not None else None
        out.append(TicketRow(t.issued, "issued", t.ticket_number, f"{key}:issued", t.service, None))
        for kind, moment in (("called", t.called), ("served", t.finished)):
            if moment is not None:
                out.append(TicketRow(moment, kind, t.ticket_number, f"{key}:{kind}", t.service, counter_id))
    parsed.errors.sort(key=lambda e: e.line)
    return out, good
