"""Shared fixtures. Real parts only: see tests/support/ for each."""

import os

os.environ.setdefault("YOLO_OFFLINE", "1")

pytest_plugins = ["tests.support.db", "tests.support.api", "tests.support.rtsp", "tests.support.onvif",
                  "tests.support.vision", "tests.support.timescale", "tests.support.browser",
                  "tests.support.recordings"]
