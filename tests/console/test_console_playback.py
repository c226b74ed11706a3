"""Recorded video in a real browser (Debian's Chromium, hls.js through MSE), on real segments cut by real ffmpeg:
the counter audit opens the counter camera at an absence in the playback page, which plays it (the video's clock
advances), jumps to speed 4x and downloads a range with a reason and its sha256; an event's detail plays its
clip; an H.265 camera says it cannot be played here; an enlarged wall tile plays the recorder's live segments a
few seconds behind the camera."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import NamedTuple
from zoneinfo import ZoneInfo

import pytest

from store.db import connect
from tests.support.browser import ConsoleSite, shoot, wait_until
from tests.support.console_seed import TZ
from tests.support.recordings import LiveRecording, Piece, index_footage

ADVANCES = "(() => { const v = document.querySelector('{sel}'); return v && v.currentTime > 1.5 && !v.paused; })()"


class Recorded(NamedTuple):
    hall: datetime  # the hall camera's footage starts here
    street: datetime  # the pedestrian-street camera's H.265 footage starts here


@pytest.fixture(scope="module")
def recorded(console: ConsoleSite, recorded_segments: list[Piece], hevc_segments: list[Piece]) -> Recorded:
    """The hall camera recorded yesterday 09:04:40-09:06:00 (counter 2's absence starts at 09:05), and the
    pedestrian-street camera in H.265 an hour ago (yesterday, site time, in the first hour of a day)."""
    city = console.city
    start = datetime.fromisoformat(f"{city.yesterday}T09:04:40").replace(tzinfo=ZoneInfo(TZ))
    street = datetime.now(ZoneInfo(TZ)) - timedelta(hours=1)
    with connect(console.db_url) as conn:
        index_footage(conn, console.data_dir, city.hall_camera, start, recorded_segments)
        index_footage(conn, console.data_dir, city.street_cameras[2], street, hevc_segments)
    return Recorded(start, street)


def test_the_counter_audit_opens_the_absence_in_playback_which_plays_and_downloads(console: ConsoleSite,
                                                                                    recorded: Recorded) -> None:
    day = console.city.yesterday
    page = console.open("manager", f"counter-audit?mode=day&day={day}", ready="svg.timeline")
    page.click("article[data-counter] ul.absences .playback-link")
    page.wait_for_selector("svg.recording-timeline rect.recorded")
    assert page.url.split("?")[0].endswith("/console/playback")
    assert page.input_value("#playback-camera") == str(console.city.hall_camera)
    wait_until(page, ADVANCES.replace("{sel}", "#playback-video"), timeout_s=20)
    assert re.search(r"Đang xem: 09:0[56]:\d\d", page.inner_text("#playing-at")), "the moment on screen, site time"
    shoot(page, "playback-playing")
    page.click("#zoom-minutes")  # 80 s of footage in a 10-minute strip: a visible block, not a hairline
    width = page.evaluate("document.querySelector('#recording-timeline rect.recorded').getBoundingClientRect().width")
    assert width > 100, width
    page.click("#speed-4")
    assert page.evaluate("document.querySelector('#playback-video').playbackRate") == 4
    page.fill("#export-from", "09:05:00")
    page.fill("#export-to", "09:05:20")
    page.click("#export-submit")  # no reason yet: refused in the page
    assert page.locator("#export-download").count() == 0
    page.fill("#export-reason", "Công dân khiếu nại cán bộ quầy 2 vắng mặt")
    page.click("#export-submit")
    page.wait_for_selector("#export-download")
    assert "09:05:00" in page.inner_text("#export-actual") and "09:05:20" in page.inner_text("#export-actual")
    with page.expect_download() as download:
        page.click("#export-download")
    data = Path(download.value.path()).read_bytes()
    with connect(console.db_url) as conn:
        row = conn.execute("SELECT sha256, reason FROM recording_exports ORDER BY id DESC LIMIT 1").fetchone()
    assert hashlib.sha256(data).hexdigest() == row["sha256"] and row["reason"].startswith("Công dân khiếu nại")
    shoot(page, "playback-exported")
    assert page.problems == []
    page.context.close()


def test_an_events_detail_plays_its_clip(console: ConsoleSite, recorded: Recorded) -> None:
    absence = console.city.events[f"absence-{console.city.yesterday}"]
    page = console.open("manager", f"events/{absence}", ready="#event-clip:not([hidden])")
    wait_until(page, ADVANCES.replace("{sel}", "#clip-video"), timeout_s=20)
    shoot(page, "event-clip")
    assert page.problems == []
    page.context.close()


def test_an_h265_camera_says_the_browser_cannot_play_it(console: ConsoleSite, recorded: Recorded) -> None:
    camera = console.city.street_cameras[2]
    day = recorded.street.date().isoformat()  # the site day of the footage (not today's, in the first hour of a day)
    page = console.open("operator", f"playback?camera={camera}&day={day}", ready="svg.recording-timeline rect.recorded")
    assert "H.265" in page.inner_text("#codec-unplayable")
    assert page.locator("video").count() == 0 and page.locator("#export-form").count() == 1
    shoot(page, "playback-h265")
    assert page.problems == []
    page.context.close()


def test_a_camera_opened_without_a_day_opens_on_the_day_of_its_newest_footage(console: ConsoleSite,
                                                                             recorded: Recorded) -> None:
    """The hall camera recorded yesterday only: today's page would be empty (so is the last hour's, just after
    midnight); the page opens on the day its newest footage is on."""
    camera = console.city.hall_camera
    page = console.open("manager", f"playback?camera={camera}", ready="svg.recording-timeline")
    assert page.input_value("#playback-day") == recorded.hall.date().isoformat()
    assert page.locator("svg.recording-timeline rect.recorded").count() >= 1
    assert page.problems == []
    page.context.close()


def test_an_enlarged_wall_tile_plays_live_video_a_few_seconds_behind(console: ConsoleSite) -> None:
    camera = console.city.street_cameras[0]
    with LiveRecording(console.data_dir, camera):
        page = console.open("operator", "wall", ready=f".tile[data-camera='{camera}']")
        page.click(f".tile[data-camera='{camera}']")
        page.wait_for_selector("#tile-modal #live-video", timeout=15_000)
        wait_until(page, ADVANCES.replace("{sel}", "#live-video"), timeout_s=20)
        page.wait_for_timeout(4000)  # settled at the live edge
        note = page.inner_text("#live-latency")
        latency = float(re.search(r"([\d,.]+) giây", note).group(1).replace(",", "."))
        print(f"live latency on this machine: {latency:.1f} s")
        assert latency < 6.0, note
        shoot(page, "wall-live")
        page.keyboard.press("Escape")
        page.wait_for_selector("#tile-modal", state="detached")
        assert page.problems == []
        page.context.close()
