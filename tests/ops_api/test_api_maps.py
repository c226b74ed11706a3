"""The map over the API: a site's plan picture uploaded (type, bytes and pixels checked; kept under the data
folder and served back), cameras placed on it with direction and field of view and on the city map, neighbours
both ways, what the map shows of each camera (open alarms), the related cameras of an alarm with their pictures
from the alarm's time, and the tile server's origin in the content security policy."""

from __future__ import annotations

import struct
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np

from core import media
from tests.support.api import ApiHarness, insert_event, seed_sites, serve_in_process


def png(width: int = 800, height: int = 500) -> bytes:
    image = np.full((height, width, 3), 235, np.uint8)
    cv2.rectangle(image, (40, 40), (width - 40, height - 40), (90, 90, 90), 6)
    return cv2.imencode(".png", image)[1].tobytes()


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares a huge picture (a decompression bomb's first bytes)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + header
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(header)) + chunk + struct.pack(">I", zlib.crc32(chunk))


def test_a_plan_is_uploaded_checked_served_and_replaced(api: ApiHarness) -> None:
    seeded = seed_sites(api.conn, 2)
    site_a, site_b = seeded.sites
    engineer = api.user("engineer", site_ids=[site_a])
    picture = png()
    put = api.client.put(f"/api/sites/{site_a}/plan", content=picture,
                         headers={**engineer.headers, "content-type": "image/png"})
    assert put.status_code == 200, put.text
    assert (put.json()["plan_width"], put.json()["plan_height"]) == (800, 500)
    got = api.client.get(put.json()["plan_url"], headers=api.user("operator").headers)
    assert got.status_code == 200 and got.content == picture and got.headers["content-type"] == "image/png"
    stored = api.conn.execute("SELECT plan_image FROM sites WHERE id = %s", (site_a,)).fetchone()["plan_image"]
    assert Path(stored).parent == media.plans_dir(api.settings.data_dir).absolute()
    assert api.client.put(f"/api/sites/{site_b}/plan", content=picture, headers=engineer.headers).status_code == 404
    assert api.client.put(f"/api/sites/{site_a}/plan", content=picture,
                          headers=api.user("operator").headers).status_code == 403
    not_picture = api.client.put(f"/api/sites/{site_a}/plan", content=b"<svg onload=alert(1)></svg>",
                                 headers={**engineer.headers, "content-type": "image/png"})
    assert not_picture.status_code == 422 and not_picture.json()["detail"][0]["code"] == "plan_not_picture"
    bomb = api.client.put(f"/api/sites/{site_a}/plan", content=png_claiming(100_000, 100_000), headers=engineer.headers)
    assert bomb.status_code == 422 and bomb.json()["detail"][0]["code"] == "plan_too_many_pixels"
    assert bomb.json()["detail"][0]["params"]["max_pixels"] == api.settings.map.plan_max_pixels
    damaged = api.client.put(f"/api/sites/{site_a}/plan", content=picture[:200], headers=engineer.headers)
    assert damaged.status_code == 422
    # a manager replaces it: the old file goes, cameras keep their places
    manager = api.user("manager")
    jpeg = cv2.imencode(".jpg", np.zeros((300, 400, 3), np.uint8))[1].tobytes()
    replaced = api.client.put(f"/api/sites/{site_a}/plan", content=jpeg, headers=manager.headers)
    assert replaced.status_code == 200 and replaced.json()["plan_width"] == 400
    assert not Path(stored).exists()
    assert api.client.get(replaced.json()["plan_url"], headers=manager.headers).headers["content-type"] == "image/jpeg"
    audit = api.conn.execute("SELECT after FROM audit_log WHERE action = 'site.plan' ORDER BY id").fetchall()
    assert [a["after"]["plan_width"] for a in audit] == [800, 400]
    assert str(api.settings.data_dir) not in str(audit)  # no server folder in the audit log


def test_a_plan_over_the_byte_limit_is_refused_with_the_limit(db_url: str, tmp_path: Path) -> None:
    with serve_in_process(db_url, tmp_path, sections={"map": {"plan_max_bytes": 20_000}}) as api:
        site = seed_sites(api.conn, 1).sites[0]
        noisy = cv2.imencode(".png", np.random.default_rng(1).integers(0, 255, (200, 200, 3), np.uint8))[1]
        answer = api.client.put(f"/api/sites/{site}/plan", content=noisy.tobytes(), headers=api.user("admin").headers)
        assert answer.status_code == 413
        assert answer.json()["detail"][0] | {"message": ""} == {"field": "body", "message": "",
                                                                "code": "plan_too_large",
                                                                "params": {"max_bytes": 20_000}}


def test_cameras_are_placed_on_the_plan_and_the_city_map_and_neighbours_go_both_ways(api: ApiHarness) -> None:
    seeded = seed_sites(api.conn, 2)
    site_a = seeded.sites[0]
    cam, other = seeded.cameras
    third = api.conn.execute("INSERT INTO cameras (site_id, name, source_kind) VALUES (%s, 'cam-3', 'rtsp')"
                             " RETURNING id", (site_a,)).fetchone()["id"]
    manager = api.user("manager", site_ids=[site_a])
    placed = api.client.put(f"/api/cameras/{cam}/placement", headers=manager.headers, json={
        "position": {"x": 0.25, "y": 0.6, "direction": 90, "fov": 70}, "latitude": 10.7731, "longitude": 106.7012})
    assert placed.status_code == 200, placed.text
    assert placed.json()["position"] == {"x": 0.25, "y": 0.6, "direction": 90, "fov": 70}
    moved = api.client.put(f"/api/cameras/{cam}/placement", headers=manager.headers, json={"latitude": 10.78})
    assert moved.json()["position"]["x"] == 0.25 and moved.json()["latitude"] == 10.78
    assert api.client.put(f"/api/cameras/{other}/placement", headers=manager.headers,
                          json={"latitude": 1}).status_code == 404
    bad = api.client.put(f"/api/cameras/{cam}/placement", headers=manager.headers,
                         json={"position": {"x": 1.2, "y": 0}})
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "body.position.x"
    assert api.client.put(f"/api/cameras/{cam}/neighbours", headers=manager.headers,
                          json={"camera_ids": [other]}).json()["detail"][0]["code"] == "unknown_camera"
    linked = api.client.put(f"/api/cameras/{cam}/neighbours", headers=manager.headers, json={"camera_ids": [third]})
    assert linked.json()["neighbours"] == [third]
    shown = {c["id"]: c for c in api.client.get("/api/map/cameras", params={"site_id": site_a},
                                                headers=api.user("operator").headers).json()}
    assert shown[third]["neighbours"] == [cam]
    assert shown[cam]["open_alarms"] == 2 and shown[cam]["alarm_priority"] == 1  # seed_sites: intrusion, absence
    assert api.client.get("/api/map/cameras", params={"site_id": seeded.sites[1]},
                          headers=manager.headers).status_code == 403
    assert [a["action"] for a in api.conn.execute("SELECT action FROM audit_log WHERE object_type = 'camera'"
                                                  " ORDER BY id")] == ["camera.place", "camera.place",
                                                                       "camera.neighbours"]


def test_an_alarms_related_cameras_show_their_pictures_from_its_time(api: ApiHarness) -> None:
    seeded = seed_sites(api.conn, 1)
    site, cam = seeded.sites[0], seeded.cameras[0]
    near, quiet, dead = (api.conn.execute("INSERT INTO cameras (site_id, name, source_kind, state) VALUES"
                                          " (%s, %s, 'rtsp', %s) RETURNING id", (site, name, state)).fetchone()["id"]
                         for name, state in (("cong-truoc", "online"), ("cong-sau", "online"), ("bai-xe", "offline")))
    admin = api.user("admin")
    api.client.put(f"/api/cameras/{cam}/neighbours", headers=admin.headers, json={"camera_ids": [near, quiet, dead]})
    now = datetime.now(UTC)
    alarm_event = insert_event(api.conn, site, cam, type="wrong_way", when=now)
    insert_event(api.conn, site, near, type="crowd", when=now - timedelta(minutes=30), evidence_path="far.jpg")
    close = insert_event(api.conn, site, near, type="crowd", when=now - timedelta(seconds=40), evidence_path="x.jpg")
    alarm = api.conn.execute("SELECT alarm_id FROM alarm_events WHERE event_id = %s", (alarm_event,)).fetchone()[
        "alarm_id"]
    related = {r["name"]: r for r in api.client.get(f"/api/alarms/{alarm}/related",
                                                    headers=api.user("operator").headers).json()}
    assert related["cong-truoc"]["picture"]["kind"] == "evidence"
    assert related["cong-truoc"]["picture"]["url"] == f"/api/events/{close}/evidence"
    assert related["cong-truoc"]["picture"]["clip_url"] == f"/api/events/{close}/clip.m3u8"
    assert related["cong-sau"]["picture"] == {"kind": "live", "url": f"/api/cameras/{quiet}/snapshot",
                                              "time": related["cong-sau"]["picture"]["time"], "event_id": None,
                                              "clip_url": None}
    assert related["bai-xe"]["picture"]["kind"] == "none"
    # a manager may not see live pictures; an old alarm has no live picture from its time
    by_manager = {r["name"]: r for r in api.client.get(f"/api/alarms/{alarm}/related",
                                                       headers=api.user("manager").headers).json()}
    assert by_manager["cong-sau"]["picture"]["kind"] == "none"
    api.conn.execute("UPDATE alarms SET last_time = now() - interval '2 hours' WHERE id = %s", (alarm,))
    old = {r["name"]: r for r in api.client.get(f"/api/alarms/{alarm}/related", headers=admin.headers).json()}
    assert old["cong-sau"]["picture"]["kind"] == "none" and old["cong-truoc"]["picture"]["kind"] == "none"


def test_the_tile_servers_origin_and_nothing_else_is_allowed_for_pictures(db_url: str, tmp_path: Path) -> None:
    tiles = {"map": {"tile_url": "http://127.0.0.1:8901/tiles/{z}/{x}/{y}.png", "tile_attribution": "Sở TT&TT"}}
    with serve_in_process(db_url, tmp_path, sections=tiles) as api:
        answer = api.client.get("/api/map", headers=api.user("operator").headers)
        assert answer.json()["tile_url"] == tiles["map"]["tile_url"]
        policy = answer.headers["content-security-policy"]
        img = next(p for p in policy.split(";") if p.strip().startswith("img-src"))
        assert img.split() == ["img-src", "'self'", "data:", "blob:", "http://127.0.0.1:8901"]
        assert "connect-src 'self'" in policy and "127.0.0.1:8901" not in policy.replace(img, "")
    with serve_in_process(db_url, tmp_path / "plain") as api:
        assert "8901" not in api.client.get("/healthz").headers["content-security-policy"]
