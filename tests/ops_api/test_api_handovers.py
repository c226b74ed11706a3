"""Shift handover over the API: the generated summary holds the shift's alarms raised, handled (by whom, how),
still open (state, assignee, last note) and the cameras offline, of the operator's sites only; the next operator,
and only that one, acknowledges it once; handovers are searchable and exported as an inert XLSX."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from openpyxl import load_workbook

from tests.support.api import ApiHarness, insert_event, seed_sites


def alarm_of(api: ApiHarness, event_id) -> int:
    return api.conn.execute("SELECT alarm_id FROM alarm_events WHERE event_id = %s", (event_id,)).fetchone()["alarm_id"]


def test_the_summary_holds_what_the_shift_raised_handled_left_open_and_the_cameras_offline(api: ApiHarness) -> None:
    seeded = seed_sites(api.conn, 2)
    site_a = seeded.sites[0]
    me = api.user("operator", site_ids=[site_a], name="ca-sang")
    helper = api.user("operator", site_ids=[site_a], name="tro-ly")
    api.conn.execute("UPDATE cameras SET state = 'offline', state_since = now() - interval '20 minutes'"
                     " WHERE id = %s", (seeded.cameras[0],))
    api.conn.execute("UPDATE cameras SET state = 'offline' WHERE id = %s", (seeded.cameras[1],))  # site B: not mine
    handled = alarm_of(api, insert_event(api.conn, site_a, seeded.cameras[0], type="wrong_way"))
    waiting = alarm_of(api, seeded.events[0])  # the intrusion an hour ago
    api.client.post(f"/api/alarms/{handled}/steps/1", headers=me.headers)
    api.client.post(f"/api/alarms/{handled}/steps/2", headers=me.headers)
    api.client.post(f"/api/alarms/{handled}/resolve", headers=me.headers, json={"note": "CSGT đã xử lý"})
    api.client.post(f"/api/alarms/{waiting}/assign", headers=me.headers, json={"assignee_id": helper.id})
    api.client.post(f"/api/alarms/{waiting}/notes", headers=me.headers, json={"text": "Đang chờ đội trật tự"})
    api.conn.execute("UPDATE alarms SET escalated_at = now() WHERE id = %s", (waiting,))
    draft = api.client.get("/api/handovers/draft", headers=me.headers).json()
    summary = draft["summary"]
    assert draft["site_ids"] == [site_a]
    assert summary["counts"] == {"raised": 3, "handled": 1, "open": 2, "escalated": 1, "cameras_offline": 1}
    assert {a["id"] for a in summary["raised"]} == {handled, waiting, alarm_of(api, seeded.events[1])}
    assert [(a["id"], a["resolved_by"], a["resolution"]) for a in summary["handled"]] == [
        (handled, "ca-sang", "CSGT đã xử lý")]
    still = {a["id"]: a for a in summary["open"]}
    assert still[waiting]["status"] == "assigned" and still[waiting]["assignee"] == "tro-ly"
    assert still[waiting]["last_note"] == "Đang chờ đội trật tự" and still[waiting]["escalated_at"]
    assert [c["id"] for c in summary["cameras_offline"]] == [seeded.cameras[0]]
    assert summary["cameras_offline"][0]["site"] == "Trung tâm Hành chính công 1"
    assert all(a["site"] == "Trung tâm Hành chính công 1" for a in summary["raised"])


def test_a_shift_is_handed_over_acknowledged_once_by_its_recipient_found_and_exported(api: ApiHarness) -> None:
    seeded = seed_sites(api.conn, 2)
    site_a, site_b = seeded.sites
    me = api.user("operator", site_ids=[site_a], name="ca-ngay")
    nxt = api.user("operator", site_ids=[site_a], name="ca-dem")
    other_site = api.user("operator", site_ids=[site_b])
    manager = api.user("manager", site_ids=[site_a])
    refused = api.client.post("/api/handovers", headers=me.headers, json={"to_user_id": other_site.id})
    assert refused.status_code == 422 and refused.json()["detail"][0]["code"] == "handover_recipient_not_eligible"
    assert api.client.post("/api/handovers", headers=me.headers, json={"to_user_id": me.id}).status_code == 422
    made = api.client.post("/api/handovers", headers=me.headers, json={
        "to_user_id": nxt.id, "remarks": "=HYPERLINK(\"http://x\") Camera cổng chính hay chập chờn",
        "since": (datetime.now(UTC) - timedelta(hours=8)).isoformat()})
    assert made.status_code == 201, made.text
    handover = made.json()
    assert handover["to_username"] == "ca-dem" and handover["summary"]["counts"]["raised"] == 2
    pending = api.client.get("/api/handovers", params={"pending": True}, headers=nxt.headers).json()["items"]
    assert [h["id"] for h in pending] == [handover["id"]]
    assert api.client.get("/api/handovers", params={"pending": True}, headers=me.headers).json()["items"] == []
    url = f"/api/handovers/{handover['id']}"
    assert api.client.post(f"{url}/acknowledge", headers=me.headers).json()["code"] == "handover_not_yours"
    assert api.client.get(url, headers=other_site.headers).status_code == 404
    assert api.client.get(url, headers=manager.headers).status_code == 200  # the site's manager reads it
    acked = api.client.post(f"{url}/acknowledge", headers=nxt.headers, json={"note": "Đã nhận ca"})
    assert acked.status_code == 200 and acked.json()["acknowledged_at"] and acked.json()["ack_note"] == "Đã nhận ca"
    assert api.client.post(f"{url}/acknowledge", headers=nxt.headers).status_code == 409
    found = api.client.get("/api/handovers", params={"q": "chập chờn"}, headers=manager.headers).json()["items"]
    assert [h["id"] for h in found] == [handover["id"]]
    assert api.client.get("/api/handovers", params={"q": "không có"}, headers=manager.headers).json()["items"] == []
    exported = api.client.get(f"{url}/export", headers=manager.headers)
    assert exported.status_code == 200
    book = load_workbook(io.BytesIO(exported.content))
    assert book.sheetnames == ["Ca trực", "Cảnh báo mới", "Đã xử lý", "Còn mở", "Camera mất kết nối"]
    shift = {row[0]: row[1] for row in book["Ca trực"].iter_rows(min_row=2, values_only=True)}
    assert shift["Người giao ca"] == "ca-ngay" and shift["Người nhận ca"] == "ca-dem"
    assert shift["Nhận xét của người giao"].startswith("'=HYPERLINK")  # inert, never a formula
    assert shift["Cảnh báo mới trong ca"] == 2
    assert [c.value for c in book["Còn mở"][1]][:3] == ["Mã cảnh báo", "Loại sự kiện", "Mức ưu tiên"]
    assert book["Còn mở"].max_row == 3
    audit = [r["action"] for r in api.conn.execute("SELECT action FROM audit_log WHERE object_type = 'handover'"
                                                   " ORDER BY id")]
    assert audit == ["handover.create", "handover.acknowledge"]
    # the next shift starts where this one was handed over
    draft = api.client.get("/api/handovers/draft", headers=nxt.headers).json()
    assert draft["shift_start"] == acked.json()["created_at"]
