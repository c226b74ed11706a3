"""Who may do what, on the server: every endpoint for every role (200/201/204, 401, 403), and site scope
(404 for objects in other sites, 403 for filters naming them, lists limited to one's sites)."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.support.api import ApiHarness, ApiUser, Seeded, seed_sites
from tests.support.recordings import Piece, index_footage

ROLES = ("operator", "manager", "engineer", "admin")
EVERYONE = frozenset(ROLES)
FOOTAGE = frozenset({"manager", "admin"})  # of a counter camera (ops_api/footage.py)
_serial = itertools.count()


@dataclass(frozen=True)
class World:
    api: ApiHarness
    seeded: Seeded
    users: dict[str, ApiUser]  # role -> user of every site; "scoped-<role>" -> user of site A only
    footage: dict[str, str]  # camera A's recorded segment and a range around it
    service: dict[str, int]  # the province of both sites, an officer of each

    def ids(self) -> dict[str, Any]:
        s = self.seeded
        return {**self.footage, "site_a": s.sites[0], "site_b": s.sites[1], "camera_a": s.cameras[0],
                "camera_b": s.cameras[1], "zone_a": s.zones[0], "zone_b": s.zones[3], "counter_a": s.counters[0],
                "counter_b": s.counters[1],
                "event_a": s.events[0], "event_b": s.events[3], "user_id": self.users["operator"].id,
                "today": datetime.now(UTC).date().isoformat(), "month": datetime.now(UTC).strftime("%Y-%m"),
                "alarm_a": self.alarm(s.events[0]), "alarm_b": self.alarm(s.events[3]),
                "recipient_id": self.users["recipient"].id, **self.service}

    def alarm(self, event_id: uuid.UUID) -> int:
        """The alarm the event raised (seed_sites' first event of each site is an intrusion: an alarm)."""
        return self.api.conn.execute("SELECT alarm_id FROM alarm_events WHERE event_id = %s",
                                     (event_id,)).fetchone()["alarm_id"]


@pytest.fixture(scope="module")
def world(module_api: ApiHarness, recorded_segments: list[Piece]) -> World:
    seeded = seed_sites(module_api.conn)
    users = {role: module_api.user(role) for role in ROLES}
    users |= {f"scoped-{role}": module_api.user(role, site_ids=[seeded.sites[0]]) for role in ROLES}
    # Camera A (a counter camera: its managers' footage) recorded around event A (an hour ago).
    event_time = module_api.conn.execute("SELECT time FROM events WHERE id = %s", (seeded.events[0],)
                                         ).fetchone()["time"]
    start = event_time - timedelta(seconds=12)
    segments = index_footage(module_api.conn, module_api.settings.data_dir, seeded.cameras[0], start,
                             recorded_segments[:12])
    live = module_api.settings.data_dir / "recordings" / str(seeded.cameras[0]) / "live.m3u8"
    live.write_text("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\n" + Path(segments[-1].path).relative_to(
        str(seeded.cameras[0])).as_posix() + "\n")
    stamp = "%Y-%m-%dT%H:%M:%SZ"
    footage = {"segment_a": segments[0].path, "rec_start": start.astimezone(UTC).strftime(stamp),
               "rec_end": (start + timedelta(seconds=8)).astimezone(UTC).strftime(stamp)}
    conn = module_api.conn
    province = conn.execute("INSERT INTO provinces (code, name) VALUES ('hcm', 'TP Hồ Chí Minh') RETURNING id"
                            ).fetchone()["id"]
    conn.execute("UPDATE sites SET province_id = %s", (province,))
    officers = [conn.execute("INSERT INTO officers (site_id, full_name, staff_code) VALUES (%s, 'Cán bộ', 'CB-1')"
                             " RETURNING id", (site,)).fetchone()["id"] for site in seeded.sites]
    users["recipient"] = module_api.user("operator")  # the next shift of every handover below
    return World(module_api, seeded, users, footage, {"province": province, "officer_a": officers[0],
                                                      "officer_b": officers[1]})


def unique() -> str:
    return f"t{next(_serial)}-{uuid.uuid4().hex[:4]}"


def unique_type() -> str:
    return f"t{next(_serial)}_{uuid.uuid4().hex[:4]}"


Body = Callable[[dict[str, Any]], Any] | None
# (method, path, body, roles allowed, success status)
ENDPOINTS: list[tuple[str, str, Body, frozenset[str], int]] = [
    ("GET", "/api/auth/me", None, EVERYONE, 200),
    ("PATCH", "/api/auth/me", lambda i: {"language": "en"}, EVERYONE, 200),
    ("GET", "/api/auth/tokens", None, EVERYONE, 200),
    ("GET", "/api/users", None, frozenset({"admin"}), 200),
    ("POST", "/api/users", lambda i: {"username": unique(), "password": "long-enough-pass", "role": "operator"},
     frozenset({"admin"}), 201),
    ("GET", "/api/users/{user_id}", None, frozenset({"admin"}), 200),
    ("PATCH", "/api/users/{user_id}", lambda i: {"display_name": "Lan"}, frozenset({"admin"}), 200),
    ("GET", "/api/users/{user_id}/tokens", None, frozenset({"admin"}), 200),
    ("GET", "/api/audit", None, frozenset({"admin"}), 200),
    ("GET", "/api/sites", None, EVERYONE, 200),
    ("GET", "/api/sites/{site_a}", None, EVERYONE, 200),
    ("POST", "/api/sites", lambda i: {"code": unique(), "name": "Phường Bến Nghé", "kind": "street"},
     frozenset({"admin"}), 201),
    ("PATCH", "/api/sites/{site_a}", lambda i: {"address": "86 Lê Thánh Tôn"}, frozenset({"admin"}), 200),
    ("GET", "/api/counters/live", None, frozenset({"manager", "admin"}), 200),
    ("GET", "/api/counters/{counter_a}/timeline", None, frozenset({"manager", "admin"}), 200),
    ("GET", "/api/counters/{counter_a}/audit", None, frozenset({"manager", "admin"}), 200),
    ("GET", "/api/sites/{site_a}/counter-audit", None, frozenset({"manager", "admin"}), 200),
    ("GET", "/api/sites/{site_a}/hall", None, frozenset({"manager", "admin"}), 200),
    ("GET", "/api/sites/{site_a}/street", None, frozenset({"operator", "manager", "admin"}), 200),
    ("GET", "/api/cameras", None, frozenset({"operator", "engineer", "admin"}), 200),
    ("GET", "/api/cameras/health", None, frozenset({"operator", "engineer", "admin"}), 200),
    ("GET", "/api/cameras/{camera_a}", None, frozenset({"operator", "engineer", "admin"}), 200),
    ("GET", "/api/cameras/{camera_a}/health", None, frozenset({"operator", "engineer", "admin"}), 200),
    ("POST", "/api/cameras", lambda i: {"site_id": i["site_a"], "name": unique(), "source_kind": "rtsp",
                                        "main_uri": "rtsp://192.0.2.10/s1"}, frozenset({"engineer", "admin"}), 201),
    ("PATCH", "/api/cameras/{camera_a}", lambda i: {"analytics_fps": 2.0}, frozenset({"engineer", "admin"}), 200),
    ("GET", "/api/cameras/{camera_a}/zones", None, frozenset({"operator", "engineer", "admin"}), 200),
    ("GET", "/api/pictures/stream?cameras={camera_a}&seconds=1", None, frozenset({"operator", "engineer", "admin"}),
     200),
    ("POST", "/api/cameras/{camera_a}/zones", lambda i: {"name": unique(), "kind": "crowd",
                                                         "points": [[0.1, 0.1], [0.2, 0.1], [0.2, 0.2]]},
     frozenset({"engineer", "admin"}), 201),
    ("GET", "/api/zones/{zone_a}", None, frozenset({"operator", "engineer", "admin"}), 200),
    ("GET", "/api/counters", None, frozenset({"manager", "engineer", "admin"}), 200),
    ("GET", "/api/counters/{counter_a}", None, frozenset({"manager", "engineer", "admin"}), 200),
    ("PATCH", "/api/counters/{counter_a}", lambda i: {"officer": "Lê Văn C"}, frozenset({"engineer", "admin"}), 200),
    ("GET", "/api/events", None, frozenset({"operator", "manager", "admin"}), 200),
    ("GET", "/api/events/assignees", None, frozenset({"operator", "admin"}), 200),
    ("GET", "/api/events/{event_a}", None, frozenset({"operator", "manager", "admin"}), 200),
    ("POST", "/api/events/{event_a}/notes", lambda i: {"text": "đã kiểm tra"}, frozenset({"operator", "admin"}), 200),
    ("GET", "/api/exports/events?format=xlsx", None, frozenset({"manager", "admin"}), 200),
    ("GET", "/api/exports/counter-audit?site_id={site_a}&date_from={today}", None,
     frozenset({"manager", "admin"}), 200),
    # Recordings: camera A watches a counter, so its footage is its center's managers' (and admins'), whatever
    # the operator's or engineer's other rights (tests/ops_api/test_api_recordings.py: street cameras, scope).
    ("GET", "/api/recordings/cameras", None, frozenset({"operator", "manager", "admin"}), 200),
    ("GET", "/api/recordings/{camera_a}/spans?start={rec_start}&end={rec_end}", None, FOOTAGE, 200),
    ("GET", "/api/recordings/{camera_a}/playlist.m3u8?start={rec_start}&end={rec_end}", None, FOOTAGE, 200),
    ("GET", "/api/recordings/{camera_a}/segments/{segment_a}", None, FOOTAGE, 200),
    ("GET", "/api/recordings/{camera_a}/live.m3u8", None, FOOTAGE, 200),
    ("GET", "/api/recordings/{camera_a}/holds", None, FOOTAGE, 200),
    ("GET", "/api/events/{event_a}/clip", None, FOOTAGE, 200),
    ("GET", "/api/events/{event_a}/clip.m3u8", None, FOOTAGE, 200),
    ("POST", "/api/recordings/{camera_a}/exports", lambda i: {"start": i["rec_start"], "end": i["rec_end"],
                                                              "reason": "kiểm tra quyền"}, FOOTAGE, 201),
    ("GET", "/api/alarms", None, frozenset({"operator", "manager", "admin"}), 200),
    ("GET", "/api/alarms/{alarm_a}", None, frozenset({"operator", "manager", "admin"}), 200),
    ("GET", "/api/alarms/{alarm_a}/related", None, frozenset({"operator", "manager", "admin"}), 200),
    ("POST", "/api/alarms/{alarm_a}/notes", lambda i: {"text": "đang theo dõi"}, frozenset({"operator", "admin"}), 200),
    ("POST", "/api/alarms/{alarm_a}/steps/3", lambda i: {"note": "đã ghi"}, frozenset({"operator", "admin"}), 200),
    ("GET", "/api/alarm-rules", None, frozenset({"operator", "manager", "admin"}), 200),
    ("POST", "/api/alarm-rules", lambda i: {"site_id": i["site_a"], "event_type": unique_type(), "priority": 2},
     frozenset({"manager", "admin"}), 201),
    ("GET", "/api/procedures", None, frozenset({"operator", "manager", "admin"}), 200),
    ("PUT", "/api/procedures", lambda i: {"site_id": i["site_a"], "event_type": "crowd",
                                          "steps": [{"text": "Xem lại clip"}]}, frozenset({"manager", "admin"}), 200),
    ("GET", "/api/handovers", None, frozenset({"operator", "manager", "admin"}), 200),
    ("GET", "/api/handovers/draft", None, frozenset({"operator", "admin"}), 200),
    ("POST", "/api/handovers", lambda i: {"to_user_id": i["recipient_id"], "remarks": "bình thường"},
     frozenset({"operator", "admin"}), 201),
    ("GET", "/api/map", None, EVERYONE, 200),
    ("GET", "/api/map/cameras", None, EVERYONE, 200),
    ("PUT", "/api/cameras/{camera_a}/placement", lambda i: {"position": {"x": 0.5, "y": 0.5, "direction": 45}},
     frozenset({"manager", "engineer", "admin"}), 200),
    ("PUT", "/api/cameras/{camera_a}/neighbours", lambda i: {"camera_ids": []},
     frozenset({"manager", "engineer", "admin"}), 200),
    ("DELETE", "/api/sites/{site_a}/plan", None, frozenset({"manager", "engineer", "admin"}), 204),
    ("GET", "/api/devices", None, frozenset({"admin"}), 200),
    ("GET", "/api/outbound", None, frozenset({"admin"}), 200),
    ("GET", "/metrics", None, frozenset({"admin"}), 200),
    # service centers (issue 17): officers are for managers and admins; the hall screen's key for admins
    ("GET", "/api/officers", None, frozenset({"manager", "admin"}), 200),
    ("POST", "/api/officers", lambda i: {"site_id": i["site_a"], "full_name": "Lê Thị Tư", "staff_code": unique()},
     frozenset({"manager", "admin"}), 201),
    ("GET", "/api/officers/{officer_a}", None, frozenset({"manager", "admin"}), 200),
    ("PATCH", "/api/officers/{officer_a}", lambda i: {"department": "Tư pháp"}, frozenset({"manager", "admin"}), 200),
    ("GET", "/api/officers/{officer_a}/report?month={month}", None, frozenset({"manager", "admin"}), 200),
    ("GET", "/api/sites/{site_a}/roster", None, frozenset({"manager", "admin"}), 200),
    ("GET", "/api/sites/{site_a}/assignments", None, frozenset({"manager", "admin"}), 200),
    ("POST", "/api/sites/{site_a}/roster-exceptions", lambda i: {"counter_id": i["counter_a"], "officer_id": None,
                                                                 "day": i["today"], "start": "12:00", "end": "13:00"},
     frozenset({"manager", "admin"}), 201),
    ("GET", "/api/provinces", None, EVERYONE, 200),
    ("GET", "/api/provinces/{province}/overview?month={month}", None, frozenset({"manager", "admin"}), 200),
    ("GET", "/api/exports/province-overview?province_id={province}&month={month}", None,
     frozenset({"manager", "admin"}), 200),
    ("GET", "/api/sites/{site_a}/ticket-mapping", None, frozenset({"manager", "admin"}), 200),
    ("PUT", "/api/sites/{site_a}/ticket-mapping", lambda i: {"ticket_number": "Số vé", "issued_at": "Giờ lấy số"},
     frozenset({"manager", "admin"}), 200),
    ("GET", "/api/sites/{site_a}/display-key", None, frozenset({"admin"}), 200),
    ("POST", "/api/sites/{site_a}/display-key", lambda i: {}, frozenset({"admin"}), 201),
]
PUBLIC = [("GET", "/healthz"), ("GET", "/readyz")]


def call(world: World, method: str, path: str, body: Body, headers: dict[str, str]) -> Any:
    ids = world.ids()
    return world.api.client.request(method, path.format(**ids), json=body(ids) if body else None, headers=headers)


CASES = [pytest.param(role, m, p, b, allowed, ok, id=f"{role}-{m}-{p}")
         for (m, p, b, allowed, ok) in ENDPOINTS for role in (*ROLES, "anonymous")]


@pytest.mark.parametrize(("role", "method", "path", "body", "allowed", "ok"), CASES)
def test_role_matrix(world: World, role: str, method: str, path: str, body: Body, allowed: frozenset[str],
                     ok: int) -> None:
    headers = world.users[role].headers if role != "anonymous" else {}
    response = call(world, method, path, body, headers)
    expected = 401 if role == "anonymous" else ok if role in allowed else 403
    assert response.status_code == expected, response.text
    if expected >= 400:
        assert "detail" in response.json()


@pytest.mark.parametrize(("method", "path"), PUBLIC)
def test_operations_endpoints_answer_without_signing_in(world: World, method: str, path: str) -> None:
    assert world.api.client.request(method, path).status_code == 200


# Objects in site B, seen by a user of site A only: they do not exist for it.
OTHER_SITE_OBJECTS = [
    ("operator", "/api/sites/{site_b}"), ("operator", "/api/cameras/{camera_b}"),
    ("operator", "/api/events/{event_b}"), ("operator", "/api/zones/{zone_b}"),
    ("manager", "/api/counters/{counter_b}"), ("manager", "/api/counters/{counter_b}/audit"),
    ("manager", "/api/sites/{site_b}/hall"), ("manager", "/api/events/{event_b}"),
    ("engineer", "/api/cameras/{camera_b}"), ("engineer", "/api/cameras/{camera_b}/zones"),
    ("manager", "/api/recordings/{camera_b}/spans?start={rec_start}&end={rec_end}"),
    ("manager", "/api/events/{event_b}/clip"),
    ("manager", "/api/officers/{officer_b}"), ("manager", "/api/officers/{officer_b}/report?month={month}"),
    ("manager", "/api/sites/{site_b}/roster"), ("manager", "/api/sites/{site_b}/assignments"),
    ("manager", "/api/sites/{site_b}/ticket-mapping"), ("admin", "/api/sites/{site_b}/display-key"),
    ("operator", "/api/alarms/{alarm_b}"), ("operator", "/api/alarms/{alarm_b}/related"),
    ("manager", "/api/alarms/{alarm_b}"),
    ("operator", "/api/pictures/stream?cameras={camera_a}&cameras={camera_b}&seconds=1"),
]
OTHER_SITE_FILTERS = [
    ("operator", "/api/events?site_id={site_b}"), ("operator", "/api/cameras?site_id={site_b}"),
    ("manager", "/api/counters/live?site_id={site_b}"), ("engineer", "/api/cameras/health?site_id={site_b}"),
    ("manager", "/api/exports/events?site_id={site_b}"), ("manager", "/api/officers?site_id={site_b}"),
    ("operator", "/api/alarms?site_id={site_b}"), ("operator", "/api/alarm-rules?site_id={site_b}"),
    ("operator", "/api/procedures?site_id={site_b}"), ("manager", "/api/map/cameras?site_id={site_b}"),
]


@pytest.mark.parametrize(("role", "path"), OTHER_SITE_OBJECTS)
def test_objects_of_other_sites_are_not_found(world: World, role: str, path: str) -> None:
    response = call(world, "GET", path, None, world.users[f"scoped-{role}"].headers)
    assert response.status_code == 404
    assert call(world, "GET", path, None, world.users[role].headers).status_code == 200


@pytest.mark.parametrize(("role", "path"), OTHER_SITE_FILTERS)
def test_filters_naming_other_sites_are_forbidden(world: World, role: str, path: str) -> None:
    assert call(world, "GET", path, None, world.users[f"scoped-{role}"].headers).status_code == 403


def test_writes_into_other_sites_are_refused(world: World) -> None:
    engineer = world.users["scoped-engineer"].headers
    ids = world.ids()
    created = world.api.client.post("/api/cameras", headers=engineer, json={
        "site_id": ids["site_b"], "name": unique(), "source_kind": "rtsp", "main_uri": "rtsp://192.0.2.10/x"})
    assert created.status_code == 403
    changed = world.api.client.patch(f"/api/cameras/{ids['camera_b']}", headers=engineer, json={"enabled": False})
    assert changed.status_code == 404
    acked = world.api.client.post(f"/api/events/{ids['event_b']}/acknowledge",
                                  headers=world.users["scoped-operator"].headers)
    assert acked.status_code == 404
    operator = world.users["scoped-operator"].headers
    for step in ("acknowledge", "resolve", "steps/1"):
        assert world.api.client.post(f"/api/alarms/{ids['alarm_b']}/{step}", headers=operator).status_code == 404
    manager = world.users["scoped-manager"].headers
    assert world.api.client.put(f"/api/cameras/{ids['camera_b']}/placement", headers=manager,
                                json={"latitude": 10.0}).status_code == 404
    assert world.api.client.put(f"/api/cameras/{ids['camera_a']}/neighbours", headers=manager,
                                json={"camera_ids": [ids["camera_b"]]}).status_code == 422
    assert world.api.client.delete(f"/api/sites/{ids['site_b']}/plan", headers=manager).status_code == 404
    assert world.api.client.post("/api/alarm-rules", headers=manager, json={
        "site_id": ids["site_b"], "event_type": "crowd"}).status_code == 403


def test_lists_show_only_the_users_sites(world: World) -> None:
    ids = world.ids()
    headers = world.users["scoped-operator"].headers
    events = world.api.client.get("/api/events", headers=headers).json()["items"]
    assert events and {e["site_id"] for e in events} == {ids["site_a"]}
    sites = world.api.client.get("/api/sites", headers=headers).json()
    assert [s["id"] for s in sites] == [ids["site_a"]]
    cameras = world.api.client.get("/api/cameras", headers=headers).json()
    assert {c["site_id"] for c in cameras} == {ids["site_a"]}
    live = world.api.client.get("/api/counters/live", headers=world.users["scoped-manager"].headers).json()
    assert {c["site_id"] for c in live} == {ids["site_a"]}
    alarms = world.api.client.get("/api/alarms", headers=headers).json()["items"]
    assert alarms and {a["site_id"] for a in alarms} == {ids["site_a"]}
    shown = world.api.client.get("/api/map/cameras", headers=headers).json()
    assert {c["site_id"] for c in shown} == {ids["site_a"]}
    rules = world.api.client.get("/api/alarm-rules", headers=headers).json()
    assert {r["site_id"] for r in rules} <= {None, ids["site_a"]}


def test_unknown_objects_are_not_found_for_everyone_allowed(world: World) -> None:
    for role in ("operator", "manager", "admin"):
        response = world.api.client.get(f"/api/events/{uuid.uuid4()}", headers=world.users[role].headers)
        assert response.status_code == 404
