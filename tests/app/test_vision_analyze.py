"""``vigil analyze``: a recorded video through the engine, written as the documented JSON lines."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cameras.geometry import make_zone
from core.settings import VisionSettings
from core.types import Event, EventType, Severity
from tests.support.vision import MODELS, VTEST
from vigil.cli import app
from vigil.cli.common import ExitCode
from vision.engine import CameraSetup, VisionEngine
from vision.offline import JsonlSink, run_analysis

CAMERA_YAML = """
camera:
  id: 3
  name: junction
  analytics_fps: 5
  zones:
    - name: front
      kind: restricted
      points: [[0.7, 0.4], [1.0, 0.4], [1.0, 1.0], [0.7, 1.0]]
    - name: crossing
      kind: line
      points: [[0.0, 0.6], [1.0, 0.6]]
      direction: [0, 1]
"""


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("VIGIL_MODELS_DIR", str(MODELS))
    monkeypatch.setenv("VIGIL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("VIGIL_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _invoke(*args: str):
    return CliRunner().invoke(app, ["analyze", *args], catch_exceptions=False)


def test_analyze_writes_one_line_per_analysed_frame_in_source_pixels(env: Path):
    config = env / "camera.yaml"
    config.write_text(CAMERA_YAML)
    out = env / "out"
    result = _invoke(str(VTEST), "--camera-config", str(config), "--fps", "5", "--limit", "12", "--no-db",
                     "--jsonl", str(out), "--no-progress")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in (out / "detections.jsonl").read_text().splitlines()]
    assert [line["frame"] for line in lines] == list(range(0, 24, 2))  # 10 fps sampled at 5: every 2nd frame
    assert [line["t"] for line in lines] == pytest.approx([i / 10 for i in range(0, 24, 2)])
    people = 0
    for line in lines:
        assert set(line) == {"frame", "t", "objects"}
        for obj in line["objects"]:
            assert set(obj) == {"cls", "conf", "box", "track"}
            assert obj["cls"] in {"person", "bicycle", "car", "motorcycle", "bus", "truck"}
            assert 0 < obj["conf"] <= 1
            x1, y1, x2, y2 = obj["box"]
            assert 0 <= x1 < x2 <= 768 and 0 <= y1 < y2 <= 576  # pixels of the 768x576 source
            assert isinstance(obj["track"], int)
            people += obj["cls"] == "person"
    assert people >= 2 * len(lines)
    tracks = {obj["track"] for line in lines for obj in line["objects"] if obj["cls"] == "person"}
    assert len(tracks) <= 8
    assert (out / "events.jsonl").is_file()


def test_analyze_refuses_invalid_zones_naming_the_zone(env: Path):
    config = env / "camera.yaml"
    config.write_text(CAMERA_YAML.replace("[[0.7, 0.4], [1.0, 0.4], [1.0, 1.0], [0.7, 1.0]]",
                                          "[[0.7, 0.4], [1.0, 1.0], [1.0, 0.4], [0.7, 1.0]]"))
    result = _invoke(str(VTEST), "--camera-config", str(config), "--no-db", "--jsonl", str(env / "out"))
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert "zone 'front'" in result.output and "self-intersecting" in result.output


def test_analyze_says_what_is_wrong_before_starting(env: Path):
    missing_model = _invoke(str(VTEST), "--model", str(env / "nope.pt"), "--no-db", "--jsonl", str(env / "o"))
    assert missing_model.exit_code == ExitCode.NOT_FOUND and "nope.pt" in missing_model.output
    nothing = _invoke(str(VTEST), "--no-db")
    assert nothing.exit_code == ExitCode.USAGE and "--jsonl" in nothing.output
    no_video = _invoke(str(env / "absent.mp4"), "--no-db", "--jsonl", str(env / "o"))
    assert no_video.exit_code == ExitCode.NOT_FOUND


class _Crowd:
    """A test rule: one event for the whole run, open while two or more people are in view."""

    name = "crowd"

    def __init__(self, camera_id: int = 3, zone_id: int | None = 1) -> None:
        self.camera_id, self.zone_id = camera_id, zone_id
        self.event: Event | None = None

    def update(self, tracks, now: datetime):
        from vision.rules.base import RuleOutput

        output = RuleOutput()
        people = [t for t in tracks if t.class_name == "person"]
        if len(people) >= 2 and self.event is None:
            self.event = Event(EventType.CROWD, self.camera_id, now, Severity.LOW, zone_id=self.zone_id,
                               attributes={"people": len(people)})
            output.events.append(self.event)
        elif self.event is not None and self.event.end is None and now.timestamp() - self.event.start.timestamp() > 1:
            self.event.end = now
            output.events.append(self.event)
        return output


def test_events_jsonl_has_one_object_per_event_with_times_from_start(coco_detector, tmp_path: Path):
    zone = make_zone("hall", "crowd", [(0, 0), (1, 0), (1, 1), (0, 1)], id=1)
    engine = VisionEngine(coco_detector, VisionSettings(), [CameraSetup(3, [zone], [_Crowd()])])
    sink = JsonlSink(tmp_path, [zone])
    start = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
    done = run_analysis(engine, VTEST, 3, start, [sink], fps=5, limit=10)
    sink.close()
    assert done == 10
    events = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert len(events) == 1  # opened, then closed: one object, its last version
    event = events[0]
    assert {"type", "start", "end", "zone", "track", "severity", "attributes"} <= set(event)
    assert event["type"] == "crowd" and event["zone"] == "hall" and event["severity"] == "low"
    assert event["start"] == "2026-11-22T08:00:00+00:00"  # the first frame, at --start
    assert datetime.fromisoformat(event["end"]) > datetime.fromisoformat(event["start"])
    assert event["attributes"]["people"] >= 2


def test_analyze_backfills_the_database_through_the_store_writer(env: Path, db_url: str,
                                                                monkeypatch: pytest.MonkeyPatch):
    import psycopg
    import yaml

    import vision.rules
    from store.config_io import export_config, import_config
    from store.db import connect

    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setattr(vision.rules, "build_rules", lambda plan: [_Crowd(plan.camera_id, plan.zones[0].id)])
    with connect(db_url) as conn:  # a registered camera, exported as `vigil config export` writes it
        import_config(conn, {"version": 1, "sites": [{"code": "q1", "name": "Junction", "kind": "street",
                                                      "cameras": [{"name": "north", "source": "file",
                                                                  "main_uri": str(VTEST), "zones": [
                                                          {"name": "hall", "kind": "crowd",
                                                           "points": [[0, 0], [1, 0], [1, 1], [0, 1]]}]}]}]}, None)
        exported = export_config(conn)
        camera_id, zone_id = conn.execute("SELECT camera_id, id FROM zones WHERE name = 'hall'").fetchone().values()
    config = env / "north.yaml"
    config.write_text(yaml.safe_dump(exported))
    result = _invoke(str(VTEST), "--camera-config", str(config), "--fps", "5", "--limit", "10",
                     "--start", "2026-11-22T08:00:00+07:00", "--no-progress")
    assert result.exit_code == 0, result.output
    with psycopg.connect(db_url) as conn:
        rows = conn.execute("SELECT type, time, end_time, camera_id, zone_id FROM events").fetchall()
    assert len(rows) == 1
    kind, start, end, event_camera, event_zone = rows[0]
    assert (kind, event_camera, event_zone) == ("crowd", camera_id, zone_id)  # the registry's ids
    assert start == datetime.fromisoformat("2026-11-22T08:00:00+07:00")  # a backfill: times from --start
    assert end is not None and end > start


def test_the_camera_config_is_what_vigil_config_export_writes(db_url: str, tmp_path: Path):
    import yaml

    from store.config_io import export_config, import_config
    from store.db import connect
    from vision.camera_config import CameraConfigError, load_camera_config

    setup = {"version": 1, "sites": [{"code": "q1", "name": "Junction", "kind": "street", "cameras": [{
        "name": "north", "source": "file", "main_uri": str(VTEST), "analytics_fps": 5, "zones": [
            {"name": "front", "kind": "restricted", "points": [[0.7, 0.4], [1.0, 0.4], [1.0, 1.0], [0.7, 1.0]]},
            {"name": "crossing", "kind": "line", "points": [[0.0, 0.6], [1.0, 0.6]], "direction": [0, 1]}]}]}]}
    with connect(db_url) as conn:
        import_config(conn, setup, None)
        exported = export_config(conn)
    path = tmp_path / "north.yaml"
    path.write_text(yaml.safe_dump(exported, sort_keys=False))
    camera = load_camera_config(path)
    assert camera.name == "north" and camera.analytics_fps == 5
    zones = {z.name: z for z in camera.zones}
    assert {name: z.kind.value for name, z in zones.items()} == {"front": "restricted", "crossing": "line"}
    assert zones["crossing"].direction == (0.0, 1.0)
    exported["sites"][0]["cameras"].append(dict(exported["sites"][0]["cameras"][0], name="south"))
    path.write_text(yaml.safe_dump(exported, sort_keys=False))
    with pytest.raises(CameraConfigError, match=r"2 cameras \(north, south\)"):
        load_camera_config(path)


def test_a_camera_file_with_its_sites_counters_and_hours_plans_the_hall_rule(tmp_path: Path):
    """`vigil analyze --camera-config` on an exported hall camera: the counters it watches (numbered as in the
    file), the site's working hours and capacity reach the hall rule as they do in the worker."""
    import yaml

    from cameras.plan import CounterPlan
    from vision.camera_config import load_camera_config
    from vision.rules import HallRule, build_rules

    zones = [{"name": "staff", "kind": "counter_staff", "points": [[0.4, 0.05], [0.6, 0.05], [0.6, 0.3]]},
             {"name": "desk", "kind": "counter_customer", "points": [[0.4, 0.35], [0.6, 0.35], [0.6, 0.55]]}]
    hours = {"weekly": {"mon": [["07:30", "11:30"]]}}
    path = tmp_path / "hall.yaml"
    path.write_text(yaml.safe_dump({"version": 1, "sites": [{
        "code": "q1", "name": "Trung tâm Quận 1", "capacity": 30, "working_hours": hours,
        "counters": [{"number": 4, "department": "Tư pháp", "camera": "hall-1", "staff_zone": "staff",
                      "customer_zone": "desk"}, {"number": 5, "department": "Đất đai", "camera": "hall-2"}],
        "cameras": [{"name": "hall-1", "source": "file", "main_uri": str(VTEST), "zones": zones}]}]}))
    plan = load_camera_config(path).plan()
    assert plan.counters == (CounterPlan(4, 1, 2),)  # zone ids are their order in the file
    monday_9am, sunday_9am = (datetime(2026, 11, d, 2, 0, tzinfo=UTC) for d in (23, 22))
    assert plan.calendar is not None and plan.calendar.is_open(monday_9am) and not plan.calendar.is_open(sunday_9am)
    (hall,) = build_rules(plan)
    assert isinstance(hall, HallRule) and hall.capacity == 30 and [c.spec.counter_id for c in hall.counters] == [4]
