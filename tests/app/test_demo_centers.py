"""The demo city's service centers: two centers of one province, two officers sharing counter 1 by a roster (a
second start adds nothing), and a hall screen whose key opens the board of the demo's center."""

from __future__ import annotations

from pathlib import Path

import psycopg

from cameras.crypto import SecretBox
from store.config_io import import_config
from store.registry import get_site
from tests.support.api import serve_in_process
from vigil.cli.demo_city import city_config, hall_key, service_centers


def test_the_demo_has_a_province_two_officers_a_roster_and_a_hall_screen(db: psycopg.Connection, db_url: str,
                                                                        tmp_path: Path) -> None:
    import_config(db, city_config("rtsp://127.0.0.1:9"), SecretBox.from_key_file(tmp_path / "secret.key"))
    center = service_centers(db)
    assert service_centers(db) == center  # a second start
    sites = db.execute("SELECT s.code, s.level, p.name FROM sites s JOIN provinces p ON p.id = s.province_id"
                       " ORDER BY s.code").fetchall()
    assert [(s["code"], s["level"]) for s in sites] == [("hcc-demo", "province"), ("xa-demo", "commune")]
    roster = db.execute("SELECT o.full_name, to_char(r.start_time, 'HH24:MI') AS start FROM officer_rosters r"
                        " JOIN officers o ON o.id = r.officer_id ORDER BY r.start_time").fetchall()
    assert [(r["full_name"], r["start"]) for r in roster] == [("Nguyễn Thị Lan", "00:00"), ("Trần Văn Minh", "12:00")]
    assert center == get_site(db, "hcc-demo").id
    key = hall_key(db, center)
    with serve_in_process(db_url, tmp_path) as api:
        shown = api.client.get(f"/api/hall/{center}/board", headers={"X-Display-Key": key})
        assert shown.status_code == 200, shown.text
        assert [c["number"] for c in shown.json()["counters"]] == [1]
        assert "Nguyễn Thị Lan" not in shown.text
        hall_key(db, center)  # the next start: the previous key stops
        assert api.client.get(f"/api/hall/{center}/board", headers={"X-Display-Key": key}).status_code == 401
