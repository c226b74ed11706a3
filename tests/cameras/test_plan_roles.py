"""A camera's role (what it watches) sets its default analytics rate: counters 2 fps, streets 5."""

from __future__ import annotations

from cameras.geometry import make_zone
from cameras.models import CameraSource
from cameras.plan import CameraPlan, CameraRole, CounterPlan
from core.settings import IngestSettings

SQUARE = [[0.1, 0.1], [0.5, 0.1], [0.5, 0.5], [0.1, 0.5]]


def test_counter_cameras_take_2_fps_street_cameras_5_and_others_the_plain_default() -> None:
    ingest = IngestSettings()
    counter = CameraPlan(1, (make_zone("q", "queue", SQUARE),))
    staffed = CameraPlan(2, (), (CounterPlan(7, None, None),))
    street = CameraPlan(3, (make_zone("lane", "lane", SQUARE, direction=[1, 0]),))
    lawn = CameraPlan(4, (make_zone("lawn", "restricted", SQUARE),))
    bare = CameraPlan(5)
    assert [p.role for p in (counter, staffed, street, lawn, bare)] == [
        CameraRole.COUNTER, CameraRole.COUNTER, CameraRole.STREET, CameraRole.STREET, CameraRole.OTHER]
    assert [p.analytics_fps(ingest) for p in (counter, staffed, street, lawn, bare)] == [2.0, 2.0, 5.0, 5.0, 2.0]


def test_a_camera_s_own_rate_wins_over_its_role_and_the_settings_move_the_defaults() -> None:
    street = make_zone("lane", "lane", SQUARE, direction=[1, 0])
    own = CameraPlan(3, (street,), source=CameraSource.from_rtsp(3, "rtsp://cam/1", analytics_fps=8))
    assert own.analytics_fps(IngestSettings()) == 8
    plan = CameraPlan(3, (street,), source=CameraSource.from_rtsp(3, "rtsp://cam/1"))
    assert plan.analytics_fps(IngestSettings(street_fps=6, counter_fps=3)) == 6
