"""The province overview: each center's month is the sum of its daily counter audits, the province's row is the sum
of its centers, the p90 wait is the p90 of the month's own waits; and the XLSX a provincial office files (title
block, Vietnamese headers, one row per center, totals, signatures; text cells never formulas)."""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from openpyxl import load_workbook

from tests.support.api import ApiHarness, ApiUser, insert_event
from tests.support.centers import Center, make_center, make_province, presence, rating, session

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


def last_month() -> date:
    first = datetime.now(UTC).astimezone(HCM).date().replace(day=1)
    return (first - timedelta(days=1)).replace(day=1)


def weekdays(month: date, count: int) -> list[date]:
    out, day = [], month
    while len(out) < count:
        if day.isoweekday() <= 5:
            out.append(day)
        day += timedelta(days=1)
    return out


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=HCM) + timedelta(hours=hour, minutes=minute)


@dataclass(frozen=True)
class Month:
    api: ApiHarness
    province: int
    centers: list[Center]
    month: date
    waits: list[float]
    manager: ApiUser


@pytest.fixture(scope="module")
def seeded(module_api: ApiHarness) -> Month:
    conn = module_api.conn
    province = make_province(conn, "dong-thap", "Tỉnh Đồng Tháp")
    centers = [make_center(conn, "dt-tinh", "=HYPERLINK(\"http://evil\")Trung tâm tỉnh", province_id=province,
                           level="province", counters=2, departments=("Tư pháp", "Đất đai")),
               make_center(conn, "dt-cao-lanh", "Trung tâm phường Cao Lãnh", province_id=province, counters=1)]
    make_center(conn, "other", "Trung tâm tỉnh khác", province_id=make_province(conn, "other", "Tỉnh khác"))
    month = last_month()
    waits: list[float] = []
    rng = np.random.default_rng(7)
    for c_index, center in enumerate(centers):
        for d_index, day in enumerate(weekdays(month, 4)):
            for counter in center.counters:
                gone = at(day, 9, 10 * (d_index + c_index))
                presence(conn, center, counter, at(day, 7, 30), at(day, 11, 30),
                         absent=[(gone, gone + timedelta(minutes=12 + d_index))])
                for k in range(3 + d_index):
                    wait = float(rng.integers(30, 1500))
                    waits.append(wait)
                    session(conn, center, counter, at(day, 8, 5 + 20 * k), float(rng.integers(120, 900)), wait)
                session(conn, center, counter, at(day, 10, 45), 300.0)  # a citizen not seen queueing
                rating(conn, center, counter, at(day, 9, 55), 5 - (d_index + c_index) % 4)
                rating(conn, center, counter, at(day, 10, 55), 4)
        insert_event(conn, center.site_id, center.camera_id, type="officer_absent", severity="medium")
    return Month(module_api, province, centers, month, waits, module_api.user("manager", province_ids=[province]))


def audits_of(seeded: Month, center: Center) -> list[dict]:
    client, headers = seeded.api.client, seeded.manager.headers
    out, day = [], seeded.month
    today = datetime.now(UTC).astimezone(HCM).date()
    while day.month == seeded.month.month and day <= today:
        found = client.get(f"/api/sites/{center.site_id}/counter-audit", params={"day": day.isoformat()},
                           headers=headers)
        assert found.status_code == 200, found.text
        out += found.json()
        day += timedelta(days=1)
    return out


def summed(audits: list[dict]) -> dict[str, float]:
    waits = sum(a["waits"] for a in audits)
    sessions = sum(a["sessions"] for a in audits)
    ratings = sum(a["ratings"] or 0 for a in audits)
    observed = sum(a["minutes_open"] - a["minutes_unobserved"] for a in audits)
    return {"minutes_open": sum(a["minutes_open"] for a in audits),
            "minutes_staffed": sum(a["minutes_staffed"] for a in audits),
            "absences": sum(len(a["absences"]) for a in audits), "citizens_served": sessions, "waits": waits,
            "wait_mean_s": sum((a["wait_mean_s"] or 0) * a["waits"] for a in audits) / waits,
            "service_mean_s": sum((a["service_mean_s"] or 0) * a["sessions"] for a in audits) / sessions,
            "presence_rate": sum(a["minutes_staffed"] for a in audits) / observed, "ratings": ratings,
            "satisfaction_rate": sum(a["ratings_satisfied"] or 0 for a in audits) / ratings}


def test_the_province_overview_is_the_sum_of_its_centers_audits(seeded: Month) -> None:
    response = seeded.api.client.get(f"/api/provinces/{seeded.province}/overview",
                                     params={"month": seeded.month.strftime("%Y-%m")}, headers=seeded.manager.headers)
    assert response.status_code == 200, response.text
    overview = response.json()
    assert [c["site_id"] for c in overview["centers"]] == [c.site_id for c in seeded.centers]
    everything: list[dict] = []
    for row, center in zip(overview["centers"], seeded.centers, strict=True):
        audits = audits_of(seeded, center)
        everything += audits
        expected = summed(audits)
        assert expected["absences"] > 0 and expected["citizens_served"] > 0
        for key, value in expected.items():
            assert row[key] == pytest.approx(value, rel=1e-6, abs=0.11), (center.site_id, key)
        assert row["counters"] == len(center.counters)
        assert row["open_alarms"] == 1
    total = overview["total"]
    for key, value in summed(everything).items():
        assert total[key] == pytest.approx(value, rel=1e-6, abs=0.21), key
    assert total["open_alarms"] == 2
    # A p90 is not a sum: it is the p90 of the month's waits themselves (PostgreSQL's percentile_cont = linear).
    assert total["wait_p90_s"] == pytest.approx(float(np.percentile(seeded.waits, 90)))
    trend = {t["site_id"]: t["days"] for t in overview["trend"]}
    first_center = trend[seeded.centers[0].site_id]
    assert sum(d["citizens_served"] for d in first_center) == overview["centers"][0]["citizens_served"]
    assert len(first_center) == (date(seeded.month.year + seeded.month.month // 12, seeded.month.month % 12 + 1, 1)
                                 - seeded.month).days


def test_the_xlsx_report_is_filed_as_a_provincial_office_files_it(seeded: Month) -> None:
    response = seeded.api.client.get("/api/exports/province-overview", headers=seeded.manager.headers, params={
        "province_id": seeded.province, "month": seeded.month.strftime("%Y-%m")})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    cells = {c.coordinate: c.value for row in sheet.iter_rows() for c in row if c.value is not None}
    assert cells["A1"] == "UBND TỈNH ĐỒNG THÁP"
    assert cells["E1"] == "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" and cells["E2"] == "Độc lập - Tự do - Hạnh phúc"
    assert cells["A6"].startswith("BÁO CÁO TÌNH HÌNH HOẠT ĐỘNG")
    assert cells["A7"] == f"Tháng {seeded.month.month:02d} năm {seeded.month.year}"
    assert [sheet.cell(9, i).value for i in range(1, 4)] == ["STT", "Trung tâm", "Cấp"]
    assert sheet.cell(9, 5).value == "Tỷ lệ có mặt trong giờ làm việc (%)"
    assert sheet.cell(10, 1).value == 1 and sheet.cell(10, 3).value == "Tỉnh"
    # A name that looks like a formula stays text.
    assert sheet.cell(10, 2).value == "'=HYPERLINK(\"http://evil\")Trung tâm tỉnh"
    assert sheet.cell(10, 2).data_type == "s"
    assert sheet.cell(11, 2).value == "Trung tâm phường Cao Lãnh" and sheet.cell(11, 3).value == "Xã/phường"
    assert sheet.cell(12, 2).value == "Tổng cộng"
    overview = seeded.api.client.get(f"/api/provinces/{seeded.province}/overview", headers=seeded.manager.headers,
                                     params={"month": seeded.month.strftime("%Y-%m")}).json()
    assert sheet.cell(12, 6).value == overview["total"]["citizens_served"]
    assert sheet.cell(12, 5).value == round(100 * overview["total"]["presence_rate"], 1)
    assert math.isclose(sheet.cell(12, 8).value, round(overview["total"]["wait_p90_s"] / 60, 1))
    assert "NGƯỜI LẬP BIỂU" in cells.values() and "THỦ TRƯỞNG ĐƠN VỊ" in cells.values()
    assert sheet.cell(10, 2).font.name == "Times New Roman"
    assert sheet.page_setup.orientation == "landscape"


def test_the_overview_of_another_province_is_not_found(seeded: Month, module_api: ApiHarness) -> None:
    stranger = module_api.user("manager", province_ids=[
        module_api.conn.execute("SELECT id FROM provinces WHERE code = 'other'").fetchone()["id"]])
    month = seeded.month.strftime("%Y-%m")
    assert module_api.client.get(f"/api/provinces/{seeded.province}/overview", params={"month": month},
                                 headers=stranger.headers).status_code == 404
    assert module_api.client.get("/api/exports/province-overview", params={"province_id": seeded.province,
                                 "month": month}, headers=stranger.headers).status_code == 404
