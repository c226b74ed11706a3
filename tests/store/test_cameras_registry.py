"""The camera registry and its YAML round trip, on a real PostgreSQL database."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import psycopg
import pytest
import yaml

from cameras.crypto import CredentialError, SecretBox
from cameras.geometry import make_zone
from cameras.models import CameraRecord, CounterRecord, SiteRecord, SourceKind
from store import registry
from store.config_io import ConfigError, export_config, import_config

HOURS = {"weekly": {"mon": [["07:30", "11:30"], ["13:30", "17:00"]], "sat": [["07:30", "11:30"]]},
         "holidays": ["2026-09-02"]}


@pytest.fixture
def box(tmp_path: Path) -> SecretBox:
    return SecretBox.from_key_file(tmp_path / "keys" / "secret.key")


def _city(db: psycopg.Connection, box: SecretBox) -> tuple[SiteRecord, CameraRecord]:
    site = registry.save_site(db, SiteRecord(code="q1-center", name="Trung tâm Quận 1", level="district",
                                             working_hours=HOURS, capacity=80))
    camera = registry.save_camera(db, CameraRecord(site_id=site.id, name="hall-1", onvif_host="10.0.0.21",
                                                   onvif_port=80, username="admin",
                                                   main_uri="rtsp://10.0.0.21/main", sub_uri="rtsp://10.0.0.21/sub",
                                                   analytics_fps=2.0, info={"model": "DS-2CD"}),
                                  password="s3cret!", box=box)
    staff = registry.save_zone(db, camera.id, make_zone("counter-1-staff", "counter_staff",
                                                        [[0.1, 0.1], [0.4, 0.1], [0.4, 0.4]]))
    customer = registry.save_zone(db, camera.id, make_zone("counter-1-customer", "counter_customer",
                                                           [[0.1, 0.5], [0.4, 0.5], [0.4, 0.9]]))
    registry.save_counter(db, CounterRecord(site_id=site.id, number=1, department="Tư pháp", officer="Nguyễn Văn A",
                                            camera_id=camera.id, staff_zone_id=staff.id,
                                            customer_zone_id=customer.id))
    return site, camera


def test_key_file_is_created_private_on_first_use(tmp_path: Path) -> None:
    key_file = tmp_path / "data" / "secret.key"
    box = SecretBox.from_key_file(key_file)
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert SecretBox.from_key_file(key_file).decrypt(box.encrypt("x")) == "x"  # the same key next time
    other = SecretBox.from_key_file(tmp_path / "other.key")
    with pytest.raises(CredentialError, match="another key"):
        other.decrypt(box.encrypt("x"))


def test_passwords_are_stored_encrypted_and_only_the_reader_gets_them(db: psycopg.Connection, box: SecretBox,
                                                                      tmp_path: Path) -> None:
    _site, camera = _city(db, box)
    stored = db.execute("SELECT password_enc FROM cameras WHERE id = %s", (camera.id,)).fetchone()["password_enc"]
    assert b"s3cret" not in bytes(stored)
    assert camera.has_password and "s3cret" not in repr(camera)
    source = registry.camera_source(db, "q1-center/hall-1", box)
    assert source.uri == "rtsp://10.0.0.21/sub"  # analytics reads the sub-stream
    assert source.password == "s3cret!" and "s3cret" not in repr(source)
    assert source.open_uri == "rtsp://admin:s3cret%21@10.0.0.21/sub"
    with pytest.raises(registry.RegistryError, match=r"camera 'hall-1': .*another key"):
        registry.camera_source(db, camera.id, SecretBox.from_key_file(tmp_path / "other.key"))


def test_crud_by_human_keys(db: psycopg.Connection, box: SecretBox) -> None:
    site, camera = _city(db, box)
    assert registry.get_camera(db, "q1-center/hall-1").id == camera.id
    assert [(c.number, c.department) for c in registry.counters_watched(db, camera.id)] == [(1, "Tư pháp")]
    assert [c.name for c in registry.list_cameras(db, "q1-center")] == ["hall-1"]
    updated = registry.save_camera(db, CameraRecord(site_id=site.id, name="hall-1", source_kind=SourceKind.RTSP,
                                                    main_uri="rtsp://10.0.0.21/other"))
    assert updated.id == camera.id and updated.has_password  # password kept when not given
    registry.set_camera_state(db, camera.id, "offline")
    assert registry.get_camera(db, camera.id).state == "offline"
    assert registry.camera_source(db, camera.id, box).site_id == site.id
    assert [z.name for z in registry.list_zones(db, camera.id)] == ["counter-1-customer", "counter-1-staff"]
    with pytest.raises(registry.RegistryError, match="still has cameras"):
        registry.delete_site(db, "q1-center")
    registry.delete_camera(db, "q1-center/hall-1")
    with pytest.raises(registry.NotFound):
        registry.get_camera(db, "q1-center/hall-1")
    assert registry.list_counters(db, "q1-center")[0].camera_id is None  # the counter stays, unwatched


def test_bad_working_hours_are_refused_with_the_field_named(db: psycopg.Connection) -> None:
    with pytest.raises(ValueError, match=r"working_hours.weekly.mon\[0\]: end 07:00 is before start 11:30"):
        registry.save_site(db, SiteRecord(code="bad", name="Bad",
                                          working_hours={"weekly": {"mon": [["11:30", "07:00"]]}}))


def test_export_never_shows_a_password_and_import_restores_everything(db: psycopg.Connection, box: SecretBox,
                                                                       db_url: str) -> None:
    _city(db, box)
    exported = export_config(db)
    text = yaml.safe_dump(exported, allow_unicode=True, sort_keys=False)
    assert "s3cret" not in text
    camera = exported["sites"][0]["cameras"][0]
    assert camera["password"] is None
    assert exported["sites"][0]["counters"][0] == {"number": 1, "department": "Tư pháp", "officer": "Nguyễn Văn A",
                                                   "camera": "hall-1", "staff_zone": "counter-1-staff",
                                                   "customer_zone": "counter-1-customer"}
    # Into an empty database, the password coming from the environment.
    camera["password_env"] = "HALL1_PASSWORD"
    db.execute("DELETE FROM counters; DELETE FROM zones; DELETE FROM cameras; DELETE FROM sites")
    report = import_config(db, yaml.safe_load(text.replace("password: null", "password_env: HALL1_PASSWORD")), box,
                           env={"HALL1_PASSWORD": "s3cret!"})
    assert (report.sites, report.cameras, report.zones, report.counters, report.passwords_set) == (1, 1, 2, 1, 1)
    assert export_config(db) == {**exported, "sites": [{**exported["sites"][0], "cameras": [
        {k: v for k, v in camera.items() if k != "password_env"}]}]}
    assert registry.camera_source(db, "q1-center/hall-1", box).password == "s3cret!"
    # Importing the same file again changes nothing.
    import_config(db, yaml.safe_load(text), box, env={})
    assert export_config(db)["sites"][0]["cameras"][0]["zones"] == camera["zones"]


def test_import_lists_every_problem_with_its_place(db: psycopg.Connection, box: SecretBox) -> None:
    bad = {"version": 1, "sites": [{
        "code": "s1", "name": "Site", "working_hours": {"weekly": {"tue": [["13:30", "11:00"]]}},
        "cameras": [{"name": "c1", "source": "onvif", "password_env": "NOPE",
                     "zones": [{"name": "z", "kind": "queue", "points": [[0, 0], [1, 1]]}]},
                    {"name": "c2", "source": "rtsp"}],
        "counters": [{"number": 1, "department": "X", "camera": "c9"}]}]}
    with pytest.raises(ConfigError) as caught:
        import_config(db, bad, box, env={})
    errors = caught.value.errors
    assert "sites[0].working_hours.weekly.tue[0]: end 11:00 is before start 13:30" in errors
    assert "sites[0].cameras[0].onvif.host: missing (an ONVIF camera needs its address)" in errors
    assert "sites[0].cameras[0].password_env: the variable NOPE is not set" in errors
    assert any(e.startswith("sites[0].cameras[0].zones[0]: zone 'z': a zone needs at least 3 points") for e in errors)
    assert "sites[0].cameras[1].main_uri: missing (a rtsp camera needs its URL or file)" in errors
    assert "sites[0].counters[0].camera: no camera 'c9' in this site" in errors
    assert registry.list_sites(db) == []  # nothing half-imported
