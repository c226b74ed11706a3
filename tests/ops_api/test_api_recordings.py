"""Watching recorded footage through the API, on real segments cut by real ffmpeg: the spans and gaps of a camera,
the HLS VOD playlist (discontinuities at holes and restarts, wall-clock times), the segments served only from the
index, an event's clip, the live view rewritten from the recorder's playlist, and the privacy rules: who may
watch which camera, and the audit row each viewing leaves."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from core import media
from core.settings import Settings
from ops_api.app import create_app
from tests.support.api import ApiHarness, ApiUser, insert_event, seed_sites
from tests.support.recordings import Indexed, LiveRecording, Piece, index_footage

T0 = datetime(2026, 12, 7, 1, 0, 0, tzinfo=UTC)  # 08:00 in Hồ Chí Minh City


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass
class Footage:
    api: ApiHarness
    street_site: int
    street_camera: int
    center_site: int
    counter_camera: int
    other_site: int
    other_camera: int
    run_a: list[Indexed]
    run_b: list[Indexed]
    counter_run: list[Indexed]
    event: Any
    users: dict[str, ApiUser]

    def get(self, who: str, path: str, **params: Any) -> Any:
        return self.api.client.get(path, params=params, headers=self.users[who].headers)


@pytest.fixture(scope="module")
def footage(module_api: ApiHarness, recorded_segments: list[Piece]) -> Footage:
    conn, data_dir = module_api.conn, module_api.settings.data_dir
    seeded = seed_sites(conn)  # two service centers, each with a counter camera
    street_site = conn.execute("INSERT INTO sites (code, name, kind) VALUES ('le-loi', 'Nút giao Lê Lợi', 'street')"
                               " RETURNING id").fetchone()["id"]
    street_camera = conn.execute("INSERT INTO cameras (site_id, name, source_kind, main_uri) VALUES (%s, 'Lê Lợi',"
                                 " 'rtsp', 'rtsp://192.0.2.20/main') RETURNING id", (street_site,)).fetchone()["id"]
    # Run A: 20 s; a 30-s outage; run B (the recorder restarted): 20 s.
    run_a = index_footage(conn, data_dir, street_camera, T0, recorded_segments[:10], run_id="run-a")
    run_b = index_footage(conn, data_dir, street_camera, run_a[-1].end + timedelta(seconds=30),
                          recorded_segments[10:20], run_id="run-b")
    counter_camera = seeded.cameras[0]
    counter_run = index_footage(conn, data_dir, counter_camera, T0, recorded_segments[:15], run_id="run-c")
    index_footage(conn, data_dir, seeded.cameras[1], T0, recorded_segments[:3], run_id="run-d")
    event = insert_event(conn, seeded.sites[0], counter_camera, type="officer_absent", when=T0 + timedelta(seconds=12))
    conn.execute("UPDATE events SET end_time = %s WHERE id = %s", (T0 + timedelta(seconds=16), event))
    users = {role: module_api.user(role) for role in ("operator", "manager", "engineer", "admin")}
    users |= {f"scoped-{role}": module_api.user(role, site_ids=[seeded.sites[0], street_site])
              for role in ("operator", "manager", "admin")}
    return Footage(module_api, street_site, street_camera, seeded.sites[0], counter_camera, seeded.sites[1],
                   seeded.cameras[1], run_a, run_b, counter_run, event, users)


def audit_rows(api: ApiHarness, action: str, user: ApiUser) -> list[dict[str, Any]]:
    return api.conn.execute("SELECT * FROM audit_log WHERE action = %s AND user_id = %s ORDER BY id",
                            (action, user.id)).fetchall()


def test_spans_show_the_recorded_footage_and_the_gaps_between(footage: Footage) -> None:
    start, end = T0 - timedelta(minutes=1), T0 + timedelta(minutes=5)
    answer = footage.get("operator", f"/api/recordings/{footage.street_camera}/spans", start=iso(start), end=iso(end))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    spans = [(datetime.fromisoformat(s["start"]), datetime.fromisoformat(s["end"]), s["segments"])
             for s in body["spans"]]
    assert spans == [(T0, footage.run_a[-1].end, 10), (footage.run_b[0].start, footage.run_b[-1].end, 10)]
    gaps = [(datetime.fromisoformat(g["start"]), datetime.fromisoformat(g["end"])) for g in body["gaps"]]
    assert gaps == [(start, T0), (footage.run_a[-1].end, footage.run_b[0].start), (footage.run_b[-1].end, end)]
    assert body["codecs"] == ["h264"] and body["browser_playable"] is True


def test_the_playlist_marks_holes_and_restarts_and_its_segments_are_the_files(footage: Footage) -> None:
    operator = footage.users["operator"]
    before = len(audit_rows(footage.api, "recording.view", operator))
    start, end = T0 + timedelta(seconds=3), footage.run_b[4].end - timedelta(seconds=1)
    answer = footage.get("operator", f"/api/recordings/{footage.street_camera}/playlist.m3u8",
                         start=iso(start), end=iso(end))
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/vnd.apple.mpegurl")
    text = answer.text
    assert "#EXT-X-PLAYLIST-TYPE:VOD" in text and text.rstrip().endswith("#EXT-X-ENDLIST")
    uris = [line for line in text.splitlines() if line and not line.startswith("#")]
    # whole segments: from the one holding `start` (run A's second) to the one holding `end` (run B's fifth)
    expected = footage.run_a[1:] + footage.run_b[:5]
    assert uris == [f"/api/recordings/{footage.street_camera}/segments/{s.path}" for s in expected]
    times = re.findall(r"#EXT-X-PROGRAM-DATE-TIME:(\S+)", text)
    assert [datetime.fromisoformat(t) for t in times] == [s.start for s in expected]
    assert text.count("#EXT-X-DISCONTINUITY") == 1
    assert text.index("#EXT-X-DISCONTINUITY") < text.index(footage.run_b[0].path) and \
        text.index("#EXT-X-DISCONTINUITY") > text.index(footage.run_a[-1].path)
    data_dir = footage.api.settings.data_dir
    for uri, seg in ((uris[0], expected[0]), (uris[-1], expected[-1])):
        served = footage.api.client.get(uri, headers=operator.headers)
        assert served.status_code == 200 and served.headers["content-type"] == "video/mp2t"
        assert served.content == media.recording_file(data_dir, seg.path).read_bytes()
    rows = audit_rows(footage.api, "recording.view", operator)
    assert len(rows) == before + 1, "one audit row per playlist of a range, none per segment"
    assert rows[-1]["object_id"] == str(footage.street_camera) and rows[-1]["after"]["segments"] == len(expected)
    assert rows[-1]["site_ids"] == [footage.street_site]


def test_only_indexed_segments_of_the_camera_are_served(footage: Footage) -> None:
    data_dir = footage.api.settings.data_dir
    stray = media.recording_camera_dir(data_dir, footage.street_camera) / "stray.ts"
    stray.write_bytes(b"not indexed")
    (data_dir / "secret.key").write_bytes(b"k" * 44)
    base = f"/api/recordings/{footage.street_camera}/segments/"
    for path in (f"{footage.street_camera}/stray.ts", "../secret.key", "..%2Fsecret.key",
                 footage.counter_run[0].path):  # another camera's segment, through this camera's address
        answer = footage.api.client.get(base + path, headers=footage.users["admin"].headers)
        assert answer.status_code == 404, path
        assert b"kkkk" not in answer.content and b"not indexed" not in answer.content


def test_an_empty_range_and_bad_ranges_say_what_is_wrong(footage: Footage) -> None:
    path = f"/api/recordings/{footage.street_camera}/playlist.m3u8"
    empty = footage.get("operator", path, start=iso(T0 - timedelta(hours=2)), end=iso(T0 - timedelta(hours=1)))
    assert empty.status_code == 404 and empty.json()["code"] == "recording_none_in_range"
    reversed_ = footage.get("operator", path, start=iso(T0), end=iso(T0 - timedelta(seconds=1)))
    assert reversed_.status_code == 422 and reversed_.json()["detail"][0]["field"] == "query.end"
    too_long = footage.get("operator", path, start=iso(T0), end=iso(T0 + timedelta(hours=25)))
    assert too_long.json()["detail"][0]["code"] == "recording_range_too_long"
    naive = footage.get("operator", path, start="2026-12-07T08:00:00", end=iso(T0))
    assert naive.status_code == 422 and naive.json()["detail"][0]["field"] == "query.start"


def test_an_events_clip_covers_the_event_with_its_pre_and_post_roll(footage: Footage) -> None:
    clip = footage.get("manager", f"/api/events/{footage.event}/clip")
    assert clip.status_code == 200, clip.text
    info = clip.json()
    assert datetime.fromisoformat(info["start"]) == T0 + timedelta(seconds=12 - 10)
    assert datetime.fromisoformat(info["end"]) == T0 + timedelta(seconds=16 + 10)
    assert info["playlist_url"] == f"/api/events/{footage.event}/clip.m3u8" and info["browser_playable"]
    playlist = footage.get("manager", info["playlist_url"])
    assert playlist.status_code == 200, playlist.text
    times = [datetime.fromisoformat(t) for t in re.findall(r"#EXT-X-PROGRAM-DATE-TIME:(\S+)", playlist.text)]
    assert times[0] <= T0 + timedelta(seconds=2) < times[0] + timedelta(seconds=2.2)
    assert times[-1] < T0 + timedelta(seconds=26) <= times[-1] + timedelta(seconds=2.2)
    row = audit_rows(footage.api, "recording.view", footage.users["manager"])[-1]
    assert row["after"]["event_id"] == str(footage.event)
    # The clip is the counter camera's: an operator may see the event but not the footage of a counter.
    refused = footage.get("operator", info["playlist_url"])
    assert refused.status_code == 403 and refused.json()["code"] == "footage_not_permitted"


def test_the_camera_list_holds_only_the_footage_the_user_may_watch(footage: Footage) -> None:
    def ids(who: str) -> set[int]:
        return {c["id"] for c in footage.get(who, "/api/recordings/cameras").json()}

    assert ids("operator") == {footage.street_camera}
    assert ids("manager") == {footage.counter_camera, footage.other_camera}
    assert ids("scoped-manager") == {footage.counter_camera}
    assert ids("admin") == {footage.street_camera, footage.counter_camera, footage.other_camera}
    assert footage.get("engineer", "/api/recordings/cameras").status_code == 403
    street = next(c for c in footage.get("operator", "/api/recordings/cameras").json()
                  if c["id"] == footage.street_camera)
    assert (street["codec"], street["browser_playable"], street["live"]) == ("h264", True, False)
    assert datetime.fromisoformat(street["last_recorded"]) == footage.run_b[-1].end


# (who, camera, status): the audience of each camera, site scope, and roles without the permission.
AUDIENCE = [
    ("operator", "street_camera", 200), ("manager", "street_camera", 403), ("engineer", "street_camera", 403),
    ("admin", "street_camera", 200), ("operator", "counter_camera", 403), ("manager", "counter_camera", 200),
    ("engineer", "counter_camera", 403), ("admin", "counter_camera", 200),
    ("scoped-manager", "counter_camera", 200), ("scoped-manager", "other_camera", 404),
    ("scoped-operator", "street_camera", 200), ("scoped-admin", "other_camera", 404),
]
ENDPOINTS = ["/api/recordings/{camera}/spans", "/api/recordings/{camera}/playlist.m3u8",
             "/api/recordings/{camera}/holds"]


@pytest.mark.parametrize(("who", "camera", "status"), AUDIENCE)
def test_footage_is_shown_to_its_audience_within_their_sites(footage: Footage, who: str, camera: str,
                                                             status: int) -> None:
    camera_id = getattr(footage, camera)
    for path in ENDPOINTS:
        answer = footage.get(who, path.format(camera=camera_id), start=iso(T0), end=iso(T0 + timedelta(seconds=5)))
        assert answer.status_code == status, (path, answer.text)
    segment = footage.api.conn.execute("SELECT path FROM recording_segments WHERE camera_id = %s LIMIT 1",
                                       (camera_id,)).fetchone()["path"]
    served = footage.get(who, f"/api/recordings/{camera_id}/segments/{segment}")
    assert served.status_code == status
    if status == 403:
        assert served.json()["code"] in ("footage_not_permitted", "role_not_permitted")
    assert footage.api.client.get(f"/api/recordings/{camera_id}/segments/{segment}").status_code == 401


def test_engineers_watch_only_when_the_setting_lets_them_and_never_export(footage: Footage, tmp_path: Any) -> None:
    settings = Settings(data_dir=footage.api.settings.data_dir, playback={"engineers_view": True})
    engineer = footage.users["engineer"]
    with TestClient(create_app(settings, footage.api.url, live=False, outbound=False)) as client:
        spans = client.get(f"/api/recordings/{footage.counter_camera}/spans", headers=engineer.headers,
                           params={"start": iso(T0), "end": iso(T0 + timedelta(seconds=5))})
        assert spans.status_code == 200
        exported = client.post(f"/api/recordings/{footage.counter_camera}/exports", headers=engineer.headers,
                               json={"start": iso(T0), "end": iso(T0 + timedelta(seconds=4)), "reason": "kiểm tra"})
        assert exported.status_code == 403


def test_the_live_view_rewrites_the_recorders_playlist_and_is_audited_once_per_session(footage: Footage) -> None:
    operator = footage.users["operator"]
    data_dir = footage.api.settings.data_dir
    path = f"/api/recordings/{footage.street_camera}/live.m3u8"
    assert footage.get("operator", path).json()["code"] == "recording_live_unavailable"
    before = len(audit_rows(footage.api, "recording.live", operator))
    with LiveRecording(data_dir, footage.street_camera):
        first = footage.get("operator", path)
        assert first.status_code == 200, first.text
        assert "#EXT-X-PROGRAM-DATE-TIME" in first.text and "#EXT-X-PLAYLIST-TYPE:VOD" not in first.text
        uris = [line for line in first.text.splitlines() if line and not line.startswith("#")]
        assert uris and all(u.startswith(f"/api/recordings/{footage.street_camera}/segments/") for u in uris)
        # The newest segment is served from the live playlist before any index has it.
        newest = footage.api.client.get(uris[-1], headers=operator.headers)
        assert newest.status_code == 200 and newest.content[:1] == b"G"  # an MPEG-TS sync byte
        assert footage.get("operator", path).status_code == 200
        assert footage.get("manager", path).status_code == 403
        listed = {c["id"]: c for c in footage.get("operator", "/api/recordings/cameras").json()}
        assert listed[footage.street_camera]["live"] is True
    assert len(audit_rows(footage.api, "recording.live", operator)) == before + 1


def test_the_live_rewrite_takes_relative_and_absolute_addresses_and_drops_others(tmp_path: Any) -> None:
    from ops_api.hls import rewrite_live

    area = tmp_path / "recordings"
    camera = area / "7"
    playlist = camera / "live.m3u8"
    text = "\n".join([
        "#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-TARGETDURATION:2", "#EXT-X-MEDIA-SEQUENCE:5",
        "#EXTINF:2.000000,", "#EXT-X-PROGRAM-DATE-TIME:2026-12-06T01:02:03.000+0000", "2026-12-06/010203-r1-0005.ts",
        "#EXTINF:2.000000,", "#EXT-X-PROGRAM-DATE-TIME:2026-12-06T01:02:05.000+0000", "../8/2026-12-06/x.ts",
        "#EXTINF:2.000000,", "#EXT-X-PROGRAM-DATE-TIME:2026-12-06T01:02:07.000+0000",
        str(camera / "2026-12-06" / "010207-r1-0007.ts"), "#EXTINF:2.0,", "http://192.0.2.1/x.ts", ""])
    out = rewrite_live(text, 7, playlist, area, camera)
    uris = [line for line in out.splitlines() if not line.startswith("#")]
    assert uris == ["/api/recordings/7/segments/7/2026-12-06/010203-r1-0005.ts",
                    "/api/recordings/7/segments/7/2026-12-06/010207-r1-0007.ts"]
    assert out.count("#EXTINF") == 2 and out.count("#EXT-X-PROGRAM-DATE-TIME") == 2
    assert "#EXT-X-MEDIA-SEQUENCE:5" in out and "01:02:05" not in out, "another camera's segment goes with its tags"
