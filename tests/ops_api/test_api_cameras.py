"""Onboarding cameras through the API (a real RTSP server and a video file), their snapshot and MJPEG
preview with zones drawn, and probe errors that say what to fix; camera passwords never come back."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from tests.support.api import ApiHarness, seed_sites
from tests.support.net import free_port
from tests.support.rtsp import RtspServer, footage
from vigil.cli import app


def test_onboard_an_rtsp_camera_keeps_its_password_secret(api: ApiHarness, rtsp_server: RtspServer) -> None:
    seeded = seed_sites(api.conn, 1)
    engineer = api.user("engineer")
    url = rtsp_server.url().replace("rtsp://", "rtsp://viewer:s3cret-pass@")
    response = api.client.post("/api/cameras/onboard", headers=engineer.headers, json={
        "site_id": seeded.sites[0], "name": "Cổng chính", "kind": "rtsp", "url": url, "analytics_fps": 2})
    assert response.status_code == 201, response.text
    camera = response.json()["camera"]
    assert camera["has_password"] and camera["username"] == "viewer"
    assert "s3cret" not in response.text and "@" not in camera["main_uri"]
    snapshot = api.client.get(response.json()["snapshot_url"], headers=engineer.headers)
    assert snapshot.status_code == 200 and snapshot.content[:2] == b"\xff\xd8"
    stored = api.conn.execute("SELECT password_enc, snapshot_path FROM cameras WHERE id = %s",
                              (camera["id"],)).fetchone()
    assert b"s3cret" not in bytes(stored["password_enc"])
    assert Path(stored["snapshot_path"]).read_bytes()[:2] == b"\xff\xd8"  # the picture taken at onboarding
    logged = api.conn.execute("SELECT after::text AS a FROM audit_log WHERE action = 'camera.onboard'").fetchone()
    assert "s3cret" not in logged["a"]


def test_file_camera_snapshot_and_preview_draw_the_zones(api: ApiHarness) -> None:
    seed_sites(api.conn, 1)
    engineer = api.user("engineer")
    # video files become cameras on the server only (the API refuses them: tests/ops_api/test_api_camera_addresses.py)
    added = CliRunner().invoke(app, ["cameras", "add", "--site", "hcm-1", "--name", "file-cam", "--file",
                                     str(footage())],
                               env={"VIGIL_DATABASE__URL": api.url, "VIGIL_DATA_DIR": str(api.settings.data_dir)})
    assert added.exit_code == 0, added.output
    camera_id = api.conn.execute("SELECT id FROM cameras WHERE name = 'file-cam'").fetchone()["id"]
    row = api.conn.execute("SELECT snapshot_path FROM cameras WHERE id = %s", (camera_id,)).fetchone()
    still = Path(row["snapshot_path"])
    assert still.is_absolute() and still.read_bytes()[:2] == b"\xff\xd8"  # kept, as `vigil cameras add` keeps it
    api.client.post(f"/api/cameras/{camera_id}/zones", headers=engineer.headers, json={
        "name": "hàng chờ", "kind": "queue", "points": [[0.1, 0.1], [0.9, 0.1], [0.9, 0.9], [0.1, 0.9]]})
    # The onboarding picture is a still, never the live one, however recently it was written.
    still.write_bytes(b"\xff\xd8 the onboarding still \xff\xd9")
    plain = api.client.get(f"/api/cameras/{camera_id}/snapshot", params={"zones": False}, headers=engineer.headers)
    drawn = api.client.get(f"/api/cameras/{camera_id}/snapshot", headers=engineer.headers)
    assert plain.status_code == drawn.status_code == 200 and plain.content != drawn.content
    assert b"onboarding still" not in plain.content + drawn.content
    with api.client.stream("GET", f"/api/cameras/{camera_id}/preview", params={"fps": 5, "seconds": 1},
                           headers=api.user("operator").headers) as preview:
        assert preview.headers["content-type"].startswith("multipart/x-mixed-replace")
        body = b"".join(preview.iter_bytes())
    assert body.count(b"Content-Type: image/jpeg") >= 2


def test_probe_errors_name_the_field_and_the_fix(api: ApiHarness) -> None:
    engineer = api.user("engineer")
    response = api.client.post("/api/cameras/probe", headers=engineer.headers,
                               json={"host": "127.0.0.1", "port": free_port(), "timeout_s": 2})
    assert response.status_code == 422
    error = response.json()["detail"][0]
    assert error["field"] == "body.host" and "check the address" in error["message"]
    missing = api.client.post("/api/cameras/onboard", headers=engineer.headers, json={
        "site_id": 1, "name": "x", "kind": "rtsp"})
    assert missing.status_code == 422 and missing.json()["detail"][0]["field"] == "body.url"
    refused = api.client.post("/api/cameras/probe", headers=api.user("operator").headers, json={"host": "x"})
    assert refused.status_code == 403


def test_setting_the_recording_encoder_needs_an_engineer_and_names_what_fails(api: ApiHarness) -> None:
    body = {"host": "127.0.0.1", "port": free_port(), "timeout_s": 2, "profile_token": "Profile_Main"}
    refused = api.client.post("/api/cameras/encoder", headers=api.user("operator").headers, json=body)
    assert refused.status_code == 403
    engineer = api.user("engineer")
    unreachable = api.client.post("/api/cameras/encoder", headers=engineer.headers, json=body)
    assert unreachable.status_code == 422
    assert unreachable.json()["detail"][0]["code"] == "camera_unreachable"
    no_profile = api.client.post("/api/cameras/encoder", headers=engineer.headers,
                                 json={k: v for k, v in body.items() if k != "profile_token"})
    assert no_profile.status_code == 422 and no_profile.json()["detail"][0]["field"] == "body.profile_token"
