"""The public hall screen's data: only with the site's display key (none, a wrong one, a rotated-away one: 401; too
many wrong ones from an address: 429 even with the right one), rotated by admins only (audited, the key never
stored nor logged), and no personal data: counters, tickets served and the forecast wait per department."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from core.redact import redact
from tests.support.api import ApiHarness, serve_in_process
from tests.support.centers import Center, add_officer, make_center, observe, session, ticket

ALWAYS_OPEN: dict = {}


def center_with_a_queue(api: ApiHarness) -> tuple[Center, int]:
    conn = api.conn
    hall = make_center(conn, "hcc-q3", "Trung tâm hành chính công quận 3", counters=3,
                       departments=("Tư pháp", "Tư pháp", "Đất đai"), hours=ALWAYS_OPEN)
    officer = add_officer(conn, hall.site_id, "Nguyễn Văn Bí Mật", "Q3-01")
    conn.execute("INSERT INTO officer_rosters (counter_id, officer_id, weekdays, valid_from) VALUES"
                 " (%s, %s, '{1,2,3,4,5,6,7}', current_date - 1)", (hall.counters[0].id, officer))
    now = datetime.now(UTC)
    # Counter 1 staffed and serving, counter 2 staffed, counter 3 (Đất đai) away.
    for counter, present in zip(hall.counters, (1.0, 1.0, 0.0), strict=True):
        observe(conn, hall.camera_id, counter.staff_zone, "officer_present", now - timedelta(seconds=5), present)
    observe(conn, hall.camera_id, hall.counters[0].customer_zone, "citizen_served", now - timedelta(seconds=5), 1.0)
    for minutes in (50, 40, 30):  # Tư pháp serves in 240 s lately
        session(api.conn, hall, hall.counters[1], now - timedelta(minutes=minutes), 240.0, 60.0)
    return hall, officer


def rotate(api: ApiHarness, site_id: int, headers: dict[str, str]) -> httpx.Response:
    return api.client.post(f"/api/sites/{site_id}/display-key", json={}, headers=headers)


def board(api: ApiHarness, site_id: int, key: str | None) -> httpx.Response:
    return api.client.get(f"/api/hall/{site_id}/board", headers={} if key is None else {"X-Display-Key": key})


def test_the_board_needs_the_sites_current_display_key(api: ApiHarness, caplog: pytest.LogCaptureFixture) -> None:
    hall, _ = center_with_a_queue(api)
    assert board(api, hall.site_id, None).status_code == 401  # no key set yet, none sent
    admin = api.user("admin")
    made = rotate(api, hall.site_id, admin.headers)
    assert made.status_code == 201, made.text
    key = made.json()["key"]
    assert made.json()["url"] == f"/hall/{hall.site_id}#key={key}"
    with caplog.at_level(logging.DEBUG):
        shown = board(api, hall.site_id, key)
    assert shown.status_code == 200, shown.text
    assert shown.headers["cache-control"] == "no-store"
    assert key not in caplog.text
    refused = board(api, hall.site_id, key[:-2] + "xx")
    assert refused.status_code == 401 and refused.json()["code"] == "display_key_wrong"
    assert board(api, hall.site_id, None).status_code == 401
    other = make_center(api.conn, "hcc-q4", "Trung tâm quận 4")
    assert board(api, other.site_id, key).status_code == 401  # a key opens its own site only
    # Rotated: the old key stops at once, the new one works; both rotations are audited without the key.
    newer = rotate(api, hall.site_id, admin.headers).json()["key"]
    assert board(api, hall.site_id, key).status_code == 401
    assert board(api, hall.site_id, newer).status_code == 200
    rows = api.conn.execute("SELECT action, after::text AS after, site_ids FROM audit_log"
                            " WHERE action = 'display.rotate'").fetchall()
    assert len(rows) == 2 and all(r["site_ids"] == [hall.site_id] for r in rows)
    assert not any(key[4:] in r["after"] or newer[4:] in r["after"] for r in rows)
    stored = api.conn.execute("SELECT key_hash FROM hall_displays").fetchone()["key_hash"]
    assert newer not in stored and len(stored) == 64
    assert redact(f"GET /hall/{hall.site_id}?key={newer} 200") == f"GET /hall/{hall.site_id}?key=*** 200"


def test_only_admins_of_the_site_rotate_the_key(api: ApiHarness) -> None:
    hall, _ = center_with_a_queue(api)
    other = make_center(api.conn, "hcc-q5", "Trung tâm quận 5")
    for role in ("manager", "operator", "engineer"):
        assert rotate(api, hall.site_id, api.user(role).headers).status_code == 403
    assert rotate(api, hall.site_id, api.user("admin", site_ids=[other.site_id]).headers).status_code == 404
    assert rotate(api, hall.site_id, api.user("admin", site_ids=[hall.site_id]).headers).status_code == 201


def test_the_board_shows_counters_and_forecasts_and_no_personal_data(api: ApiHarness) -> None:
    hall, _ = center_with_a_queue(api)
    key = rotate(api, hall.site_id, api.user("admin").headers).json()["key"]
    now = datetime.now(UTC)
    observe(api.conn, hall.camera_id, hall.queue_zone, "queue_length", now - timedelta(seconds=5), 4.0)
    shown = board(api, hall.site_id, key).json()
    assert [(c["number"], c["open"]) for c in shown["counters"]] == [(1, True), (2, True), (3, False)]
    justice = next(d for d in shown["departments"] if d["department"] == "Tư pháp")
    # Four people ahead (the queue zone), two counters open and one of them busy, 240 s a citizen lately.
    assert (justice["waiting"], justice["counters_open"], justice["source"]) == (4.0, 2, "cameras")
    assert justice["forecast_wait_s"] == pytest.approx(240 / 3 + 4 * 240 / 2)
    text = board(api, hall.site_id, key).text
    assert "Bí Mật" not in text and "officer" not in text and "absen" not in text and "evidence" not in text
    # A ticket system connected: the tickets issued and not yet called are the people ahead.
    for n in range(1, 6):
        ticket(api.conn, hall, now - timedelta(minutes=20 - n), "issued", f"A{n:03d}", service="tư pháp ")
    ticket(api.conn, hall, now - timedelta(minutes=10), "called", "A001", hall.counters[0])
    ticket(api.conn, hall, now - timedelta(minutes=9), "called", "A002", hall.counters[1])
    ticket(api.conn, hall, now - timedelta(minutes=2), "served", "A002", hall.counters[1])
    shown = board(api, hall.site_id, key).json()
    assert [c["serving"] for c in shown["counters"]] == ["A001", None, None]
    justice = next(d for d in shown["departments"] if d["department"] == "Tư pháp")
    assert (justice["waiting"], justice["source"]) == (3, "tickets")
    assert justice["forecast_wait_s"] == pytest.approx(240 / 3 + 3 * 240 / 2)


def test_too_many_wrong_keys_lock_the_address_out(db_url: str, tmp_path: Path) -> None:
    with serve_in_process(db_url, tmp_path) as api:
        api.settings.centers.hall_max_wrong_keys = 3
        hall, _ = center_with_a_queue(api)
        key = rotate(api, hall.site_id, api.user("admin").headers).json()["key"]
        for _ in range(3):
            assert board(api, hall.site_id, "vgh_wrong").status_code == 401
        assert board(api, hall.site_id, "vgh_wrong").status_code == 401  # the one too many locks the address
        locked = board(api, hall.site_id, key)
        assert locked.status_code == 429 and locked.json()["code"] == "display_key_locked"
        assert int(locked.headers["retry-after"]) > 0
        api.conn.execute("UPDATE login_attempts SET locked_until = now() - interval '1 s'")
        assert board(api, hall.site_id, key).status_code == 200
        # Sign-in counts were not touched by the wrong keys.
        assert api.conn.execute("SELECT count(*) AS n FROM login_attempts WHERE username <> '#display'"
                                ).fetchone()["n"] == 0
