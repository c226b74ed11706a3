"""Exports for managers: the counter audit and the event list as CSV and XLSX, opened back with openpyxl,
with Vietnamese headers by default and English on request; and the reports they are built from."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from openpyxl import load_workbook
from psycopg.types.json import Jsonb

from tests.support.api import ApiHarness, insert_event, seed_sites

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DAY = date(2026, 11, 16)  # a Monday


def arrange_counter_day(api: ApiHarness) -> tuple[int, int]:
    """Site 1's counter on DAY: open 07:30-11:30, officer present 07:30-10:00 then absent, 3 citizens served,
    a queue of 0, 1, 2, 3, 0, ... people seen every 5 minutes."""
    seeded = seed_sites(api.conn, 1)
    site, camera, counter = seeded.sites[0], seeded.cameras[0], seeded.counters[0]
    staff, queue = seeded.zones[0], seeded.zones[2]
    api.conn.execute("UPDATE sites SET working_hours = %s WHERE id = %s",
                     (Jsonb({"weekly": {"mon": [["07:30", "11:30"]]}}), site))
    start = datetime.combine(DAY, time(7, 30), tzinfo=TZ)
    rows = [(start + timedelta(seconds=30 * i), camera, staff, "officer_present", 1.0 if i < 300 else 0.0)
            for i in range(480)]
    # The queue as the hall rule writes it: on the camera's queue zone, not on the counter's customer zone.
    rows += [(start + timedelta(minutes=5 * i), camera, queue, "queue_length", float(i % 4)) for i in range(48)]
    with api.conn.cursor() as cur:
        cur.executemany("INSERT INTO observations (time, camera_id, zone_id, metric, value) VALUES (%s,%s,%s,%s,%s)",
                        rows)
        for i in range(3):
            served = start + timedelta(minutes=20 * (i + 1))
            cur.execute("INSERT INTO counter_sessions (id, time, service_end, counter_id, camera_id, queue_enter)"
                        " VALUES (%s, %s, %s, %s, %s, %s)", (uuid.uuid4(), served, served + timedelta(minutes=6),
                                                            counter, camera, served - timedelta(minutes=4 * (i + 1))))
    insert_event(api.conn, site, camera, type="officer_absent", counter_id=counter,
                 when=start + timedelta(hours=2, minutes=30))
    return site, counter


def test_counter_audit_report_counts_staffed_minutes_and_citizens(api: ApiHarness) -> None:
    _, counter = arrange_counter_day(api)
    manager = api.user("manager")
    audit = api.client.get(f"/api/counters/{counter}/audit", params={"day": DAY.isoformat()},
                           headers=manager.headers).json()
    assert audit["minutes_open"] == 240 and audit["minutes_staffed"] == 150
    assert audit["sessions"] == 3 and audit["wait_mean_s"] == 480 and audit["peak_queue"] == 3
    assert len(audit["absences"]) == 1
    timeline = api.client.get(f"/api/counters/{counter}/timeline", params={"day": DAY.isoformat()},
                              headers=manager.headers).json()
    assert [span["present"] for span in timeline["presence"]] == [True, False]
    assert len(timeline["sessions"]) == 3 and timeline["events"][0]["type"] == "officer_absent"
    queue = timeline["queue"]
    assert len(queue) == 48 and datetime.fromisoformat(queue[0]["time"]) == datetime.combine(DAY, time(7, 30), TZ)
    assert [(q["mean"], q["high"]) for q in queue[:5]] == [(0, 0), (1, 1), (2, 2), (3, 3), (0, 0)]


def test_counter_audit_exports_open_back_in_excel_form(api: ApiHarness) -> None:
    site, _ = arrange_counter_day(api)
    manager = api.user("manager")
    params = {"site_id": site, "date_from": DAY.isoformat(), "date_to": (DAY + timedelta(days=1)).isoformat()}
    xlsx = api.client.get("/api/exports/counter-audit", params={**params, "format": "xlsx"}, headers=manager.headers)
    assert xlsx.status_code == 200 and "attachment" in xlsx.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("Ngày", "Địa điểm", "Quầy số", "Lĩnh vực")
    assert len(rows) == 3  # header + two days x one counter
    header = list(rows[0])
    first = dict(zip(header, rows[1], strict=True))
    assert first["Ngày"].date() == DAY and first["Thời gian có mặt (phút)"] == 150  # a real date cell
    assert first["Lượt phục vụ"] == 3 and first["Số lần vắng mặt"] == 1 and first["Cán bộ"] == "Nguyễn Văn A"
    english = api.client.get("/api/exports/counter-audit", params={**params, "format": "csv", "lang": "en"},
                             headers=manager.headers)
    table = list(csv.reader(io.StringIO(english.content.decode("utf-8-sig"))))
    assert table[0][:3] == ["Date", "Site", "Counter"] and table[1][table[0].index("Citizens served")] == "3"


def test_event_list_exports_in_both_formats_and_languages(api: ApiHarness) -> None:
    seed_sites(api.conn, 2)
    manager = api.user("manager")
    vi = api.client.get("/api/exports/events", params={"format": "csv"}, headers=manager.headers)
    table = list(csv.reader(io.StringIO(vi.content.decode("utf-8-sig"))))
    assert vi.content.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads the Vietnamese right
    assert table[0][0] == "Thời gian bắt đầu" and len(table) == 7
    assert table[1][table[0].index("Địa điểm")].startswith("Trung tâm Hành chính công")
    en = api.client.get("/api/exports/events", params={"format": "xlsx", "lang": "en", "severity": "high"},
                        headers=manager.headers)
    rows = list(load_workbook(io.BytesIO(en.content)).active.iter_rows(values_only=True))
    assert rows[0][0] == "Start time" and len(rows) == 3
    assert {r[rows[0].index("Severity")] for r in rows[1:]} == {"high"}


def test_hall_and_street_reports(api: ApiHarness) -> None:
    seeded = seed_sites(api.conn, 1)
    site, camera, queue_zone = seeded.sites[0], seeded.cameras[0], seeded.zones[2]
    now = datetime.now(UTC)
    line = api.conn.execute("INSERT INTO zones (camera_id, name, kind, geometry, direction) VALUES"
                            " (%s, 'vạch-1', 'line', %s, %s) RETURNING id",
                            (camera, Jsonb([[0.1, 0.5], [0.9, 0.5]]), Jsonb([0, 1]))).fetchone()["id"]
    with api.conn.cursor() as cur:
        cur.executemany("INSERT INTO observations (time, camera_id, zone_id, metric, value) VALUES (%s,%s,%s,%s,%s)",
                        [(now - timedelta(minutes=1), camera, queue_zone, "queue_length", 6.0),
                         (now - timedelta(minutes=30), camera, line, "line_count:car:in", 12.0),
                         (now - timedelta(minutes=20), camera, line, "line_count:car:in", 8.0),
                         (now - timedelta(minutes=20), camera, line, "line_count:motorcycle:out", 40.0)])
    hall = api.client.get(f"/api/sites/{site}/hall", headers=api.user("manager").headers).json()
    assert hall["queue_now"][0]["queue_length"] == 6.0
    street = api.client.get(f"/api/sites/{site}/street", headers=api.user("operator").headers).json()
    counts = {(r["class_name"], r["direction"]): r["count"] for r in street["line_counts"]}
    assert counts == {("car", "in"): 20, ("motorcycle", "out"): 40}
    assert {r["type"]: r["total"] for r in street["incidents"]} == {"intrusion": 1, "officer_absent": 1}


FORMULAS = {"site": '=HYPERLINK("http://x","y")', "camera": "@SUM(1)", "department": "+1+cmd|' /C calc'!A0",
            "officer": "-2+3"}


def test_names_that_look_like_formulas_stay_text_in_every_export(api: ApiHarness) -> None:
    site, counter = arrange_counter_day(api)
    manager = api.user("manager")
    api.conn.execute("UPDATE sites SET name = %s WHERE id = %s", (FORMULAS["site"], site))
    api.conn.execute("UPDATE cameras SET name = %s WHERE site_id = %s", (FORMULAS["camera"], site))
    api.conn.execute("UPDATE counters SET department = %s, officer = %s WHERE id = %s",
                     (FORMULAS["department"], FORMULAS["officer"], counter))
    exports = {"counter-audit": {"site_id": site, "date_from": DAY.isoformat()}, "events": {}}
    expected = {"counter-audit": ("site", "department", "officer"), "events": ("site", "camera")}
    for name, params in exports.items():
        for lang in ("vi", "en"):
            text = api.client.get(f"/api/exports/{name}", params={**params, "format": "csv", "lang": lang},
                                  headers=manager.headers).content.decode("utf-8-sig")
            cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
            for key in expected[name]:
                assert "'" + FORMULAS[key] in cells, (name, key, cells)
            assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in cells), cells
            xlsx = api.client.get(f"/api/exports/{name}", params={**params, "format": "xlsx", "lang": lang},
                                  headers=manager.headers)
            sheet = load_workbook(io.BytesIO(xlsx.content)).active
            found = {cell.value: cell for row in sheet.iter_rows(min_row=2) for cell in row}
            for key in expected[name]:
                cell = found["'" + FORMULAS[key]]
                assert cell.data_type == "s", (name, key, cell.data_type)
            assert not any(cell.data_type == "f" for cell in found.values())
    audit = load_workbook(io.BytesIO(api.client.get("/api/exports/counter-audit", params={
        **exports["counter-audit"], "format": "xlsx"}, headers=manager.headers).content)).active
    header = [c.value for c in audit[1]]
    assert audit.cell(2, header.index("Quầy số") + 1).value == 1, "numbers stay numbers"
    assert audit.cell(2, header.index("Lượt phục vụ") + 1).data_type == "n"


def test_only_text_that_a_spreadsheet_would_run_is_changed() -> None:
    from ops_api.tables import inert

    assert [inert(v) for v in ("\t=1+1", "\r=1", "-", "Nguyễn Văn A", "2026-11-16", "a=b")] == [
        "'\t=1+1", "'\r=1", "'-", "Nguyễn Văn A", "2026-11-16", "a=b"]
    assert [inert(v) for v in (-3, -2.5, 0, None)] == [-3, -2.5, 0, None]


def test_a_name_with_a_pasted_control_character_still_exports_as_a_workbook(api: ApiHarness) -> None:
    # Names are typed, or pasted from other systems, by people: a control character (here a vertical tab and a
    # NUL-like \x01) cannot be written to XLSX, and openpyxl refused the whole workbook (a 500 found by fuzzing).
    site, counter = arrange_counter_day(api)
    manager = api.user("manager")
    api.conn.execute("UPDATE counters SET officer = %s WHERE id = %s", ("Trần\x0b Thị\x01 B", counter))
    for name, params in {"counter-audit": {"site_id": site, "date_from": DAY.isoformat()}, "events": {}}.items():
        answer = api.client.get(f"/api/exports/{name}", params={**params, "format": "xlsx"}, headers=manager.headers)
        assert answer.status_code == 200, (name, answer.text)
        load_workbook(io.BytesIO(answer.content))
    audit = load_workbook(io.BytesIO(api.client.get("/api/exports/counter-audit", params={
        "site_id": site, "date_from": DAY.isoformat(), "format": "xlsx"}, headers=manager.headers).content)).active
    assert "Trần Thị B" in [cell.value for row in audit.iter_rows(min_row=2) for cell in row]
