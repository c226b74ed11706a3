"""`vigil cameras` and `vigil config` as an engineer uses them, on a real database and RTSP server."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
import yaml
from typer.testing import CliRunner

from cameras.models import SourceKind
from core.media import snapshot_file
from store import registry
from tests.support.rtsp import RtspServer, footage
from vigil.cli import app


@pytest.fixture
def vigil(db_url: str, tmp_path: Path):
    env = {"VIGIL_DATABASE__URL": db_url, "VIGIL_DATA_DIR": str(tmp_path / "data")}

    def run(*args: str, **extra: str):
        return CliRunner().invoke(app, list(args), env={**env, **extra})

    return run


def test_add_a_bare_rtsp_camera_keeps_the_password_out_of_the_url(vigil, db: psycopg.Connection,
                                                                   rtsp_server: RtspServer) -> None:
    assert vigil("cameras", "sites", "add", "street-7", "--name", "Ngã tư 7", "--kind", "street").exit_code == 0
    url = rtsp_server.url().replace("rtsp://", "rtsp://viewer:top%2Fsecret@")
    result = vigil("cameras", "add", "--site", "street-7", "--name", "north", "--rtsp", url, "--analytics-fps", "4")
    assert result.exit_code == 0, result.output
    assert "top" not in result.output
    camera = registry.get_camera(db, "street-7/north")
    assert camera.source_kind == SourceKind.RTSP and camera.main_uri == rtsp_server.url()
    assert camera.username == "viewer" and camera.has_password and camera.analytics_fps == 4
    assert Path(camera.snapshot_path).read_bytes()[:2] == b"\xff\xd8"
    listed = vigil("cameras", "list")
    assert "street-7/north" in listed.output and "secret" not in listed.output


def test_add_a_file_camera_and_check_it(vigil, db: psycopg.Connection) -> None:
    vigil("cameras", "sites", "add", "demo", "--name", "Demo")
    result = vigil("cameras", "add", "--site", "demo", "--name", "campus", "--file", str(footage()))
    assert result.exit_code == 0, result.output
    assert registry.get_camera(db, "demo/campus").source_kind == SourceKind.FILE
    check = vigil("cameras", "check", "demo/campus", "--seconds", "1")
    assert check.exit_code == 0, check.output
    assert "online, 768x576" in check.output


def test_adding_a_camera_again_keeps_the_workers_live_picture(vigil, db: psycopg.Connection, tmp_path: Path) -> None:
    """A worker points snapshot_path at live/<id>.jpg when it starts the camera, and only then: adding the camera
    again (or importing the config) keeps that path, while the onboarding still is written anew."""
    vigil("cameras", "sites", "add", "demo", "--name", "Demo")
    assert vigil("cameras", "add", "--site", "demo", "--name", "campus", "--file", str(footage())).exit_code == 0
    camera_id = registry.get_camera(db, "demo/campus").id
    still = snapshot_file(tmp_path / "data", camera_id)
    assert registry.get_camera(db, "demo/campus").snapshot_path == str(still)
    db.execute("UPDATE cameras SET snapshot_path = %s WHERE id = %s", (f"live/{camera_id}.jpg", camera_id))
    still.unlink()
    again = vigil("cameras", "add", "--site", "demo", "--name", "campus", "--file", str(footage()),
                  "--analytics-fps", "3")
    assert again.exit_code == 0, again.output
    camera = registry.get_camera(db, "demo/campus")
    assert camera.id == camera_id and camera.analytics_fps == 3  # updated, as an add of an existing camera does
    assert camera.snapshot_path == f"live/{camera_id}.jpg"
    assert still.read_bytes()[:2] == b"\xff\xd8" and f"snapshot:         {still}" in again.output
    assert vigil("cameras", "add", "--site", "demo", "--name", "campus", "--file", str(footage()),
                 "--no-snapshot").exit_code == 0
    out = tmp_path / "city.yaml"
    assert vigil("config", "export", "--out", str(out)).exit_code == 0
    assert vigil("config", "import", str(out)).exit_code == 0
    assert registry.get_camera(db, "demo/campus").snapshot_path == f"live/{camera_id}.jpg"


def test_unknown_site_and_camera_are_named(vigil) -> None:
    result = vigil("cameras", "add", "--site", "nowhere", "--name", "x", "--file", str(footage()))
    assert result.exit_code == 5 and "no site 'nowhere'" in result.output
    assert vigil("cameras", "remove", "nowhere/x").exit_code == 5


def test_config_export_then_import_round_trips_without_passwords(vigil, db: psycopg.Connection,
                                                                 tmp_path: Path) -> None:
    vigil("cameras", "sites", "add", "q1", "--name", "Quận 1")
    vigil("cameras", "add", "--site", "q1", "--name", "gate", "--rtsp", "rtsp://u:pw9@127.0.0.1:9/x", "--no-snapshot")
    out = tmp_path / "city.yaml"
    assert vigil("config", "export", "--out", str(out)).exit_code == 0
    text = out.read_text(encoding="utf-8")
    assert "pw9" not in text and "password: null" in text and "never exported" in text
    data = yaml.safe_load(text)
    data["sites"][0]["working_hours"] = {"weekly": {"mon": [["07:30", "11:30"]]}}
    data["sites"][0]["cameras"][0]["password_env"] = "GATE_PW"
    out.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert vigil("config", "import", str(out), "--dry-run", GATE_PW="new").exit_code == 0
    result = vigil("config", "import", str(out), GATE_PW="new")
    assert result.exit_code == 0, result.output
    assert "1 passwords set" in result.output
    assert registry.get_site(db, "q1").working_hours["weekly"] == {"mon": [["07:30", "11:30"]]}
    bad = vigil("config", "import", str(out))  # GATE_PW no longer set
    assert bad.exit_code == 6 and "password_env: the variable GATE_PW is not set" in bad.output
