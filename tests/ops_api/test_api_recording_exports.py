"""Handing footage out: an MP4 export of a range from real segments (its duration matches the range within a GOP,
its sha256 recorded with the person and the reason, an audit row, a hold on the range), its download, holds
released by admins, and `vigil recordings verify` accepting the file and rejecting a modified copy."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.support.api import ApiHarness, ApiUser, seed_sites
from tests.support.recordings import Indexed, Piece, ffprobe_duration, index_footage
from vigil.cli import app as cli_app

T0 = datetime(2026, 12, 7, 2, 0, 0, tzinfo=UTC)
GOP_S = 2.0  # the footage's key frames are 2 s apart (and so are the segments)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass
class Setup:
    api: ApiHarness
    camera: int
    segments: list[Indexed]
    users: dict[str, ApiUser]

    def export(self, who: str, start: datetime, end: datetime, reason: str = "Khiếu nại của công dân số 15/2026",
               **extra: Any) -> Any:
        return self.api.client.post(f"/api/recordings/{self.camera}/exports", headers=self.users[who].headers,
                                    json={"start": iso(start), "end": iso(end), "reason": reason, **extra})


@pytest.fixture(scope="module")
def setup(module_api: ApiHarness, recorded_segments: list[Piece]) -> Setup:
    seeded = seed_sites(module_api.conn)
    camera = seeded.cameras[0]  # a counter camera: managers' footage
    segments = index_footage(module_api.conn, module_api.settings.data_dir, camera, T0, recorded_segments[:20])
    users = {"manager": module_api.user("manager"), "manager2": module_api.user("manager"),
             "operator": module_api.user("operator"), "admin": module_api.user("admin")}
    return Setup(module_api, camera, segments, users)


def test_an_export_covers_the_range_within_a_gop_and_records_its_sha256_reason_and_hold(setup: Setup) -> None:
    start, end = T0 + timedelta(seconds=5), T0 + timedelta(seconds=25)
    answer = setup.export("manager", start, end, case_ref="KN-015")
    assert answer.status_code == 201, answer.text
    body = answer.json()
    actual_start, actual_end = datetime.fromisoformat(body["actual_start"]), datetime.fromisoformat(body["actual_end"])
    assert start - timedelta(seconds=GOP_S) <= actual_start <= start
    assert end <= actual_end <= end + timedelta(seconds=GOP_S)
    assert body["file_name"].startswith(f"vigil-cam{setup.camera}-20261207T020004Z-20261207T020026Z")
    download = setup.api.client.get(body["download_url"], headers=setup.users["manager"].headers)
    assert download.status_code == 200 and download.headers["content-type"] == "video/mp4"
    assert body["file_name"] in download.headers["content-disposition"]
    assert hashlib.sha256(download.content).hexdigest() == body["sha256"]
    file = Path(setup.api.settings.data_dir) / "exports" / body["file_name"]
    duration = ffprobe_duration(file)
    assert abs(duration - (end - start).total_seconds()) <= 2 * GOP_S, "the range asked for, within a GOP each end"
    assert abs(duration - (actual_end - actual_start).total_seconds()) < 0.25, "what the answer says it covers"
    conn = setup.api.conn
    row = conn.execute("SELECT * FROM recording_exports WHERE id = %s", (body["id"],)).fetchone()
    assert (row["sha256"], row["username"], row["reason"]) == (body["sha256"], setup.users["manager"].username,
                                                              "Khiếu nại của công dân số 15/2026")
    hold = conn.execute("SELECT * FROM recording_holds WHERE id = %s", (body["hold_id"],)).fetchone()
    assert (hold["start_time"], hold["end_time"], hold["released_at"], hold["case_ref"]) == \
        (actual_start, actual_end, None, "KN-015")
    audit = conn.execute("SELECT * FROM audit_log WHERE action = 'recording.export' ORDER BY id DESC LIMIT 1"
                         ).fetchone()
    assert audit["user_id"] == setup.users["manager"].id and audit["after"]["sha256"] == body["sha256"]
    assert audit["after"]["reason"] == "Khiếu nại của công dân số 15/2026" and audit["object_id"] == str(setup.camera)
    downloads = conn.execute("SELECT count(*) AS n FROM audit_log WHERE action = 'recording.export_download'"
                             " AND user_id = %s", (setup.users["manager"].id,)).fetchone()["n"]
    assert downloads == 1


def test_an_export_needs_a_reason_a_short_enough_range_and_the_footage_permission(setup: Setup) -> None:
    start = T0 + timedelta(seconds=5)
    no_reason = setup.api.client.post(f"/api/recordings/{setup.camera}/exports", headers=setup.users["manager"].headers,
                                      json={"start": iso(start), "end": iso(start + timedelta(seconds=4))})
    assert no_reason.status_code == 422 and no_reason.json()["detail"][0]["field"] == "body.reason"
    too_long = setup.export("manager", start, start + timedelta(hours=5))
    assert too_long.status_code == 422 and too_long.json()["detail"][0]["code"] == "recording_range_too_long"
    assert too_long.json()["detail"][0]["field"] == "body.end"
    nothing = setup.export("manager", T0 - timedelta(hours=1), T0 - timedelta(minutes=30))
    assert nothing.status_code == 404 and nothing.json()["code"] == "recording_none_in_range"
    operator = setup.export("operator", start, start + timedelta(seconds=4))
    assert operator.status_code == 403 and operator.json()["code"] == "footage_not_permitted"
    assert not list((Path(setup.api.settings.data_dir) / "exports").glob(".*")), "no half-written file left"


def test_only_the_maker_or_an_admin_downloads_an_export_and_admins_release_its_hold(setup: Setup) -> None:
    made = setup.export("manager", T0, T0 + timedelta(seconds=4)).json()
    other = setup.api.client.get(made["download_url"], headers=setup.users["manager2"].headers)
    assert other.status_code == 403 and other.json()["code"] == "recording_export_not_yours"
    assert setup.api.client.get(made["download_url"], headers=setup.users["admin"].headers).status_code == 200
    listed = setup.api.client.get(f"/api/recordings/{setup.camera}/holds", headers=setup.users["manager"].headers)
    assert made["hold_id"] in [h["id"] for h in listed.json()]
    release = f"/api/recordings/holds/{made['hold_id']}/release"
    assert setup.api.client.post(release, headers=setup.users["manager"].headers).status_code == 403
    released = setup.api.client.post(release, headers=setup.users["admin"].headers)
    assert released.status_code == 200 and released.json()["released_at"]
    again = setup.api.client.post(release, headers=setup.users["admin"].headers)
    assert again.status_code == 409 and again.json()["code"] == "recording_hold_released"
    listed = setup.api.client.get(f"/api/recordings/{setup.camera}/holds", headers=setup.users["manager"].headers)
    assert made["hold_id"] not in [h["id"] for h in listed.json()]


@pytest.fixture
def cli(setup: Setup, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("DATABASE_URL", setup.api.url)
    monkeypatch.setenv("VIGIL_DATA_DIR", str(setup.api.settings.data_dir))
    return CliRunner()


def test_verify_accepts_an_exported_file_and_rejects_a_modified_copy(setup: Setup, cli: CliRunner,
                                                                      tmp_path: Path) -> None:
    made = setup.export("manager", T0 + timedelta(seconds=10), T0 + timedelta(seconds=16)).json()
    handed_out = tmp_path / "cho-thanh-tra.mp4"
    handed_out.write_bytes(setup.api.client.get(made["download_url"], headers=setup.users["manager"].headers).content)
    ok = cli.invoke(cli_app, ["recordings", "verify", str(handed_out)])
    assert ok.exit_code == 0, ok.output
    assert f"export #{made['id']} of camera {setup.camera}" in ok.output
    assert setup.users["manager"].username in ok.output
    altered = tmp_path / "altered.mp4"
    data = bytearray(handed_out.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit of one frame
    altered.write_bytes(bytes(data))
    bad = cli.invoke(cli_app, ["recordings", "verify", str(altered)])
    assert bad.exit_code == 1 and "matches NO recorded export" in bad.output


def test_the_cli_exports_lists_and_verifies(setup: Setup, cli: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "cli.mp4"
    no_reason = cli.invoke(cli_app, ["recordings", "export", str(setup.camera), "--start", iso(T0), "--end",
                                     iso(T0 + timedelta(seconds=6))])
    assert no_reason.exit_code == 2
    made = cli.invoke(cli_app, ["recordings", "export", str(setup.camera), "--start", "2026-12-07T09:00:03+07:00",
                                "--end", "2026-12-07T09:00:09+07:00", "--reason", "Thanh tra yêu cầu", "-o", str(out)])
    assert made.exit_code == 0, made.output
    assert "covers 2026-12-07T02:00:02+00:00 -> 2026-12-07T02:00:10+00:00" in made.output
    assert abs(ffprobe_duration(out) - 8.0) < 0.25
    assert cli.invoke(cli_app, ["recordings", "verify", str(out)]).exit_code == 0
    listing = cli.invoke(cli_app, ["recordings", "list", "--exports"])
    assert "Thanh tra yêu cầu" in listing.output and "cli:" in listing.output
    spans = cli.invoke(cli_app, ["recordings", "list", "--camera", str(setup.camera), "--since", iso(T0),
                                 "--until", iso(T0 + timedelta(minutes=1))])
    assert "recorded 2026-12-07T02:00:00+00:00 -> 2026-12-07T02:00:40+00:00 (20 segments" in spans.output
    assert "gap      2026-12-07T02:00:40+00:00 -> 2026-12-07T02:01:00+00:00 (20 s)" in spans.output
