"""A camera's plan read from the registry: what the vision worker starts the camera with."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest

from cameras.crypto import SecretBox
from cameras.geometry import make_zone
from cameras.models import CameraRecord, CounterRecord, SiteRecord, SourceKind
from cameras.plan import CounterPlan
from core.calendar import CalendarError
from store import registry
from store.plans import load_camera_plan
from vision.rules import HallRule, build_rules

HOURS = {"weekly": {"mon": [["07:30", "11:30"], ["13:30", "17:00"]]}}
HCM = ZoneInfo("Asia/Ho_Chi_Minh")


def test_the_plan_holds_the_cameras_stream_zones_counters_and_its_sites_hours(db: psycopg.Connection,
                                                                            tmp_path: Path) -> None:
    box = SecretBox.from_key_file(tmp_path / "secret.key")
    site = registry.save_site(db, SiteRecord(code="q1", name="Trung tâm Quận 1", working_hours=HOURS, capacity=40))
    camera = registry.save_camera(db, CameraRecord(site_id=site.id, name="hall-1", source_kind=SourceKind.RTSP,
                                                   username="admin", main_uri="rtsp://10.0.0.21/main"),
                                  password="s3cret!", box=box)
    other = registry.save_camera(db, CameraRecord(site_id=site.id, name="hall-2", source_kind=SourceKind.RTSP,
                                                  main_uri="rtsp://10.0.0.22/main"))
    staff = registry.save_zone(db, camera.id, make_zone("staff 1", "counter_staff",
                                                        [[0.1, 0.1], [0.4, 0.1], [0.4, 0.4]]))
    customer = registry.save_zone(db, camera.id, make_zone("customer 1", "counter_customer",
                                                           [[0.1, 0.5], [0.4, 0.5], [0.4, 0.9]]))
    registry.save_zone(db, camera.id, make_zone("seats", "queue", [[0.5, 0.5], [0.9, 0.5], [0.9, 0.9]]))
    counter = registry.save_counter(db, CounterRecord(site_id=site.id, number=1, department="Tư pháp",
                                                      camera_id=camera.id, staff_zone_id=staff.id,
                                                      customer_zone_id=customer.id))
    registry.save_counter(db, CounterRecord(site_id=site.id, number=2, department="Đất đai", camera_id=other.id))

    plan = load_camera_plan(db, camera.id, box)
    assert (plan.camera_id, plan.site_id, plan.name, plan.capacity) == (camera.id, site.id, "hall-1", 40)
    assert plan.source is not None and plan.source.password == "s3cret!"  # the reader opens the stream with it
    assert {z.name for z in plan.zones} == {"staff 1", "customer 1", "seats"}
    assert plan.counters == (CounterPlan(counter.id, staff.id, customer.id),)  # counter 2 is the other camera's
    assert plan.calendar is not None and plan.calendar.is_open(datetime(2026, 11, 23, 9, 0, tzinfo=HCM))
    assert not plan.calendar.is_open(datetime(2026, 11, 23, 12, 0, tzinfo=HCM))  # Monday's lunch break
    (hall,) = build_rules(plan)
    assert isinstance(hall, HallRule) and hall.capacity == 40
    assert [c.spec.counter_id for c in hall.counters] == [counter.id]


def test_a_camera_whose_site_hours_are_broken_has_no_plan(db: psycopg.Connection, tmp_path: Path) -> None:
    site = registry.save_site(db, SiteRecord(code="q3", name="Quận 3"))
    camera = registry.save_camera(db, CameraRecord(site_id=site.id, name="gate", source_kind=SourceKind.RTSP,
                                                   main_uri="rtsp://10.0.0.9/a"))
    db.execute("UPDATE sites SET working_hours = %s WHERE id = %s", ('{"weekly": {"mon": [["25:00", "26:00"]]}}',
                                                                     site.id))
    with pytest.raises(CalendarError):
        load_camera_plan(db, camera.id, None)
    with pytest.raises(registry.NotFound):
        load_camera_plan(db, camera.id + 100, None)
