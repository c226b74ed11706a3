"""Camera credentials never reach a person: not in an API error, a log line, an event or a camera's URLs.

Camera libraries quote the URL they were given, credentials included, inside longer messages (PyAV:
``[Errno 111] Connection refused: 'rtsp://admin:pw@host/x'``), so the scrubber must find URLs inside text,
not only texts that are URLs. Real parts: the API on a real database, PyAV dialling a closed loopback port,
the store writer, a reader against a dead camera, uvicorn's own access log.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import httpx
import psycopg
import pytest
from prometheus_client import CollectorRegistry

from cameras.crypto import decrypt_password
from cameras.models import CameraSource, split_credentials
from core.redact import redact
from core.settings import IngestSettings, StoreSettings
from core.types import Event, EventType
from ingest.reader import CameraReader
from store.writer import StoreWriter
from tests.support.api import ApiHarness, seed_sites
from tests.support.net import free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[2]
SECRET = "S3cret-Pw!x"
FORMS = (SECRET, quote(SECRET, safe=""), quote(SECRET))


def _assert_clean(where: str, text: str) -> None:
    for form in FORMS:
        assert form not in text, f"the camera password appears in {where}: {text[:300]}"
    assert "admin:" not in text, f"a user:password@ pair appears in {where}: {text[:300]}"


def test_the_scrubber_finds_credentials_inside_the_messages_camera_libraries_write() -> None:
    messages = [
        f"[Errno 111] Connection refused: 'rtsp://admin:{SECRET}@10.0.0.5:554/Streaming/101'",  # PyAV
        f"Server returned 401 Unauthorized (authorization failed) rtsp://admin:{quote(SECRET, safe='')}@cam/s",
        f"[ WARN:0@1.2] global cap_ffmpeg_impl.hpp:453 open VIDEOIO(FFMPEG): can't open 'rtsp://admin:{SECRET}@h/1'",
        f"All connection attempts failed: http://admin:{SECRET}@[fe80::1]:8080/onvif/device_service",  # httpx
        f"snapshot failed: http://10.0.0.5/cgi-bin/snapshot.cgi?loginuse=admin&loginpas={SECRET}&res=0",
        f"GET /api/events/live?token=vgt_{'a' * 40} HTTP/1.1",
    ]
    for message in messages:
        shown = redact(message)
        _assert_clean("a scrubbed message", shown)
        assert "vgt_aaaa" not in shown
    assert redact("[Errno 111] Connection refused: 'rtsp://admin:pw@10.0.0.5/s1'").endswith("'rtsp://10.0.0.5/s1'")
    assert redact(f"the camera said {SECRET}", [SECRET]) == "the camera said ***"
    assert redact("nothing secret: zone=3 rtsp://10.0.0.5/s1") == "nothing secret: zone=3 rtsp://10.0.0.5/s1"


def test_query_string_passwords_move_out_of_the_url_and_back_in_only_to_open_it() -> None:
    clean, user, password = split_credentials(f"http://10.0.0.5/snap.cgi?usr=admin&pwd={quote(SECRET)}&ch=1")
    assert (clean, user, password) == ("http://10.0.0.5/snap.cgi?usr=admin&pwd=&ch=1", None, SECRET)
    source = CameraSource.from_rtsp(1, f"rtsp://viewer:{quote(SECRET, safe='')}@10.0.0.5/live?pwd={SECRET}")
    assert source.uri == "rtsp://10.0.0.5/live?pwd=" and source.username == "viewer"
    assert SECRET in source.open_uri.replace("%21", "!")  # the decoder gets it back...
    _assert_clean("display_uri", source.display_uri)  # ...nobody else does


@pytest.fixture
def site_and_camera(api: ApiHarness) -> tuple[int, int, dict[str, str]]:
    seeded = seed_sites(api.conn, 1)
    engineer = api.user("engineer")
    port = free_port()  # nothing listens there: the camera is unreachable
    answer = api.client.post("/api/cameras", headers=engineer.headers, json={
        "site_id": seeded.sites[0], "name": "gate", "source_kind": "rtsp",
        "main_uri": f"rtsp://admin:{quote(SECRET, safe='')}@127.0.0.1:{port}/cam1"})
    assert answer.status_code == 201, answer.text
    return seeded.sites[0], answer.json()["id"], api.user("operator").headers


def test_an_unreachable_cameras_snapshot_and_preview_errors_carry_no_password(
        api: ApiHarness, site_and_camera: tuple[int, int, dict[str, str]]) -> None:
    _, camera_id, operator = site_and_camera
    for path in (f"/api/cameras/{camera_id}/snapshot", f"/api/cameras/{camera_id}/preview?seconds=1"):
        answer = api.client.get(path, headers=operator)
        assert answer.status_code == 502, answer.text
        _assert_clean(path, answer.text)
        assert "127.0.0.1" in answer.json()["detail"]  # the engineer still learns which address failed
    stored = api.conn.execute("SELECT main_uri, username, password_enc FROM cameras WHERE id = %s",
                              (camera_id,)).fetchone()
    _assert_clean("the stored URI", stored["main_uri"])
    assert stored["username"] == "admin"
    assert decrypt_password(stored["password_enc"], api.settings.key_file) == SECRET


def test_a_password_in_a_query_string_is_stored_encrypted_and_never_shown(api: ApiHarness) -> None:
    seeded = seed_sites(api.conn, 1)
    engineer = api.user("engineer")
    answer = api.client.post("/api/cameras", headers=engineer.headers, json={
        "site_id": seeded.sites[0], "name": "kiosk", "source_kind": "rtsp",
        "main_uri": f"rtsp://127.0.0.1:{free_port()}/live", "username": "admin",
        "snapshot_uri": f"http://127.0.0.1:{free_port()}/snapshot.cgi?user=admin&pwd={quote(SECRET)}"})
    assert answer.status_code == 201, answer.text
    camera = answer.json()
    assert camera["snapshot_uri"].endswith("snapshot.cgi?user=admin&pwd=") and camera["has_password"]
    for path in ("/api/cameras", f"/api/cameras/{camera['id']}"):
        _assert_clean(path, api.client.get(path, headers=api.user("operator").headers).text)
    row = api.conn.execute("SELECT snapshot_uri, password_enc FROM cameras WHERE id = %s", (camera["id"],)).fetchone()
    _assert_clean("the stored snapshot URI", row["snapshot_uri"])
    assert decrypt_password(row["password_enc"], api.settings.key_file) == SECRET


def test_a_camera_row_stored_before_the_fix_shows_no_query_password(api: ApiHarness) -> None:
    seeded = seed_sites(api.conn, 1)
    api.conn.execute("UPDATE cameras SET main_uri = %s WHERE id = %s",
                     (f"rtsp://10.0.0.9/live?user=admin&password={SECRET}", seeded.cameras[0]))
    text = api.client.get(f"/api/cameras/{seeded.cameras[0]}", headers=api.user("operator").headers).text
    _assert_clean("a legacy camera row", text)


def test_an_offline_cameras_event_and_log_lines_carry_no_password(db_url: str, db: psycopg.Connection,
                                                                  tmp_path: Path,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    """A reader dialling a dead camera with a password: its camera_offline event, stored by the real writer."""
    seeded = seed_sites(db, 1)
    camera = CameraSource.from_rtsp(seeded.cameras[0], f"rtsp://127.0.0.1:{free_port()}/cam", username="admin",
                                    password=SECRET, name="dead")
    events: list[Event] = []
    settings = IngestSettings(offline_grace_s=0.5, open_timeout_s=1, read_timeout_s=1, backoff_initial_s=0.2)
    caplog.set_level(logging.INFO)
    reader = CameraReader(camera, settings, on_event=events.append)
    reader.start()
    try:
        deadline = time.monotonic() + 20
        while not any(e.type == EventType.CAMERA_OFFLINE for e in events) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        reader.stop()
    offline = next(e for e in events if e.type == EventType.CAMERA_OFFLINE)
    offline.site_id = seeded.sites[0]
    offline.attributes["library_said"] = f"open 'rtsp://admin:{SECRET}@127.0.0.1/cam' failed"  # any producer
    _assert_clean("the reader's reason", json.dumps(offline.attributes["reason"]))
    with StoreWriter(db_url, StoreSettings(), tmp_path, registry=CollectorRegistry()) as writer:
        writer.write_event(offline)
        assert writer.flush(10)
    stored = db.execute("SELECT attributes FROM events WHERE id = %s", (offline.id,)).fetchone()["attributes"]
    _assert_clean("the stored event", json.dumps(stored))
    _assert_clean("the log", caplog.text)


SERVE_WITH_ACCESS_LOG = """
import sys, uvicorn
from ops_api.app import create_app
from core.settings import Settings
app = create_app(Settings(data_dir=sys.argv[2]), sys.argv[1])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[3]), log_level="info", access_log=True)
"""


def test_log_lines_of_the_served_api_carry_no_token_or_camera_password(db_url: str, tmp_path: Path) -> None:
    """uvicorn's own access log writes the query string: a WebSocket's ``?token=`` must not land there, and a
    logged library error must not show a stream's password."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-c", SERVE_WITH_ACCESS_LOG, db_url, str(tmp_path), str(port)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT)
    try:
        wait_for_port(port, timeout_s=30)
        token = "vgt_" + "Z" * 43
        httpx.get(f"http://127.0.0.1:{port}/api/events/stream?token={token}", timeout=5)
        httpx.get(f"http://127.0.0.1:{port}/healthz?pwd={SECRET}", timeout=5)
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=20)
    assert "/healthz" in output  # the access log is on
    assert "Z" * 20 not in output
    _assert_clean("the access log", output)
