"""A camera's stored password only goes where it was entered for, and the API never makes a camera of a file
on the server: addresses over the API are network URLs, video files are cameras only through the CLI, and
moving an address of a camera with a password to another host or port needs the password again."""

from __future__ import annotations

import base64
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import cv2
import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from ops_api.credentials import camera_password
from store.db import connect
from tests.support.api import ApiHarness, seed_sites
from tests.support.net import free_port
from vigil.cli import app

STORED = "S3cret-stored"


def only_error(response: Any) -> dict[str, Any]:
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert len(detail) == 1, detail
    return detail[0]


def add_camera(api: ApiHarness, site: int, main_uri: str, password: str | None = STORED, **more: Any) -> int:
    body = {"site_id": site, "name": f"cam-{free_port()}", "source_kind": "rtsp", "main_uri": main_uri,
            "username": "admin", "password": password, **more}
    created = api.client.post("/api/cameras", headers=api.user("engineer").headers, json=body)
    assert created.status_code == 201, created.text
    return created.json()["id"]


def stored_password(api: ApiHarness, camera: int) -> str | None:
    return camera_password(api.settings, api.conn, camera)


# --- network addresses only ----------------------------------------------------------------------------------

@pytest.mark.parametrize("uri", ["/etc/passwd", "var/evidence/site-2/event.jpg", "file:///etc/passwd",
                                 "concat:/etc/passwd|/etc/hosts", "rtsp://", "ftp://192.0.2.10/x.mp4",
                                 "http:///no-host", "rtsp://192.0.2.10:99999/x", "rtsp://192.0.2.10/a b"])
def test_camera_addresses_over_the_api_are_network_urls(api: ApiHarness, uri: str) -> None:
    site = seed_sites(api.conn, 1).sites[0]
    engineer = api.user("engineer")
    created = api.client.post("/api/cameras", headers=engineer.headers, json={
        "site_id": site, "name": "x", "source_kind": "rtsp", "main_uri": uri})
    error = only_error(created)
    assert (error["field"], error["code"]) == ("body.main_uri", "uri_not_network")
    camera = add_camera(api, site, "rtsp://192.0.2.10/stream1", password=None)
    for key in ("main_uri", "sub_uri", "snapshot_uri"):
        changed = api.client.patch(f"/api/cameras/{camera}", headers=engineer.headers, json={key: uri})
        assert only_error(changed)["field"] == f"body.{key}"
    assert api.client.get(f"/api/cameras/{camera}", headers=engineer.headers).json()["sub_uri"] is None


def test_video_files_become_cameras_through_the_cli_only(api: ApiHarness) -> None:
    seeded = seed_sites(api.conn, 1)  # its camera is a file camera, as `vigil cameras add --file` makes them
    site, file_camera = seeded.sites[0], seeded.cameras[0]
    engineer = api.user("engineer")
    refusals = [
        (api.client.post("/api/cameras", headers=engineer.headers, json={
            "site_id": site, "name": "x", "source_kind": "file", "main_uri": "/etc/passwd"}), "body.source_kind"),
        (api.client.post("/api/cameras/onboard", headers=engineer.headers, json={
            "site_id": site, "name": "x", "kind": "file", "path": "/etc/passwd"}), "body.kind"),
        (api.client.patch(f"/api/cameras/{add_camera(api, site, 'rtsp://192.0.2.10/s', password=None)}",
                          headers=engineer.headers, json={"source_kind": "file"}), "body.source_kind"),
        (api.client.patch(f"/api/cameras/{file_camera}", headers=engineer.headers,
                          json={"main_uri": "rtsp://192.0.2.10/s"}), "body.main_uri"),
        (api.client.patch(f"/api/cameras/{file_camera}", headers=engineer.headers,
                          json={"sub_uri": "http://192.0.2.10/s.jpg"}), "body.sub_uri"),
        (api.client.patch(f"/api/cameras/{file_camera}", headers=engineer.headers,
                          json={"source_kind": "rtsp"}), "body.source_kind"),
    ]
    for response, field in refusals:
        assert response.status_code == 422, response.text
        error = next(e for e in response.json()["detail"] if e["field"] == field)
        assert error["code"] == "file_camera_cli_only" and "vigil cameras add --file" in error["message"]
    renamed = api.client.patch(f"/api/cameras/{file_camera}", headers=engineer.headers, json={"name": "sảnh"})
    assert renamed.status_code == 200 and renamed.json()["main_uri"] == "var/footage/vtest.mp4"
    assert api.conn.execute("SELECT count(*) AS n FROM cameras WHERE source_kind = 'file'").fetchone()["n"] == 1


# --- the password goes with its address ----------------------------------------------------------------------

def test_moving_an_address_to_another_host_or_port_needs_the_password_again(api: ApiHarness) -> None:
    site = seed_sites(api.conn, 1).sites[0]
    engineer = api.user("engineer")
    camera = add_camera(api, site, "rtsp://cam-7.example:554/main", onvif_host="cam-7.example",
                        snapshot_uri="http://cam-7.example/snap.jpg")

    def patch(body: dict[str, Any]) -> Any:
        return api.client.patch(f"/api/cameras/{camera}", headers=engineer.headers, json=body)

    # the camera's own addresses: another stream or picture on the same host and port is fine
    for body in ({"sub_uri": "rtsp://CAM-7.example/sub"}, {"snapshot_uri": "http://cam-7.example:80/other.jpg"},
                 {"main_uri": "rtsp://cam-7.example/main2", "onvif_port": 80}):
        assert patch(body).status_code == 200, body
    for body, field in (({"sub_uri": "http://198.51.100.9/snap.jpg"}, "sub_uri"),
                        ({"main_uri": "rtsp://cam-7.example:8554/main"}, "main_uri"),
                        ({"snapshot_uri": "https://cam-7.example/snap.jpg"}, "snapshot_uri"),
                        ({"onvif_host": "198.51.100.9"}, "onvif"),
                        ({"onvif_port": 8080}, "onvif"),
                        ({"sub_uri": "rtsp://viewer@198.51.100.9/sub"}, "sub_uri")):
        error = only_error(patch(body))
        assert (error["field"], error["code"]) == ("body.password", "camera_password_needed"), body
        assert error["params"]["field"] == field
    row = api.client.get(f"/api/cameras/{camera}", headers=engineer.headers).json()
    assert (row["sub_uri"], row["onvif_host"], row["onvif_port"]) == ("rtsp://CAM-7.example/sub", "cam-7.example", 80)
    assert stored_password(api, camera) == STORED
    # with the password, the address moves and the new password replaces the stored one
    moved = patch({"sub_uri": "http://198.51.100.9/snap.jpg", "password": "entered-for-the-new-host"})
    assert moved.status_code == 200 and moved.json()["sub_uri"] == "http://198.51.100.9/snap.jpg"
    assert stored_password(api, camera) == "entered-for-the-new-host"
    in_url = patch({"main_uri": "rtsp://admin:in-the-url@203.0.113.5/main"})
    assert in_url.status_code == 200 and "in-the-url" not in in_url.text
    assert stored_password(api, camera) == "in-the-url"
    # clearing the password takes it along; a camera without one moves freely
    assert patch({"onvif_host": "203.0.113.77", "password": None}).status_code == 200
    assert patch({"sub_uri": "rtsp://203.0.113.78/s"}).status_code == 200 and stored_password(api, camera) is None


class Recorder(http.server.BaseHTTPRequestHandler):
    """A picture server on loopback that asks for Basic authentication and notes every Authorization header."""

    seen: ClassVar[list[str]] = []
    jpeg: ClassVar[bytes] = b""

    def do_GET(self) -> None:
        header = self.headers.get("Authorization")
        if header is None:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="camera"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        type(self).seen.append(base64.b64decode(header.split()[-1]).decode())
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(len(self.jpeg)))
        self.end_headers()
        self.wfile.write(self.jpeg)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def picture_server() -> Iterator[tuple[str, list[str]]]:
    picture = np.full((120, 160, 3), 90, np.uint8)
    handler = type("Handler", (Recorder,), {"seen": [], "jpeg": cv2.imencode(".jpg", picture)[1].tobytes()})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/snap.jpg", handler.seen
    server.shutdown()
    server.server_close()


def test_a_snapshot_never_delivers_the_stored_password_to_a_repointed_address(
        api: ApiHarness, picture_server: tuple[str, list[str]]) -> None:
    url, seen = picture_server
    site = seed_sites(api.conn, 1).sites[0]
    engineer = api.user("engineer")
    camera = add_camera(api, site, f"rtsp://127.0.0.1:{free_port()}/main")  # its own (silent) stream
    repoint = api.client.patch(f"/api/cameras/{camera}", headers=engineer.headers, json={"sub_uri": url})
    assert only_error(repoint)["field"] == "body.password"
    api.client.get(f"/api/cameras/{camera}/snapshot", headers=engineer.headers)
    assert seen == [], "nothing went to the new address"
    entered = api.client.patch(f"/api/cameras/{camera}", headers=engineer.headers,
                               json={"sub_uri": url, "password": "typed-for-this-host"})
    assert entered.status_code == 200, entered.text
    snapshot = api.client.get(f"/api/cameras/{camera}/snapshot", params={"zones": False}, headers=engineer.headers)
    assert snapshot.status_code == 200 and snapshot.content[:2] == b"\xff\xd8"
    assert seen and set(seen) == {"admin:typed-for-this-host"}
    assert not any(STORED in credentials for credentials in seen)


# --- the same rule for `vigil config import` -----------------------------------------------------------------

def test_config_import_moves_an_address_only_with_the_password(db_url: str, tmp_path: Path) -> None:
    env = {"VIGIL_DATABASE__URL": db_url, "VIGIL_DATA_DIR": str(tmp_path / "data"), "HALL_PASSWORD": STORED,
           "NEW_PASSWORD": "for-the-new-address"}
    camera = {"name": "hall-1", "source": "rtsp", "main_uri": "rtsp://192.0.2.10/stream1", "username": "admin",
              "password_env": "HALL_PASSWORD"}
    config = tmp_path / "setup.yaml"

    def run(**change: Any) -> Any:
        config.write_text(yaml.safe_dump({"version": 1, "sites": [
            {"code": "q1", "name": "Q1", "cameras": [{**camera, **change}]}]}))
        return CliRunner().invoke(app, ["config", "import", str(config)], env=env)

    assert run().exit_code == 0
    assert run(password_env=None, sub_uri="rtsp://192.0.2.10/stream2").exit_code == 0, "same host: kept"
    moved = run(password_env=None, sub_uri="http://198.51.100.9/snap.jpg")
    assert moved.exit_code != 0 and "sites[0].cameras[0].sub_uri: moves to 198.51.100.9:80" in moved.output
    assert "password_env" in moved.output
    with connect(db_url) as conn:
        assert conn.execute("SELECT sub_uri FROM cameras").fetchone()["sub_uri"] == "rtsp://192.0.2.10/stream2"
    assert run(password_env="NEW_PASSWORD", sub_uri="http://198.51.100.9/snap.jpg").exit_code == 0
    local = run(password_env=None, source="file", main_uri=str(tmp_path / "clip.mp4"), sub_uri=None)
    assert local.exit_code == 0, "the CLI is trusted with files on the server; a path sends no password anywhere"
