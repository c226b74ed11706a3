"""The untouched real footage (``vtest.avi``) with zones drawn on it and incidents annotated by hand.

Annotated by viewing the frames (crops of every 2nd-3rd frame around each event, foot point against the
zone outline); times are the clip's own (10 fps), accurate to about 0.3 s:

- ``stopped_vehicle`` in "van bay (no stopping)": the white van at the top right is parked for the whole
  clip; it was already there at 0 s, so a perfect rule with ``still_s`` = 30 raises it at 30 s; it does
  not end within the clip.
- ``intrusion`` on "lower lawn" (restricted): a couple steps onto the lawn at frame 527 (52.7 s); the man
  leaves it upwards around 59 s, the woman walks about on it and leaves it at frame 703 (70.3 s): one
  intrusion, 52.7-70.3 s, due 1 s after it began (``hold_s`` = 1).
- ``loitering`` on the same lawn (``loiter_s`` = 10): the woman, 53.0-70.3 s (due 63.0 s); the man's
  six seconds are under the threshold.
- nothing else: nobody stops in the van bay, the "road" crowd zone never holds more than its
  ``max_people`` (10); the jacket lying on the lawn is not a person.

Every other event the rules raise on this clip is a false alarm.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from cameras.geometry import make_zone

from .compose import zone_record
from .sprites import VTEST

START = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))


def real_truth() -> dict[str, Any]:
    """The hand-made ground truth of vtest.avi, in the scenarios' form."""
    zones = [
        make_zone("van bay (no stopping)", "no_stopping", [[0.80, 0.10], [0.95, 0.10], [0.95, 0.24], [0.80, 0.24]],
                  thresholds={"still_s": 30}, id=51),
        make_zone("lower lawn", "restricted", [[0.05, 0.66], [0.55, 0.66], [0.55, 0.98], [0.05, 0.98]],
                  thresholds={"loiter_s": 10}, id=52),
        make_zone("road", "crowd", [[0.0, 0.30], [0.75, 0.30], [1.0, 0.55], [1.0, 0.85], [0.0, 0.50]],
                  thresholds={"max_people": 10, "hold_s": 10}, id=53),
    ]
    return {
        "scenario": "real_vtest", "description": "vtest.avi untouched; zones drawn on it; incidents annotated by hand",
        "video": str(VTEST), "start": START.isoformat(), "duration_s": 79.4, "seconds_per_frame": 0.1,
        "video_fps": 10.0, "playback_speedup": 1.0, "time_factor": 1.0, "frames": 795,
        "zones": [zone_record(z) for z in zones],
        "counters": [], "working_hours": {}, "capacity": None, "seconds": [], "citizens": [],
        "incidents": [
            {"type": "stopped_vehicle", "zone": "van bay (no stopping)", "zone_id": 51, "start": 0.0, "end": None,
             "due": 30.0},
            {"type": "intrusion", "zone": "lower lawn", "zone_id": 52, "start": 52.7, "end": 70.3, "due": 53.7},
            {"type": "loitering", "zone": "lower lawn", "zone_id": 52, "start": 53.0, "end": 70.3, "due": 63.0},
        ],
        "line_counts": {},
    }
