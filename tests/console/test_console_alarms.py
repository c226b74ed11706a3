"""The alarm feed in a real browser: an event the store writer lands appears within 2 s without a reload,
and an operator acknowledges and resolves it in the page, each step in its history and the audit log."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

import psycopg
from prometheus_client import CollectorRegistry

from core.settings import StoreSettings
from core.types import Event, EventType, Severity
from store.db import connect
from store.writer import StoreWriter
from tests.support.browser import ConsoleSite, shoot, wait_until


def test_a_new_event_appears_live_and_is_acknowledged_and_resolved(console: ConsoleSite, tmp_path) -> None:
    page = console.open("operator", "alarms", ready="#live-state[data-state=live]")
    rows_before = page.locator("#event-rows tr[data-event]").count()
    city = console.city
    event = Event(EventType.INTRUSION, city.street_cameras[0], datetime.now(UTC), Severity.HIGH,
                  site_id=city.street, zone_id=city.zones["no_stopping"], attributes={"class_name": "person"},
                  id=uuid.uuid4())
    with StoreWriter(console.db_url, StoreSettings(), tmp_path / "spool", registry=CollectorRegistry(), threads=1,
                     maintenance=False) as writer:
        writer.write_event(event)
        assert writer.flush(timeout=5)
        landed = time.monotonic()
    row = page.locator(f"#event-rows tr[data-event='{event.id}']")
    row.wait_for(timeout=2000)
    assert time.monotonic() - landed < 2.0
    assert page.locator("#event-rows tr[data-event]").count() == rows_before + 1
    assert "Xâm nhập khu vực cấm" in row.inner_text()

    row.click()
    page.wait_for_selector("#btn-acknowledge")
    shoot(page, "alarms-detail-new")
    page.fill("#event-note", "Đã cử tổ tuần tra")
    page.click("#btn-acknowledge")
    page.wait_for_selector("#event-status:has-text('Đã tiếp nhận')")
    page.click("#btn-resolve")
    page.wait_for_selector("#event-status:has-text('Đã xử lý')")
    page.wait_for_selector(f"#event-rows tr[data-event='{event.id}'][data-status=resolved]")
    history = page.locator("#event-history li").all_inner_texts()
    assert len(history) == 2 and "Tiếp nhận" in history[0] and "Đã cử tổ tuần tra" in history[0]
    assert "Xử lý xong" in history[1]
    shoot(page, "alarms-detail-resolved")

    with connect(console.db_url) as conn:
        audit = conn.execute("SELECT action, username, after FROM audit_log WHERE object_type = 'event'"
                             " AND object_id = %s ORDER BY id", (str(event.id),)).fetchall()
        stored = conn.execute("SELECT status FROM events WHERE id = %s", (event.id,)).fetchone()
    assert [a["action"] for a in audit] == ["event.acknowledge", "event.resolve"]
    assert {a["username"] for a in audit} == {console.user("operator")["username"]}
    assert audit[0]["after"]["note"] == "Đã cử tổ tuần tra"
    assert stored["status"] == "resolved"
    assert page.problems == []
    page.context.close()


def test_event_detail_shows_the_evidence_with_its_zone(console: ConsoleSite) -> None:
    event_id = console.city.events["wrong_way"]
    page = console.open("operator", f"alarms/{event_id}", ready="#evidence-image")
    wait_until(page, "document.getElementById('evidence-image').naturalWidth > 0")
    assert page.locator("#event-detail svg.zones polyline[data-zone='vach-dem-le-loi']").count() == 1
    assert "Đi ngược chiều" in page.inner_text("#event-detail")
    shoot(page, "alarms-evidence")
    assert page.problems == []
    page.context.close()


def test_a_manager_reads_alarms_but_has_no_workflow_buttons(console: ConsoleSite) -> None:
    event_id = console.city.events["stopped"]
    page = console.open("manager", f"alarms/{event_id}", ready="#event-status")
    assert page.locator("#btn-acknowledge").count() == 0
    with psycopg.connect(console.db_url) as conn:
        status = conn.execute("SELECT status FROM events WHERE id = %s", (event_id,)).fetchone()[0]
    assert status == "new"
    assert page.problems == []
    page.context.close()
