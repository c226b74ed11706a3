"""Ticket logs without an online connection: a log with a bad row imports the good rows and names the bad line;
importing it again writes nothing twice; a preview writes nothing; an Excel export with title rows above its
header reads; the column mapping is kept per site; and ``vigil tickets import`` does the same from a shell."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import pytest
from openpyxl import Workbook
from typer.testing import CliRunner

from store.db import connect
from tests.support.api import ApiHarness
from tests.support.centers import make_center
from vigil.cli import app

LOG = """Số vé,Dịch vụ,Quầy,Ngày,Giờ lấy số,Giờ gọi,Giờ kết thúc
A001,Tư pháp,1,20/11/2026,07:35,07:41,07:52
A002,Tư pháp,1,20/11/2026,07:38,07:52,08:05
A003,Tư pháp,1,20/11/2026,7 giờ 40,07:58,08:10
A004,Tư pháp,1,20/11/2026,07:44,07:43,
A005,Đất đai,9,20/11/2026,07:50,,
A006,Tư pháp,1,20/11/2026,07:55,,
"""


def events(api: ApiHarness, site_id: int) -> list[tuple[str, str]]:
    return [(r["ticket_number"], r["kind"]) for r in api.conn.execute(
        "SELECT ticket_number, kind FROM ticket_events WHERE site_id = %s ORDER BY time, kind", (site_id,))]


def upload(api: ApiHarness, site_id: int, data: bytes, headers: dict[str, str],
           **params: object) -> httpx.Response:
    return api.client.post(f"/api/sites/{site_id}/ticket-imports", content=data, params=params,
                           headers={**headers, "Content-Type": "application/octet-stream"})


def test_a_log_with_bad_rows_imports_the_good_rows_and_names_the_bad_lines(api: ApiHarness) -> None:
    hall = make_center(api.conn, "xa-phu-my", "Trung tâm xã Phú Mỹ")
    manager = api.user("manager", site_ids=[hall.site_id])
    preview = upload(api, hall.site_id, LOG.encode(), manager.headers, filename="nhat-ky.csv", preview="true")
    assert preview.status_code == 200, preview.text
    assert preview.json()["inserted"] == 0 and events(api, hall.site_id) == []
    done = upload(api, hall.site_id, LOG.encode(), manager.headers, filename="nhat-ky.csv").json()
    assert (done["rows"], done["tickets"], done["events"], done["inserted"]) == (6, 3, 7, 7)
    assert [(e["line"], e["field"], e["code"]) for e in done["errors"]] == [
        (4, "issued_at", "time_unreadable"), (5, "called_at", "time_order"), (6, "counter", "counter_unknown")]
    assert done["errors"][0]["params"] == {"value": "7 giờ 40"}
    assert events(api, hall.site_id) == [("A001", "issued"), ("A002", "issued"), ("A001", "called"),
                                         ("A002", "called"), ("A001", "served"), ("A006", "issued"), ("A002", "served")]
    called = api.conn.execute("SELECT counter_id, time AT TIME ZONE 'Asia/Ho_Chi_Minh' AS local FROM ticket_events"
                              " WHERE ticket_number = 'A001' AND kind = 'called'").fetchone()
    assert called["counter_id"] == hall.counters[0].id and str(called["local"]) == "2026-11-20 07:41:00"
    again = upload(api, hall.site_id, LOG.encode(), manager.headers, filename="nhat-ky.csv").json()
    assert (again["inserted"], again["duplicates"]) == (0, 7)
    assert len(events(api, hall.site_id)) == 7
    audit = api.conn.execute("SELECT after FROM audit_log WHERE action = 'tickets.import' ORDER BY id").fetchall()
    assert [a["after"]["inserted"] for a in audit] == [7, 0]  # imports are audited, previews are not
    # Another center's manager may not import here.
    stranger = api.user("manager", site_ids=[make_center(api.conn, "xa-khac", "Xã khác").site_id])
    assert upload(api, hall.site_id, LOG.encode(), stranger.headers).status_code == 404
    assert upload(api, hall.site_id, LOG.encode(), api.user("operator").headers).status_code == 403


def workbook(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_an_excel_log_with_its_own_headers_reads_through_the_sites_mapping(api: ApiHarness) -> None:
    from datetime import datetime, time

    hall = make_center(api.conn, "xa-an-phu", "Trung tâm xã An Phú")
    manager = api.user("manager", site_ids=[hall.site_id])
    data = workbook([["BÁO CÁO CHI TIẾT LẤY SỐ"], ["Từ ngày 21/11/2026"], [],
                     ["STT", "Mã phiếu", "Thời điểm cấp", "Thời điểm gọi", "Quầy phục vụ"],
                     [1, "B001", datetime(2026, 11, 21, 8, 0), datetime(2026, 11, 21, 8, 12), 1],
                     [2, "B002", time(8, 5), None, 1]])
    unknown = upload(api, hall.site_id, data, manager.headers, filename="log.xlsx")
    assert unknown.status_code == 422 and unknown.json()["detail"][0]["code"] == "ticket_column_missing"
    mapping = {"ticket_number": "Mã phiếu", "issued_at": "Thời điểm cấp", "called_at": "Thời điểm gọi",
               "counter": "Quầy phục vụ"}
    saved = api.client.put(f"/api/sites/{hall.site_id}/ticket-mapping", json=mapping, headers=manager.headers)
    assert saved.status_code == 200, saved.text
    done = upload(api, hall.site_id, data, manager.headers, filename="log.xlsx").json()
    assert [(e["line"], e["code"]) for e in done["errors"]] == [(6, "date_missing")]  # time only, no day given
    assert done["inserted"] == 2
    with_day = upload(api, hall.site_id, data, manager.headers, filename="log.xlsx", day="2026-11-21").json()
    assert (with_day["errors"], with_day["inserted"], with_day["duplicates"]) == ([], 1, 2)


@pytest.fixture
def cli(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("VIGIL_DATA_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    return CliRunner()


def test_vigil_tickets_import_names_the_bad_line_and_imports_the_rest(cli: CliRunner, db_url: str,
                                                                     tmp_path: Path) -> None:
    with connect(db_url) as conn:
        hall = make_center(conn, "xa-my-hoa", "Trung tâm xã Mỹ Hòa")
    log = tmp_path / "log.csv"
    log.write_text(LOG.replace(",", ";").replace("Số vé", "So phieu"), encoding="utf-8-sig")
    bad_map = cli.invoke(app, ["tickets", "import", str(log), "--site", "xa-my-hoa", "--map", "nothing=x"])
    assert bad_map.exit_code == 2
    done = cli.invoke(app, ["tickets", "import", str(log), "--site", "xa-my-hoa", "--map", "ticket_number=So phieu"])
    assert done.exit_code == 6, done.output  # some rows were bad
    assert "6 rows, 3 tickets imported (7 events: 7 new, 0 already there), 3 bad rows" in done.output
    assert "line 4, issued_at: unreadable time 7 giờ 40" in done.output
    again = cli.invoke(app, ["tickets", "import", str(log), "--site", "xa-my-hoa"])  # the saved mapping
    assert "0 new, 7 already there" in again.output
    with connect(db_url) as conn:
        assert conn.execute("SELECT count(*) AS n FROM ticket_events WHERE site_id = %s",
                            (hall.site_id,)).fetchone()["n"] == 7
        assert conn.execute("SELECT mapping FROM ticket_import_mappings").fetchone()["mapping"] == {
            "ticket_number": "So phieu"}


def test_a_row_with_a_control_character_is_named_and_the_rest_imported(api: ApiHarness) -> None:
    # A ticket number or service with an escape sequence or a NUL (a serial bridge's noise, or worse) would be
    # refused by the API; from a file it is the row that is refused, by line, and the others come in.
    hall = make_center(api.conn, "xa-an-binh", "Trung tâm xã An Bình")
    manager = api.user("manager", site_ids=[hall.site_id])
    log = ("Số vé,Dịch vụ,Quầy,Ngày,Giờ lấy số,Giờ gọi,Giờ kết thúc\n"
           "A001,Tư pháp,1,20/11/2026,07:35,07:41,07:52\n"
           "A0\x1b[2J02,Tư pháp,1,20/11/2026,07:38,,\n"
           "A003,Tư\x00 pháp,1,20/11/2026,07:40,,\n")
    done = upload(api, hall.site_id, log.encode(), manager.headers, filename="nhat-ky.csv").json()
    assert [(e["line"], e["field"], e["code"], e["params"]) for e in done["errors"]] == [
        (3, "ticket_number", "control_character", {"position": 3}), (4, "service", "control_character",
                                                                     {"position": 3})]
    assert {number for number, _ in events(api, hall.site_id)} == {"A001"}
