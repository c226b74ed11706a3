"""Proof: a camera password appears in no API response, log line, export or config export.

Cameras with a distinctive password are analysed by a real `vigil worker` process (one streams from the
GStreamer server, one points at a closed port so its errors are logged again and again); then every API
read that returns cameras, events, health, audit or exports is called, a password is changed and a camera
added with credentials in its URL through the API, and the CLI lists and exports the configuration. The
password (and its URL-encoded form) is searched for in all of it, and in the database rows.
"""

from __future__ import annotations

import io
import logging
import subprocess
import sys
import zipfile
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest

from tests.support.api import serve_in_process
from tests.support.net import free_port
from tests.support.proof import ROOT, count, poll, rtsp_camera, stop_process, street_site, vigil_env, worker_process
from tests.support.rtsp import RtspServer

PASSWORD = "Kh0ng-Lo!Pw#7f3a"
FORMS = (PASSWORD, quote(PASSWORD, safe=""), quote(PASSWORD))


def _assert_clean(where: str, text: str) -> None:
    for form in FORMS:
        assert form not in text, f"the camera password appears in {where}"


@pytest.mark.slow
def test_camera_passwords_appear_in_no_response_log_or_export(db: psycopg.Connection, db_url: str, tmp_path: Path,
                                                              rtsp_server: RtspServer,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    data = tmp_path / "data"
    key_file = data / "secret.key"
    site = street_site(db)
    streaming = rtsp_camera(db, site, "gate", rtsp_server.url(), username="viewer", password=PASSWORD,
                            key_file=key_file)
    dead = rtsp_camera(db, site, "dead", f"rtsp://127.0.0.1:{free_port()}/cam", username="viewer",
                       password=PASSWORD, key_file=key_file)
    log_file = tmp_path / "worker.log"
    worker = worker_process(db_url, data, log_file, "--id", "w-secret", "--lease-ttl", "3",
                            env={"VIGIL_INGEST__OFFLINE_GRACE_S": "1", "VIGIL_INGEST__HEALTH_INTERVAL_S": "1",
                                 "VIGIL_INGEST__BACKOFF_MAX_S": "1"})
    try:
        assert poll(lambda: count(db, "SELECT count(*) FROM camera_health WHERE camera_id = %s AND state = 'online'",
                                  (streaming,)) > 0, 120), log_file.read_text()[-2000:]
        assert poll(lambda: count(db, "SELECT count(*) FROM events WHERE camera_id = %s AND type = 'camera_offline'",
                                  (dead,)) > 0, 30)
    finally:
        stop_process(worker)
    worker_log = log_file.read_text()
    assert "dead" in worker_log and "offline" in worker_log  # the failures were logged: with the URL, not the secret
    _assert_clean("the worker's log (Python and FFmpeg)", worker_log)

    caplog.set_level(logging.DEBUG)
    with serve_in_process(db_url, data) as api:
        admin = api.user("admin")
        get = lambda path: api.client.get(path, headers=admin.headers)  # noqa: E731
        changed = api.client.patch(f"/api/cameras/{dead}", headers=admin.headers, json={"password": PASSWORD + "2"})
        assert changed.status_code == 200, changed.text
        added = api.client.post("/api/cameras", headers=admin.headers, json={
            "site_id": site, "name": "in-url", "source_kind": "rtsp",
            "main_uri": f"rtsp://viewer:{quote(PASSWORD, safe='')}@127.0.0.1:{free_port()}/x"})
        assert added.status_code == 201, added.text
        event = db.execute("SELECT id FROM events WHERE camera_id = %s LIMIT 1", (dead,)).fetchone()["id"]
        responses = {path: get(path) for path in (
            "/api/cameras", f"/api/cameras/{streaming}", f"/api/cameras/{dead}", f"/api/cameras?site_id={site}",
            "/api/cameras/health", f"/api/cameras/{dead}/health", f"/api/events?camera_id={dead}",
            f"/api/events/{event}", "/api/audit", "/api/sites", "/api/exports/events?format=csv",
            "/api/exports/events?format=xlsx", "/metrics")}
        responses["PATCH"], responses["POST"] = changed, added
    for path, response in responses.items():
        assert response.status_code in (200, 201), (path, response.status_code)
        body = response.text
        if response.content[:2] == b"PK":  # xlsx: the sheets are compressed XML
            with zipfile.ZipFile(io.BytesIO(response.content)) as book:
                body = "".join(book.read(name).decode("utf-8", "replace") for name in book.namelist())
        _assert_clean(f"GET {path}", body)
        _assert_clean(f"the headers of {path}", str(response.headers))
    assert responses["POST"].json()["has_password"] and responses[f"/api/cameras/{dead}"].json()["has_password"]
    _assert_clean("the API's log", "\n".join(r.getMessage() for r in caplog.records))

    env = vigil_env(db_url, data)
    outputs = {}
    for args in (["config", "export"], ["cameras", "list"], ["settings", "show"]):
        run = subprocess.run([sys.executable, "-m", "vigil", *args], cwd=ROOT, env=env, capture_output=True,
                             text=True, timeout=120)
        assert run.returncode == 0, (args, run.stderr[-2000:])
        _assert_clean(f"vigil {' '.join(args)}", run.stdout + run.stderr)
        outputs[" ".join(args)] = run.stdout
    assert "gate" in outputs["config export"] and "viewer" in outputs["config export"]  # exported, but no secret
    rows = db.execute("SELECT row_to_json(c)::text AS r FROM cameras c").fetchall()
    _assert_clean("the cameras table", "\n".join(r["r"] for r in rows))
    audit = db.execute("SELECT coalesce(string_agg(before::text || after::text, ''), '') AS a FROM audit_log"
                       ).fetchone()["a"]
    _assert_clean("the audit log", audit)
