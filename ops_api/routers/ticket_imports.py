"""Ticket logs without an online connection: a queue-ticket system's exported day (CSV or Excel) uploaded for a
site, previewed, then imported. The column mapping is kept per site; importing a log again writes nothing twice;
each bad row is reported with its line and the good rows are imported. Managers and admins of the site; each
import (not a preview) is audited with its file's name, size and SHA-256.
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from ops_api import audit
from ops_api.deps import Conn, client_addr, require
from ops_api.errors import ApiError
from ops_api.params import Day
from ops_api.roles import Principal
from ops_api.schemas import StrictIn
from ops_api.ticket_files import FIELDS, RowError, TicketFileError, parse_log, to_events
from store import ticket_import as store
from store.registry_rows import get_site

router = APIRouter(tags=["tickets"])
Importer = Annotated[Principal, Depends(require("tickets.import"))]
PREVIEW_ROWS = 20


class Mapping(StrictIn):
    ticket_number: str = Field(min_length=1, max_length=200, examples=["Số vé"])
    issued_at: str = Field(min_length=1, max_length=200, examples=["Giờ lấy số"])
    called_at: str | None = Field(None, max_length=200, examples=["Giờ gọi"])
    finished_at: str | None = Field(None, max_length=200, examples=["Giờ kết thúc"])
    date: str | None = Field(None, max_length=200, examples=["Ngày"])
    service: str | None = Field(None, max_length=200, examples=["Dịch vụ"])
    counter: str | None = Field(None, max_length=200, examples=["Quầy"])


class MappingOut(BaseModel):
    site_id: int
    mapping: dict[str, str] | None = Field(description="Saved for the site; null: headers are recognised.")
    fields: list[str] = Field(default=list(FIELDS), description="The fields a mapping may name.")


class RowProblem(BaseModel):
    line: int = Field(description="The line of the CSV file, or the row of the Excel sheet.")
    field: str
    code: str
    message: str
    params: dict[str, Any] = Field(default_factory=dict)


class PreviewRow(BaseModel):
    line: int
    ticket_number: str
    issued: str
    called: str | None
    finished: str | None
    service: str | None
    counter: int | None


class ImportResult(BaseModel):
    preview: bool = Field(description="True: nothing was written.")
    mapping: dict[str, str]
    columns: list[str]
    rows: int = Field(description="Data rows read.")
    tickets: int = Field(description="Good rows (tickets) among them.")
    events: int = Field(description="Issued, called and served events of the good rows.")
    inserted: int = Field(description="Events written now (0 for a preview; fewer on a re-import).")
    duplicates: int = Field(description="Events already recorded by an earlier import.")
    errors: list[RowProblem]
    sample: list[PreviewRow]


def run_import(conn: Conn, site: dict[str, Any], data: bytes, filename: str, mapping: dict[str, str] | None,
               day: Any, preview: bool) -> ImportResult:
    """Parse, check against the site's counters, and (unless a preview) write once; shared with the CLI."""
    parsed = parse_log(data, filename, site["timezone"], mapping, day)
    events, good = to_events(parsed, store.counter_numbers(conn, site["id"]), site["timezone"])
    inserted = 0 if preview else store.insert_tickets(conn, site["id"], store.import_device(site["code"]), events)
    iso = (lambda t: None if t is None else t.isoformat(timespec="seconds"))  # noqa: E731
    return ImportResult(
        preview=preview, mapping=parsed.mapping, columns=parsed.columns, rows=parsed.lines, tickets=good,
        events=len(events), inserted=inserted, duplicates=0 if preview else len(events) - inserted,
        errors=[_problem(e) for e in parsed.errors],
        sample=[PreviewRow(line=t.line, ticket_number=t.ticket_number, issued=iso(t.issued), called=iso(t.called),
                           finished=iso(t.finished), service=t.service, counter=t.counter)
                for t in parsed.tickets[:PREVIEW_ROWS]])


def _problem(error: RowError) -> RowProblem:
    return RowProblem(line=error.line, field=error.field, code=error.code, message=error.message,
                      params=error.params)


@router.get("/api/sites/{site_id}/ticket-mapping", response_model=MappingOut)
def ticket_mapping(*, site_id: int, user: Importer, conn: Conn) -> MappingOut:
    get_site(conn, site_id, user.scope)
    return MappingOut(site_id=site_id, mapping=store.get_mapping(conn, site_id))


@router.put("/api/sites/{site_id}/ticket-mapping", response_model=MappingOut)
def save_ticket_mapping(*, site_id: int, body: Mapping, request: Request, user: Importer, conn: Conn) -> MappingOut:
    """Which column of this site's ticket-system export holds what (used by every later import)."""
    get_site(conn, site_id, user.scope)
    mapping = body.model_dump(exclude_none=True)
    with conn.transaction():
        before = store.get_mapping(conn, site_id)
        store.save_mapping(conn, site_id, mapping)
        audit.record(conn, user, "ticket_mapping.update", "site", site_id, before={"mapping": before},
                     after={"mapping": mapping}, remote_addr=client_addr(request))
    return MappingOut(site_id=site_id, mapping=mapping)


async def raw_body(request: Request) -> bytes:
    """The request's bytes (a file sent as the body: no multipart parser needed)."""
    return await request.body()


@router.post("/api/sites/{site_id}/ticket-imports", response_model=ImportResult, responses={413: {}, 422: {}},
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/octet-stream": {"schema": {"type": "string"}},
                 "text/csv": {"schema": {"type": "string"}}}}})
def import_tickets(*, site_id: int, request: Request, user: Importer, conn: Conn,
                   data: Annotated[bytes, Depends(raw_body)],
                   filename: Annotated[str, Query(max_length=200, examples=["nhat-ky-20-11.xlsx"])] = "log.csv",
                   preview: Annotated[bool, Query(description="Read and check only; write nothing.")] = False,
                   day: Annotated[Day | None, Query(description="The log's day, when its times carry none.")]
                   = None) -> ImportResult:
    """Upload a ticket log as the request body (the file's bytes: .xlsx or UTF-8 CSV), read with the site's saved
    column mapping (or recognised headers). Bad rows come back with their line; the good rows are imported."""
    site = get_site(conn, site_id, user.scope)
    if not data:
        raise ApiError(422, "body", "the file is empty", code="ticket_file_unreadable")
    try:
        result = run_import(conn, site, data, filename, store.get_mapping(conn, site_id), day, preview)
    except TicketFileError as exc:
        raise ApiError(422, "body", str(exc), code=exc.code, params=exc.params) from None
    if not preview:
        audit.record(conn, user, "tickets.import", "site", site_id, remote_addr=client_addr(request), after={
            "file": filename[:200], "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(),
            "rows": result.rows, "inserted": result.inserted, "duplicates": result.duplicates,
            "errors": len(result.errors)})
    return result
