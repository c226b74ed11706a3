"""Events: filters and cursor pages, evidence, the operator workflow and its audit rows, and the errors a
client gets for bad input (named fields, no stack traces)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from psycopg.types.json import Jsonb

from tests.support.api import ApiHarness, insert_event, seed_sites, serve_in_process

XRW = {"X-Requested-With": "test"}


def test_event_list_pages_newest_first_without_gaps_or_repeats(api: ApiHarness) -> None:
    seeded = seed_sites(api.conn, 1)
    now = datetime.now(UTC)
    for minutes in range(7):
        insert_event(api.conn, seeded.sites[0], seeded.cameras[0], type="wrong_way",
                     when=now - timedelta(minutes=minutes))
    operator = api.user("operator")
    seen, cursor = [], None
    while True:
        params = {"type": "wrong_way", "limit": 3, **({"cursor": cursor} if cursor else {})}
        page = api.client.get("/api/events", params=params, headers=operator.headers).json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 7 and len({e["id"] for e in seen}) == 7
    times = [e["time"] for e in seen]
    assert times == sorted(times, reverse=True)
    bad = api.client.get("/api/events", params={"cursor": "not-a-cursor"}, headers=operator.headers)
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "query.cursor"


def test_event_filters_by_severity_status_camera_and_time(api: ApiHarness) -> None:
    seeded = seed_sites(api.conn, 2)
    manager = api.user("manager")

    def count(**params: object) -> int:
        return len(api.client.get("/api/events", params=params, headers=manager.headers).json()["items"])

    assert count() == 6
    assert count(severity="high") == 2
    assert count(severity=["high", "low"]) == 4
    assert count(camera_id=seeded.cameras[1]) == 3
    assert count(site_id=seeded.sites[0], type="long_wait") == 1
    assert count(since=(datetime.now(UTC) - timedelta(hours=2)).isoformat()) == 4
    # A time without an offset is read in the database's time zone, as PostgreSQL reads it.
    naive = (datetime.now(api.conn.info.timezone) - timedelta(hours=2)).replace(tzinfo=None).isoformat()
    assert count(since=naive) == 4
    mixed = api.client.get("/api/events", params={"since": naive, "until": datetime.now(UTC) - timedelta(hours=3)},
                           headers=manager.headers)
    assert mixed.status_code == 422 and mixed.json()["detail"][0]["field"] == "query.until"
    assert count(status="resolved") == 0
    wrong = api.client.get("/api/events", params={"severity": "urgent"}, headers=manager.headers)
    assert wrong.status_code == 422 and wrong.json()["detail"][0]["field"].startswith("query.severity")


def test_workflow_steps_change_status_and_each_leaves_an_audit_row(api: ApiHarness) -> None:
    seeded = seed_sites(api.conn, 1)
    event = seeded.events[0]
    operator, colleague, manager = api.user("operator"), api.user("operator"), api.user("manager")
    base = f"/api/events/{event}"

    acked = api.client.post(f"{base}/acknowledge", headers=operator.headers)
    assert acked.status_code == 200 and acked.json()["status"] == "acknowledged"
    assert api.client.post(f"{base}/acknowledge", headers=operator.headers).status_code == 409
    refused = api.client.post(f"{base}/assign", json={"assignee_id": manager.id}, headers=operator.headers)
    assert refused.status_code == 422 and refused.json()["detail"][0]["field"] == "body.assignee_id"
    assigned = api.client.post(f"{base}/assign", json={"assignee_id": colleague.id, "note": "quầy 1"},
                               headers=operator.headers)
    assert assigned.json()["status"] == "assigned" and assigned.json()["assignee_id"] == colleague.id
    api.client.post(f"{base}/notes", json={"text": "Cán bộ đã quay lại"}, headers=colleague.headers)
    resolved = api.client.post(f"{base}/resolve", json={"note": "xong"}, headers=colleague.headers)
    assert resolved.json()["status"] == "resolved"
    assert api.client.post(f"{base}/resolve", headers=colleague.headers).status_code == 409
    reopened = api.client.post(f"{base}/reopen", headers=operator.headers)
    assert reopened.json()["status"] == "assigned"
    assert [n["action"] for n in reopened.json()["notes"]] == ["acknowledge", "assign", "note", "resolve", "reopen"]
    assert api.client.post(f"{base}/resolve", headers=manager.headers).status_code == 403  # managers only read

    rows = api.conn.execute("SELECT action, username, before, after, time FROM audit_log WHERE object_type = 'event'"
                            " AND object_id = %s ORDER BY id", (str(event),)).fetchall()
    assert [r["action"] for r in rows] == ["event.acknowledge", "event.assign", "event.note", "event.resolve",
                                           "event.reopen"]
    assert [r["username"] for r in rows] == [operator.username, operator.username, colleague.username,
                                             colleague.username, operator.username]
    assert rows[0]["before"]["status"] == "new" and rows[0]["after"]["status"] == "acknowledged"
    assert rows[3]["after"] == {"status": "resolved", "assignee_id": colleague.id, "note": "xong"}
    assert all(r["time"] is not None for r in rows)


def test_evidence_is_served_from_the_data_folder_only(api: ApiHarness) -> None:
    seeded = seed_sites(api.conn, 1)
    jpeg = api.settings.data_dir / "evidence" / "e1.jpg"
    jpeg.parent.mkdir(parents=True)
    jpeg.write_bytes(b"\xff\xd8\xff\xe0fakejpeg\xff\xd9")
    good = insert_event(api.conn, seeded.sites[0], seeded.cameras[0], evidence_path="evidence/e1.jpg")
    escaping = insert_event(api.conn, seeded.sites[0], seeded.cameras[0], evidence_path="../../etc/passwd")
    operator = api.user("operator")
    listed = api.client.get(f"/api/events/{good}", headers=operator.headers).json()
    response = api.client.get(listed["evidence_url"], headers=operator.headers)
    assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg"
    assert response.content.startswith(b"\xff\xd8")
    assert api.client.get(f"/api/events/{escaping}/evidence", headers=operator.headers).status_code == 404


def test_bad_input_gets_a_4xx_naming_the_field_and_never_a_stack_trace(api: ApiHarness) -> None:
    seeded = seed_sites(api.conn, 1)
    admin = api.user("admin")
    missing = api.client.post(f"/api/events/{seeded.events[0]}/notes", json={}, headers=admin.headers)
    assert missing.status_code == 422 and missing.json()["detail"][0]["field"] == "body.text"
    not_uuid = api.client.get("/api/events/12", headers=admin.headers)
    assert not_uuid.status_code == 422 and not_uuid.json()["detail"][0]["field"] == "path.event_id"
    broken = api.client.post("/api/sites", content=b"{not json", headers={**admin.headers,
                                                                          "content-type": "application/json"})
    assert broken.status_code == 422 and "JSON" in broken.json()["detail"][0]["message"]
    huge = api.client.post("/api/sites", content=b"x" * 3_000_000, headers=admin.headers)
    assert huge.status_code == 413 and huge.json()["detail"][0]["field"] == "body"
    zone = api.client.post(f"/api/cameras/{seeded.cameras[0]}/zones", headers=admin.headers, json={
        "name": "lối vào", "kind": "restricted", "points": [[0.1, 0.1], [0.9, 0.9], [0.9, 0.1], [0.1, 0.9]]})
    assert zone.status_code == 422
    error = zone.json()["detail"][0]
    assert error["field"].startswith("body.points") and "lối vào" in error["message"] and "point" in error["message"]
    outside = api.client.post(f"/api/cameras/{seeded.cameras[0]}/zones", headers=admin.headers, json={
        "name": "q", "kind": "queue", "points": [[0.1, 0.1], [1.5, 0.1], [0.5, 0.5]]})
    outside_error = outside.json()["detail"][0]
    assert (outside_error["field"], outside_error["message"]) == (
        "body.points.1", "zone 'q', point 2: (1.5, 0.1) is outside the image (0..1)")
    assert outside_error["code"] == "zone_point_outside"  # and its params, for the console to translate
    hours = api.client.post("/api/sites", headers=admin.headers, json={
        "code": "x1", "name": "X", "working_hours": {"weekly": {"mon": [["13:30", "11:00"]]}}})
    assert hours.status_code == 422 and hours.json()["detail"][0]["field"].startswith("body.working_hours.weekly")
    for response in (missing, not_uuid, broken, huge, zone, hours):
        assert "Traceback" not in response.text


def test_a_server_fault_answers_500_with_a_request_id_only(api: ApiHarness) -> None:
    admin = api.user("admin")
    api.conn.execute("ALTER TABLE audit_log RENAME TO audit_log_moved")  # every audited change now fails
    try:
        response = api.client.post("/api/sites", json={"code": "s1", "name": "S"}, headers=admin.headers)
    finally:
        api.conn.execute("ALTER TABLE audit_log_moved RENAME TO audit_log")
    assert response.status_code == 500
    body = response.json()
    assert body["detail"] == "internal error" and body["request_id"]
    assert "audit_log" not in response.text and "Traceback" not in response.text


def test_evidence_is_served_from_either_folder_layout(api: ApiHarness) -> None:
    """Tamper pictures used to be kept at evidence/camera-<id>/tamper-<event>.jpg; events keep the path they
    were stored with, so those stay viewable beside the one layout of new pictures."""
    seeded = seed_sites(api.conn, 1)
    camera = seeded.cameras[0]
    older = api.settings.data_dir / "evidence" / f"camera-{camera}" / "tamper-0b6f.jpg"
    newer = api.settings.data_dir / "evidence" / str(camera) / "2026-11-22" / "0b70-start.jpg"
    operator = api.user("operator")
    for picture in (older, newer):
        picture.parent.mkdir(parents=True)
        picture.write_bytes(b"\xff\xd8\xff\xe0" + picture.name.encode() + b"\xff\xd9")
        event = insert_event(api.conn, seeded.sites[0], camera, type="camera_tamper", evidence_path=str(picture))
        response = api.client.get(f"/api/events/{event}/evidence", headers=operator.headers)
        assert response.status_code == 200 and picture.name.encode() in response.content


def test_evidence_written_under_a_relative_data_folder_is_served(db_url: str, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The default data folder is ``var``, relative to where vigil runs: the worker's pictures must still be
    found by the API (it used to look for var/var/evidence/... and answer 404)."""
    import numpy as np

    from core.types import Detections, Event, EventType, Severity
    from vision.evidence import write_evidence

    monkeypatch.chdir(tmp_path)
    data_dir = Path("var")
    with serve_in_process(db_url, data_dir) as api:
        seeded = seed_sites(api.conn, 1)
        event = Event(EventType.INTRUSION, seeded.cameras[0], datetime.now(UTC), Severity.HIGH)
        write_evidence(data_dir, event, np.zeros((72, 96, 3), np.uint8), Detections.empty())  # as the worker does
        stored = insert_event(api.conn, seeded.sites[0], seeded.cameras[0], evidence_path=event.evidence_path)
        response = api.client.get(f"/api/events/{stored}/evidence", headers=api.user("operator").headers)
        assert response.status_code == 200 and response.content.startswith(b"\xff\xd8")


def test_events_show_addresses_of_their_pictures_never_server_paths(api: ApiHarness) -> None:
    """Rules record each picture's file in ``attributes.evidence``; the API, the live stream and the
    counter audit hand out its address instead (the server's folders are nobody's business)."""
    seeded = seed_sites(api.conn, 1)
    folder = api.settings.data_dir / "evidence" / str(seeded.cameras[0]) / "2026-12-06"
    folder.mkdir(parents=True)
    pictures = {}
    for label in ("start", "end"):
        (folder / f"x-{label}.jpg").write_bytes(b"\xff\xd8\xff\xe0" + label.encode() + b"\xff\xd9")
        pictures[label] = str(folder / f"x-{label}.jpg")
    event = insert_event(api.conn, seeded.sites[0], seeded.cameras[0], type="officer_absent",
                         counter_id=seeded.counters[0], evidence_path=pictures["start"])
    api.conn.execute("UPDATE events SET attributes = %s WHERE id = %s", (Jsonb({"evidence": pictures}), event))
    manager, operator = api.user("manager"), api.user("operator")
    shown = api.client.get(f"/api/events/{event}", headers=operator.headers)
    listed = api.client.get("/api/events", headers=operator.headers)
    for answer in (shown, listed):
        assert answer.status_code == 200 and str(api.settings.data_dir) not in answer.text
    urls = shown.json()["attributes"]["evidence"]
    assert set(urls) == {"start", "end"}
    end = api.client.get(urls["end"], headers=operator.headers)
    assert end.status_code == 200 and b"end" in end.content
    missing = api.client.get(f"/api/events/{event}/evidence?label=nope", headers=operator.headers)
    assert missing.status_code == 404
    day = shown.json()["time"][:10]
    audit = api.client.get(f"/api/counters/{seeded.counters[0]}/audit", params={"day": day},
                           headers=manager.headers)
    assert audit.status_code == 200 and str(api.settings.data_dir) not in audit.text
