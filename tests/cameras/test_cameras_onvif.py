"""ONVIF onboarding against a real device: ipycam in a network namespace the test creates.

Each test starts its own namespace (only loopback), the camera inside it, and runs the real `vigil`
command there; nothing is sent outside the namespace. The database is reached through its Unix socket.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from cameras.crypto import SecretBox
from cameras.models import SiteRecord
from cameras.onvif import DeviceReport, NoUsableProfile, StreamProfile
from store import registry
from store.embedded import EmbeddedPostgres
from tests.support.onvif import ONVIF_PORT, ROOT, run_in_namespace, run_with_camera
from vigil.cli import app

VIGIL = str(ROOT / ".venv" / "bin" / "vigil")
PROBE = [VIGIL, "cameras", "probe", "127.0.0.1", "--port", str(ONVIF_PORT), "--timeout", "5"]


@pytest.mark.usefixtures("netns")
def test_discover_finds_the_camera() -> None:
    result = run_with_camera([VIGIL, "cameras", "discover", "--timeout", "1.5", "--json"])
    assert result.returncode == 0, result.stderr
    devices = result.json()
    assert [d["xaddrs"] for d in devices] == [[f"http://127.0.0.1:{ONVIF_PORT}/onvif/device_service"]]
    assert devices[0]["model"] == "VigilTestCam"
    assert "onvif://www.onvif.org/Profile/Streaming" in devices[0]["scopes"]


@pytest.mark.usefixtures("netns")
def test_probe_reads_profiles_stream_uris_and_clock() -> None:
    result = run_with_camera([*PROBE, "--user", "admin", "--password", "pa55", "--json"], user="admin", password="pa55")
    assert result.returncode == 0, result.stderr
    report = result.json()
    assert (report["manufacturer"], report["model"], report["auth"]) == ("IPyCam", "VirtualCam-1", "digest")
    assert abs(report["clock_skew_s"]) < 5 and report["clock_corrected"] is False
    profiles = {p["name"]: p for p in report["profiles"]}
    assert (profiles["MainStream"]["width"], profiles["MainStream"]["height"]) == (768, 576)
    assert profiles["MainStream"]["encoding"] == "H264" and profiles["MainStream"]["fps"] == 10
    assert profiles["MainStream"]["stream_uri"] == "rtsp://127.0.0.1:18554/video_main"
    assert profiles["SubStream"]["stream_uri"] == "rtsp://127.0.0.1:18554/video_sub"
    assert profiles["SubStream"]["snapshot_uri"].endswith("/snapshot.jpg")


@pytest.fixture
def socket_db(pg_cluster: EmbeddedPostgres, db_url: str) -> Iterator[tuple[str, psycopg.Connection]]:
    """The test database as a Unix-socket URL (usable from inside a network namespace) and a connection."""
    name = psycopg.conninfo.conninfo_to_dict(db_url)["dbname"]
    with psycopg.connect(db_url, autocommit=True, row_factory=psycopg.rows.dict_row) as conn:
        yield pg_cluster.socket_url(name), conn


@pytest.mark.slow
@pytest.mark.usefixtures("netns")
def test_add_stores_the_camera_and_a_reader_pulls_frames_from_its_uri(socket_db, tmp_path: Path) -> None:
    url, conn = socket_db
    registry.save_site(conn, SiteRecord(code="lab", name="Test lab"))
    env = {"VIGIL_DATABASE__URL": url, "VIGIL_DATA_DIR": str(tmp_path), "CAM_PASSWORD": "pa55"}
    script = (f"{VIGIL} cameras add --site lab --name door --onvif 127.0.0.1 --port {ONVIF_PORT} --user admin "
              f"--password-env CAM_PASSWORD && {VIGIL} cameras check lab/door --seconds 2 --json")
    result = run_with_camera(["sh", "-c", script], user="admin", password="pa55", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    camera = registry.get_camera(conn, "lab/door")
    assert camera.main_uri == "rtsp://127.0.0.1:18554/video_main"  # recording and preview
    assert camera.sub_uri == "rtsp://127.0.0.1:18554/video_sub"  # 480 px: the smallest adequate for analytics
    assert camera.info["model"] == "VirtualCam-1" and camera.has_password
    assert Path(camera.snapshot_path).read_bytes()[:2] == b"\xff\xd8"  # a JPEG
    stored = conn.execute("SELECT password_enc FROM cameras WHERE id = %s", (camera.id,)).fetchone()["password_enc"]
    assert SecretBox.from_key_file(tmp_path / "secret.key").decrypt(stored) == "pa55"
    health = json.loads(result.stdout[result.stdout.index("{"):])
    assert health["frames_delivered"] > 0 and (health["width"], health["height"]) == (480, 360)


@pytest.mark.usefixtures("netns")
def test_a_camera_clock_two_hours_off_is_corrected_automatically() -> None:
    # ipycam refuses WS-Security timestamps more than 5 minutes from its own clock: only a corrected
    # client gets in, and a limit below the skew gives the clock-skew error instead.
    command = ["sh", "-c", f"{' '.join(PROBE)} --user admin --password pa55 --json; "
                           f"{' '.join(PROBE)} --user admin --password pa55 --max-skew 600"]
    result = run_with_camera(command, user="admin", password="pa55", clock_offset_s=7200)
    report = json.loads(result.stdout[:result.stdout.rindex("}") + 1])
    assert report["clock_corrected"] is True and abs(report["clock_skew_s"] - 7200) < 5
    assert report["profiles"]
    assert result.returncode == 23 and "2.0 h ahead" in result.stderr


@pytest.mark.usefixtures("netns")
def test_wrong_password_has_its_own_error() -> None:
    result = run_with_camera([*PROBE, "--user", "admin", "--password", "wrong"], user="admin", password="pa55")
    assert result.returncode == 22, result.stderr
    assert "refused the credentials" in result.stderr and "digest and plain text tried" in result.stderr


@pytest.mark.usefixtures("netns")
def test_unreachable_host_has_its_own_error() -> None:
    # Inside an empty namespace: no route anywhere, and nothing listens on loopback.
    for target in (["10.255.0.1", "--port", "80"], ["127.0.0.1", "--port", "9"]):
        result = run_in_namespace([VIGIL, "cameras", "probe", *target, "--timeout", "2"])
        assert result.returncode == 20, result.stderr
        assert "reach" in result.stderr


class _Fake(BaseHTTPRequestHandler):
    body = b""
    content_type = "text/html"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self._reply()

    def do_GET(self) -> None:
        self._reply()

    def _reply(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", self.content_type)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *_args: object) -> None:
        pass


def _serve(body: bytes, content_type: str) -> ThreadingHTTPServer:
    handler = type("Handler", (_Fake,), {"body": body, "content_type": content_type})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _probe(server: ThreadingHTTPServer) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["cameras", "probe", "127.0.0.1", "--port", str(server.server_address[1]),
                                      "--timeout", "3"])
    server.shutdown()
    return result.exit_code, result.output


def test_a_plain_web_server_is_not_onvif() -> None:
    code, output = _probe(_serve(b"<html><body>It works!</body></html>", "text/html"))
    assert code == 21 and "not a SOAP reply" in output


def test_a_broken_soap_reply_is_malformed() -> None:
    broken = b"<?xml version='1.0'?><s:Envelope xmlns:s='x'><s:Body><oops>"
    code, output = _probe(_serve(broken, "application/soap+xml"))
    assert code == 24 and "not well-formed XML" in output


def test_a_camera_clock_years_off_is_too_large_to_correct() -> None:
    year = datetime.now(UTC).year - 10
    body = (f"<?xml version='1.0'?><s:Envelope xmlns:s='http://www.w3.org/2003/05/soap-envelope' "
            f"xmlns:tt='http://www.onvif.org/ver10/schema'><s:Body><GetSystemDateAndTimeResponse><SystemDateAndTime>"
            f"<tt:UTCDateTime><tt:Time><tt:Hour>1</tt:Hour><tt:Minute>2</tt:Minute><tt:Second>3</tt:Second></tt:Time>"
            f"<tt:Date><tt:Year>{year}</tt:Year><tt:Month>1</tt:Month><tt:Day>1</tt:Day></tt:Date></tt:UTCDateTime>"
            "</SystemDateAndTime></GetSystemDateAndTimeResponse></s:Body></s:Envelope>").encode()
    code, output = _probe(_serve(body, "application/soap+xml"))
    assert code == 23 and "behind" in output and "set the camera's clock" in output


def test_stream_choice_main_for_recording_smallest_adequate_for_analytics() -> None:
    def profile(name: str, encoding: str, width: int, height: int) -> StreamProfile:
        return StreamProfile(name, name, encoding, width, height, 25, None, f"rtsp://cam/{name}")

    report = DeviceReport("cam", 80, "M", "X", "1", "s", "h", 0.0, False, "digest",
                          [profile("main", "H265", 2560, 1440), profile("sub", "H264", 640, 360),
                           profile("tiny", "H264", 352, 288), profile("mjpeg", "JPEG", 1920, 1080)])
    assert report.main_profile().name == "main"
    assert report.analytics_profile(min_width=416).name == "sub"
    only_jpeg = DeviceReport("cam", 80, "M", "X", "1", "s", "h", 0.0, False, "digest",
                             [profile("mjpeg", "JPEG", 1920, 1080)])
    with pytest.raises(NoUsableProfile) as caught:
        only_jpeg.main_profile()
    assert caught.value.exit_code == 25 and "mjpeg JPEG" in str(caught.value)
