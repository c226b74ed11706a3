"""``vigil demo``, the demo city: real footage served as RTSP cameras by the real GStreamer server.

- A provincial public-service center (``hcc-demo``) whose hall camera shows the composited counter scenario
  (real people cut from ``vtest.avi``: an officer at counter 1 who leaves for a while, citizens who queue
  and are served; see vision/scenarios), with light sensor noise added. The video plays at the scenario's
  own clock, so the rules' (compressed) thresholds hold in wall-clock time. The demo site is open around
  the clock so its counters are live whenever the demo runs.
- A street point (``street-demo``) with two cameras: the campus junction of ``vtest.avi`` (a restricted
  car park, a crowd zone and a counting line) and the street of ``bikes.mp4`` (a counting line).
- Service centers in depth: the center and a commune center (``xa-demo``, one counter, no camera) belong to one
  province; two officers share counter 1 by a weekly roster (mornings and afternoons); the hall screen gets a
  new display key at each start and its address is printed with the sign-in.

The worker records every demo camera's stream (``record: continuous``) into ``var/recordings/``, so its alarms
have footage to play.

``prepare_demo`` makes the footage, registers the city through the same YAML import a city uses, creates
the demo sign-in, and returns the RTSP server's process spec for the supervisor.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import socket
import subprocess
from pathlib import Path
from typing import Any

import typer

from core.settings import Settings
from vigil.cli.common import ExitCode, fail, state
from vigil.supervisor import ChildSpec

log = logging.getLogger("vigil.demo")

ROOT = Path(__file__).resolve().parents[2]
RTSP_SERVER = ROOT / "tools" / "rtsp_server.py"
DEMO_USER = "demo"


class DemoError(RuntimeError):
    """The demo cannot start; the message says what to do."""


def _free_port(preferred: int) -> int:
    for port in (preferred, 0):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise DemoError("no free TCP port on 127.0.0.1")


def footage(settings: Settings) -> dict[str, Path]:
    """The H.264 clips the RTSP server loops: street footage from setup, the hall scenario made here."""
    folder = ROOT / "var" / "footage"
    clips = {"junction": folder / "vtest.mp4", "bikes": folder / "bikes.mp4"}
    for name, path in clips.items():
        if not path.is_file():
            raise DemoError(f"{path} is missing (the {name} footage): run `make setup`")
    clips["hall"] = _hall_clip(settings, folder)
    return clips


def _hall_clip(settings: Settings, folder: Path) -> Path:
    target = folder / "hall-counter.mp4"
    if target.is_file():
        return target
    from scenarios.library import SCENARIOS, build
    from scenarios.sprites import load_bank

    log.info("demo: composing the service-center scenario from real footage (first run only, about a minute)")
    scenarios = ROOT / "var" / "scenarios"
    bank = load_bank(scenarios, settings.models_dir)
    build(scenarios, bank, names=["counter_absence"])
    scenario = SCENARIOS["counter_absence"]()
    fps = 1.0 / scenario.seconds_per_frame  # play at the scenario's clock
    # A composited picture is noiseless: where nobody moves, frames would be identical and the frozen-image
    # tamper check would rightly fire. Light temporal noise makes it look like a camera's sensor.
    source = scenarios / "counter_absence.mp4"
    temporary = target.with_suffix(".part.mp4")
    result = subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-y", "-r", f"{fps:g}", "-i", str(source), "-c:v", "libx264",
         "-vf", "noise=alls=4:allf=t", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-r", f"{fps:g}",
         "-g", str(int(2 * fps)), "-bf", "0",
         str(temporary)], capture_output=True, text=True, check=False, timeout=600)
    if result.returncode != 0:
        raise DemoError(f"ffmpeg could not encode the hall scenario: {result.stderr.strip()[-400:]}")
    temporary.replace(target)
    return target


def city_config(rtsp: str) -> dict[str, Any]:
    """The demo city in ``vigil config import`` form, cameras pointing at the local RTSP server."""
    from scenarios.compose import zone_record
    from scenarios.library import SCENARIOS

    hall = SCENARIOS["counter_absence"]()
    by_id = {z.id: z.name for z in hall.zones}
    hall_zones = [{k: v for k, v in zone_record(z).items() if k != "id" and v is not None} for z in hall.zones]
    counters = [{"number": i + 1, "department": department, "officer": officer, "camera": "hall-1",
                 "staff_zone": by_id[c["staff_zone_id"]], "customer_zone": by_id[c["customer_zone_id"]]}
                for i, (c, department, officer) in enumerate(zip(hall.counters, ["Tư pháp - Hộ tịch"],
                                                                  ["Nguyễn Thị Lan"], strict=False))]
    parking = [[0.0, 0.22], [0.46, 0.22], [0.46, 0.39], [0.0, 0.39]]  # the closed car park, top left
    return {"version": 1, "sites": [
        {"code": "hcc-demo", "name": "Trung tâm Phục vụ hành chính công (demo)", "kind": "service_center",
         "level": "province", "timezone": "Asia/Ho_Chi_Minh", "working_hours": {}, "capacity": hall.capacity,
         "cameras": [{"name": "hall-1", "source": "rtsp", "main_uri": f"{rtsp}/hall", "analytics_fps": 4,
                      "record": "continuous",
                      "zones": hall_zones}],
         "counters": counters},
        {"code": "xa-demo", "name": "Trung tâm Phục vụ hành chính công xã Mỹ Hòa (demo)", "kind": "service_center",
         "level": "commune", "timezone": "Asia/Ho_Chi_Minh", "working_hours": {},
         "counters": [{"number": 1, "department": "Tư pháp - Hộ tịch"}]},
        {"code": "street-demo", "name": "Nút giao thông (demo)", "kind": "street", "timezone": "Asia/Ho_Chi_Minh",
         "cameras": [
             {"name": "junction", "source": "rtsp", "main_uri": f"{rtsp}/junction", "analytics_fps": 4,
              "record": "continuous",
              "zones": [
                  {"name": "bãi xe đóng cửa", "kind": "restricted", "points": parking, "classes": ["person"]},
                  {"name": "ngã tư", "kind": "crowd", "points": [[0.2, 0.35], [1, 0.35], [1, 1], [0.2, 1]],
                   "thresholds": {"max_people": 4, "hold_s": 5}},
                  {"name": "vạch đếm", "kind": "line", "points": [[0.3, 0.6], [0.95, 0.6]], "direction": [0, 1]},
              ]},
             {"name": "bikes", "source": "rtsp", "main_uri": f"{rtsp}/bikes", "analytics_fps": 2,
              "record": "continuous",
              "zones": [{"name": "vạch đếm", "kind": "line", "points": [[0.5, 0.05], [0.5, 0.95]],
                         "direction": [1, 0]}]},
         ]},
    ]}


DEMO_PROVINCE = ("demo-province", "Tỉnh Mỹ Hòa (demo)")
DEMO_OFFICERS = [("DEMO-01", "Nguyễn Thị Lan", "00:00", "12:00"), ("DEMO-02", "Trần Văn Minh", "12:00", "24:00")]


def service_centers(conn: Any) -> int:
    """The demo's province (both centers in it) and two officers sharing the center's counter 1 by a roster
    (idempotent: a second start adds nothing); returns the center's id."""
    from datetime import UTC, datetime

    from store import officers, provinces
    from store.registry import get_site, list_counters

    province = provinces.province_by_code(conn, DEMO_PROVINCE[0]) or provinces.insert_province(
        conn, {"code": DEMO_PROVINCE[0], "name": DEMO_PROVINCE[1]})
    center = get_site(conn, "hcc-demo")
    for site in (center, get_site(conn, "xa-demo")):
        provinces.set_site_province(conn, site.id or 0, province["id"])
    counter = list_counters(conn, center.id)[0]
    rostered = {r["officer_id"] for r in officers.list_rosters(conn, center.id or 0)}
    for code, name, start, end in DEMO_OFFICERS:
        officer = officers.officer_by_staff_code(conn, center.id or 0, code) or officers.insert_officer(
            conn, {"site_id": center.id, "full_name": name, "staff_code": code, "department": counter.department})
        if officer["id"] not in rostered:
            officers.insert_roster(conn, counter.id or 0, officer["id"], [1, 2, 3, 4, 5, 6, 7], start, end,
                                   datetime.now(UTC).date(), None)
    return center.id or 0


def hall_key(conn: Any, site_id: int) -> str:
    """A new display key for the site's hall screen (the previous demo's stops working)."""
    from ops_api.security import DISPLAY_PREFIX, new_token, token_hash
    from store.displays import set_display_key

    key = new_token(DISPLAY_PREFIX)
    set_display_key(conn, site_id, token_hash(key), key[:8])
    return key


def prepare_demo(settings: Settings, reset: bool = False, rtsp_port: int = 8554) -> tuple[ChildSpec, str, str]:
    """Footage, registry, sign-in; return the RTSP server's child spec, the sign-in line to print and the hall
    screen's address (path and fragment, key included)."""
    from cameras.crypto import SecretBox
    from ops_api.accounts import create_user, get_user, set_password
    from store.config_io import ConfigError, import_config
    from store.db import connect, resolve_url
    from store.migrate import migrate

    if not Path("/usr/bin/python3").is_file() or not RTSP_SERVER.is_file() or shutil.which("ffmpeg") is None:
        raise DemoError("the demo needs /usr/bin/python3 with GStreamer (python3-gi) and ffmpeg: run `make setup`")
    clips = footage(settings)
    port = _free_port(rtsp_port)
    rtsp = f"rtsp://127.0.0.1:{port}"
    url = resolve_url(settings)
    with connect(url) as conn:
        migrate(conn)
        if reset:
            for table in ("events", "observations", "counter_sessions", "camera_health"):
                conn.execute(f"TRUNCATE {table}")
            conn.execute("TRUNCATE alarms CASCADE")  # their events are gone (their steps, notes and links go too)
        try:
            import_config(conn, city_config(rtsp), SecretBox.from_key_file(settings.key_file))
        except ConfigError as exc:
            raise DemoError(f"the demo city did not import:\n{exc}") from None
        password = secrets.token_urlsafe(9)
        existing = get_user(conn, username=DEMO_USER)
        if existing is None:
            create_user(conn, DEMO_USER, password, "admin", display_name="Demo", actor_name="vigil demo")
        else:
            set_password(conn, existing["id"], password, actor_name="vigil demo")
        center = service_centers(conn)
        screen = f"/hall/{center}#key={hall_key(conn, center)}"
    argv = ["/usr/bin/python3", str(RTSP_SERVER), "--port", str(port)]
    for name, path in clips.items():
        argv += ["--mount", f"/{name}={path}"]

    def rtsp_ready() -> bool:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True

    sign_in = f"Sign in as '{DEMO_USER}' with password '{password}' (administrator; a new password each demo start)."
    return ChildSpec("rtsp-server", argv, ready=rtsp_ready, ready_timeout_s=20, stop_grace_s=5), sign_in, screen


def demo(
    ctx: typer.Context,
    port: int = typer.Option(None, help="Console/API port (default: api.port)."),
    reset: bool = typer.Option(False, help="Forget the demo city's data first (events, observations)."),
) -> None:
    """The demo city on real footage: RTSP cameras -> real detector -> PostgreSQL -> console."""
    from vigil.cli.run import _prepare, _supervise

    settings = state(ctx).settings()
    if port:
        settings.api.port = port
        os.environ["VIGIL_API__PORT"] = str(port)  # the API child reads its settings afresh
    if not Path("/usr/bin/python3").exists() or shutil.which("ffmpeg") is None:
        raise fail("the demo needs the system python3 with GStreamer and ffmpeg: run `make setup`",
                   ExitCode.NOT_BUILT)
    from store.db import embedded_cluster

    # Seeding the demo city starts the embedded cluster: whether it ran before decides whether Ctrl-C stops it.
    was_running = True if settings.database_url else embedded_cluster(settings).running()
    try:
        rtsp_child, sign_in, screen = prepare_demo(settings, reset=reset)
    except DemoError as exc:
        raise fail(str(exc), ExitCode.FAILURE) from None
    supervisor, cleanup = _prepare(ctx, workers=1, capacity=16, api=True, extra=[rtsp_child],
                                   cluster_was_running=was_running)
    console = f"http://{settings.api.host}:{settings.api.port}/"
    hall = f"Hall screen for the waiting hall's TV (no sign-in; a new key each start): {console}{screen.lstrip('/')}"
    typer.secho(f"\nVigil demo: console at {console}\n{sign_in}\n{hall}\nStop with Ctrl-C.\n", fg=typer.colors.GREEN)
    _supervise(supervisor, cleanup)
