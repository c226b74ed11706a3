"""The alarm center over the API: the alarm list (grouped floods, priority order), the procedure checklist ticked
step by step (each tick an audit row) and the required-step check when resolving, the workflow copied onto the
alarm's events, alarm rules and procedures as managers edit them within their sites, and the supervisor flag."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from tests.support.api import ApiHarness, insert_event, seed_sites


def alarm_of(api: ApiHarness, event_id: uuid.UUID) -> int:
    return api.conn.execute("SELECT alarm_id FROM alarm_events WHERE event_id = %s", (event_id,)).fetchone()["alarm_id"]


def audit_actions(api: ApiHarness, alarm_id: int) -> list[dict]:
    return api.conn.execute("SELECT action, username, before, after FROM audit_log WHERE object_type = 'alarm'"
                            " AND object_id = %s ORDER BY id", (str(alarm_id),)).fetchall()


def test_a_flood_is_one_row_with_its_count_and_the_list_sorts_by_priority_then_time(api: ApiHarness) -> None:
    seeded = seed_sites(api.conn, 1)
    site, camera = seeded.sites[0], seeded.cameras[0]
    operator = api.user("operator", site_ids=[site])
    now = datetime.now(UTC)
    flood = [insert_event(api.conn, site, camera, type="wrong_way", when=now - timedelta(minutes=9 - i))
             for i in range(8)]
    page = api.client.get("/api/alarms", headers=operator.headers).json()["items"]
    flood_rows = [a for a in page if a["type"] == "wrong_way"]
    assert len(flood_rows) == 1
    assert flood_rows[0]["event_count"] == 8 and flood_rows[0]["last_event_id"] == str(flood[-1])
    # seed_sites gave an intrusion (P1, an hour ago), an absence (P3, now) and a day-old wait (no alarm)
    assert [(a["type"], a["priority"]) for a in page] == [("intrusion", 1), ("wrong_way", 2), ("officer_absent", 3)]
    detail = api.client.get(f"/api/alarms/{flood_rows[0]['id']}", headers=operator.headers).json()
    assert [e["id"] for e in detail["events"]] == [str(e) for e in reversed(flood)]
    assert detail["latest_event"]["id"] == str(flood[-1])
    assert detail["clip_url"] == f"/api/events/{flood[-1]}/clip.m3u8"
    assert detail["ack_due"] > detail["raised_at"]
    # the day-old event is stored and searchable, without an alarm
    events = api.client.get("/api/events", params={"type": "long_wait"}, headers=operator.headers).json()["items"]
    assert len(events) == 1


def test_the_checklist_is_ticked_each_tick_audited_and_resolving_with_a_step_left_needs_a_reason(
        api: ApiHarness) -> None:
    seeded = seed_sites(api.conn, 1)
    operator = api.user("operator", site_ids=seeded.sites)
    alarm = alarm_of(api, seeded.events[0])  # the intrusion: "Xem lại clip", "Gọi đội trật tự khu vực" required
    url = f"/api/alarms/{alarm}"
    detail = api.client.get(url, headers=operator.headers).json()
    assert [(s["position"], s["required"], s["done_at"]) for s in detail["steps"]] == [(1, True, None),
                                                                                       (2, True, None),
                                                                                       (3, False, None)]
    assert detail["unticked_required"] == 2
    ticked = api.client.post(f"{url}/steps/1", headers=operator.headers, json={"note": "Clip rõ, 2 người trèo rào"})
    assert ticked.status_code == 200
    step = ticked.json()["steps"][0]
    assert step["done_at"] and step["done_by_name"] == operator.username and step["note"] == "Clip rõ, 2 người trèo rào"
    assert ticked.json()["unticked_required"] == 1
    refused = api.client.post(f"{url}/resolve", headers=operator.headers, json={"note": "xong"})
    assert refused.status_code == 422
    assert refused.json()["detail"][0] | {"message": ""} == {"field": "body.reason", "message": "",
                                                             "code": "alarm_steps_unticked", "params": {"count": 1}}
    assert api.client.get(url, headers=operator.headers).json()["status"] == "new"
    assert api.client.post(f"{url}/steps/9", headers=operator.headers).status_code == 404
    resolved = api.client.post(f"{url}/resolve", headers=operator.headers,
                               json={"reason": "Đội trật tự đã có mặt trước khi gọi"})
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"
    assert api.client.post(f"{url}/steps/2", headers=operator.headers).status_code == 409
    audit = audit_actions(api, alarm)
    assert [a["action"] for a in audit] == ["alarm.step", "alarm.resolve"]
    assert audit[0]["after"]["step"]["position"] == 1 and audit[0]["username"] == operator.username
    assert audit[1]["after"]["reason"] == "Đội trật tự đã có mặt trước khi gọi"
    assert audit[1]["after"]["unticked"] == ["Gọi đội trật tự khu vực"]
    event = api.client.get(f"/api/events/{seeded.events[0]}", headers=operator.headers).json()
    assert event["status"] == "resolved"  # the alarm's step is its events' too


def test_with_every_required_step_ticked_an_alarm_resolves_without_a_reason(api: ApiHarness) -> None:
    seeded = seed_sites(api.conn, 1)
    operator = api.user("operator")
    alarm = alarm_of(api, seeded.events[0])
    url = f"/api/alarms/{alarm}"
    for position in (1, 2):
        assert api.client.post(f"{url}/steps/{position}", headers=operator.headers).status_code == 200
    unticked = api.client.post(f"{url}/steps/2", headers=operator.headers, json={"done": False})
    assert unticked.json()["steps"][1]["done_at"] is None
    assert api.client.post(f"{url}/resolve", headers=operator.headers).status_code == 422
    api.client.post(f"{url}/steps/2", headers=operator.headers, json={"note": "Đã gọi"})
    assert api.client.post(f"{url}/resolve", headers=operator.headers).json()["status"] == "resolved"
    assert [a["action"] for a in audit_actions(api, alarm)] == ["alarm.step", "alarm.step", "alarm.untick",
                                                                "alarm.step", "alarm.resolve"]
    history = api.client.get(url, headers=operator.headers).json()["notes"]
    assert [n["action"] for n in history] == ["step", "step", "untick", "step", "resolve"]


def test_acknowledge_assign_reopen_are_copied_onto_the_alarms_events(api: ApiHarness) -> None:
    seeded = seed_sites(api.conn, 1)
    site, camera = seeded.sites[0], seeded.cameras[0]
    operator = api.user("operator")
    other = api.user("operator", site_ids=[site])
    events = [insert_event(api.conn, site, camera, type="crowd") for _ in range(3)]
    alarm = alarm_of(api, events[0])
    url = f"/api/alarms/{alarm}"
    assert api.client.post(f"{url}/acknowledge", headers=operator.headers, json={"note": "đang xem"}).json()[
        "status"] == "acknowledged"
    assert api.client.post(f"{url}/acknowledge", headers=operator.headers).status_code == 409
    assigned = api.client.post(f"{url}/assign", headers=operator.headers, json={"assignee_id": other.id})
    assert assigned.json()["status"] == "assigned" and assigned.json()["assignee_id"] == other.id
    statuses = api.conn.execute("SELECT status, assignee_id FROM events WHERE id = ANY(%s)", (events,)).fetchall()
    assert {(s["status"], s["assignee_id"]) for s in statuses} == {("assigned", other.id)}
    api.client.post(f"{url}/steps/1", headers=operator.headers)
    api.client.post(f"{url}/steps/2", headers=operator.headers)
    api.client.post(f"{url}/resolve", headers=operator.headers)
    reopened = api.client.post(f"{url}/reopen", headers=operator.headers, json={"note": "lại tụ tập"})
    assert reopened.json()["status"] == "assigned"
    assert api.conn.execute("SELECT DISTINCT status FROM events WHERE id = ANY(%s)", (events,)).fetchone()[
        "status"] == "assigned"
    manager = api.user("manager")
    assert api.client.post(f"{url}/acknowledge", headers=manager.headers).status_code == 403
    assert api.client.get(url, headers=manager.headers).status_code == 200


def test_managers_edit_rules_and_procedures_of_their_own_sites_only(api: ApiHarness) -> None:
    seeded = seed_sites(api.conn, 2)
    site_a, site_b = seeded.sites
    manager = api.user("manager", site_ids=[site_a])
    night = {"weekly": {d: [["00:00", "06:00"], ["18:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri",
                                                                             "sat", "sun")}}
    created = api.client.post("/api/alarm-rules", headers=manager.headers, json={
        "site_id": site_a, "camera_id": seeded.cameras[0], "event_type": "intrusion", "priority": 2,
        "schedule": night, "auto_close_s": 1800})
    assert created.status_code == 201, created.text
    rule = created.json()
    assert rule["schedule"] == night and rule["priority"] == 2  # in the site's zone: no timezone stored
    assert api.client.post("/api/alarm-rules", headers=manager.headers, json={
        "site_id": site_b, "event_type": "intrusion"}).status_code == 403
    assert api.client.post("/api/alarm-rules", headers=manager.headers, json={
        "event_type": "intrusion", "priority": 5}).json()["code"] == "every_site_outside_scope"
    wrong = api.client.post("/api/alarm-rules", headers=manager.headers, json={
        "site_id": site_a, "camera_id": seeded.cameras[1], "event_type": "crowd"})
    assert wrong.status_code == 422 and wrong.json()["detail"][0]["code"] == "camera_not_of_site"
    bad = api.client.post("/api/alarm-rules", headers=manager.headers, json={
        "site_id": site_a, "event_type": "crowd", "schedule": {"weekly": {"mon": [["18:00", "06:00"]]}}})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["field"] == "body.schedule.weekly.mon[0]"
    assert bad.json()["detail"][0]["code"] == "invalid_alarm_schedule"
    twice = api.client.post("/api/alarm-rules", headers=manager.headers, json={
        "site_id": site_a, "camera_id": seeded.cameras[0], "event_type": "intrusion"})
    assert twice.status_code == 409
    changed = api.client.patch(f"/api/alarm-rules/{rule['id']}", headers=manager.headers, json={"raises": False})
    assert changed.json()["raises"] is False
    default = next(r for r in api.client.get("/api/alarm-rules", headers=manager.headers).json()
                   if r["site_id"] is None and r["event_type"] == "intrusion")
    assert api.client.patch(f"/api/alarm-rules/{default['id']}", headers=manager.headers,
                            json={"priority": 5}).status_code == 403
    seen = api.client.get("/api/alarm-rules", headers=manager.headers).json()
    assert {r["site_id"] for r in seen} == {None, site_a}
    # procedures: the site's own checklist for new alarms
    saved = api.client.put("/api/procedures", headers=manager.headers, json={
        "site_id": site_a, "event_type": "crowd", "steps": [{"text": "Xem lại clip"},
                                                            {"text": "Báo công an phường", "required": False}]})
    assert saved.status_code == 200, saved.text
    assert api.client.put("/api/procedures", headers=manager.headers, json={
        "site_id": site_b, "event_type": "crowd", "steps": []}).status_code == 403
    alarm = alarm_of(api, insert_event(api.conn, site_a, seeded.cameras[0], type="crowd"))
    steps = api.client.get(f"/api/alarms/{alarm}", headers=api.user("operator").headers).json()["steps"]
    assert [(s["text"], s["required"]) for s in steps] == [("Xem lại clip", True), ("Báo công an phường", False)]
    assert api.client.post("/api/alarm-rules", headers=api.user("operator").headers, json={
        "site_id": site_a, "event_type": "crowd"}).status_code == 403
    actions = [r["action"] for r in api.conn.execute(
        "SELECT action FROM audit_log WHERE action LIKE 'alarm_rule.%%' OR action LIKE 'procedure.%%' ORDER BY id")]
    assert actions == ["alarm_rule.create", "alarm_rule.update", "procedure.save"]


def test_a_rule_made_over_the_api_decides_the_next_event(api: ApiHarness) -> None:
    seeded = seed_sites(api.conn, 1)
    admin = api.user("admin")
    api.client.post("/api/alarm-rules", headers=admin.headers, json={
        "site_id": seeded.sites[0], "zone_id": seeded.zones[2], "event_type": "crowd", "raises": False})
    quiet = uuid.uuid4()
    api.conn.execute("INSERT INTO events (id, time, site_id, camera_id, zone_id, type, severity) VALUES"
                     " (%s, now(), %s, %s, %s, 'crowd', 'high')",
                     (quiet, seeded.sites[0], seeded.cameras[0], seeded.zones[2]))
    assert api.conn.execute("SELECT 1 FROM alarm_events WHERE event_id = %s", (quiet,)).fetchone() is None
    loud = insert_event(api.conn, seeded.sites[0], seeded.cameras[0], type="crowd")  # no zone: the default
    assert alarm_of(api, loud)


def test_only_operators_and_admins_can_be_supervisors(api: ApiHarness) -> None:
    admin = api.user("admin")
    operator = api.user("operator")
    manager = api.user("manager")
    made = api.client.patch(f"/api/users/{operator.id}", headers=admin.headers, json={"supervisor": True})
    assert made.status_code == 200 and made.json()["supervisor"] is True
    assert api.client.get("/api/auth/me", headers=operator.headers).json()["supervisor"] is True
    refused = api.client.patch(f"/api/users/{manager.id}", headers=admin.headers, json={"supervisor": True})
    assert refused.status_code == 422 and refused.json()["detail"][0]["code"] == "supervisor_needs_operator"
    demoted = api.client.patch(f"/api/users/{operator.id}", headers=admin.headers, json={"role": "manager"})
    assert demoted.status_code == 422
    created = api.client.post("/api/users", headers=admin.headers, json={
        "username": "truong.ca", "password": "a-long-first-passphrase", "role": "operator", "supervisor": True})
    assert created.status_code == 201 and created.json()["supervisor"] is True
    audit = api.conn.execute("SELECT after FROM audit_log WHERE action = 'user.update' AND object_id = %s",
                             (str(operator.id),)).fetchone()
    assert audit["after"]["supervisor"] is True
