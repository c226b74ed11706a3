#!/usr/bin/python3
"""A real RTSP server for tests, benchmarks and the demo: GStreamer's gst-rtsp-server.

Run it with the *system* Python (python3-gi is not in the venv)::

    /usr/bin/python3 tools/rtsp_server.py --port 8554 --mount /cam1=var/footage/vtest.mp4 \
        --mount /live=testsrc

A file mount loops an H.264 mp4 forever without re-encoding: one feeder pipeline per mount
(filesrc ! qtdemux ! h264parse ! appsink sync=true) reads the file at its native rate and seeks back to
the start at the end; every client gets its own ``appsrc`` fed from it, starting at the next key frame,
timestamped on arrival (so timestamps keep increasing across loops). ``testsrc`` is a live
videotestsrc encoded with x264 (CPU cost: one encoder per client).
When the server listens it prints ``READY rtsp://HOST:PORT`` on stdout.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
gi.require_version("GstApp", "1.0")
from gi.repository import GLib, Gst, GstApp, GstRtspServer  # noqa: E402

H264_CAPS = "video/x-h264,stream-format=byte-stream,alignment=au"


class FileFeeder:
    """Reads one H.264 mp4 at its native rate, looping, and fans its access units out to clients."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.clients: list[list] = []  # [appsrc, waiting_for_key_frame]
        self.lock = threading.Lock()
        self.pipeline = Gst.parse_launch(
            f'filesrc location="{path}" ! qtdemux ! h264parse config-interval=-1 ! {H264_CAPS} '
            "! appsink name=sink sync=true emit-signals=true max-buffers=8 drop=false"
        )
        sink = self.pipeline.get_by_name("sink")
        sink.connect("new-sample", self._on_sample)
        bus = self.pipeline.get_bus()
        bus.add_signal_watch()
        bus.connect("message", self._on_message)

    def start(self) -> None:
        self.pipeline.set_state(Gst.State.PLAYING)

    def add(self, appsrc: GstApp.AppSrc) -> None:
        with self.lock:
            self.clients.append([appsrc, True])

    def remove(self, appsrc: GstApp.AppSrc) -> None:
        with self.lock:
            self.clients = [c for c in self.clients if c[0] is not appsrc]

    def _on_sample(self, sink: GstApp.AppSink) -> Gst.FlowReturn:
        sample = sink.emit("pull-sample")
        buffer = sample.get_buffer()
        key = not buffer.has_flags(Gst.BufferFlags.DELTA_UNIT)
        with self.lock:
            clients = list(self.clients)
        for client in clients:
            appsrc, waiting = client
            if waiting and not key:
                continue
            client[1] = False
            copy = buffer.copy()
            copy.pts = copy.dts = Gst.CLOCK_TIME_NONE  # appsrc do-timestamp: arrival time, rising across loops
            # A client still preparing answers FLUSHING: keep it (it leaves on "unprepared"); its queue is
            # bounded and leaky, so a stuck client never holds the others back.
            appsrc.emit("push-buffer", copy)
        return Gst.FlowReturn.OK

    def _on_message(self, _bus: Gst.Bus, message: Gst.Message) -> None:
        if message.type == Gst.MessageType.EOS:
            self.pipeline.seek_simple(Gst.Format.TIME, Gst.SeekFlags.FLUSH | Gst.SeekFlags.KEY_UNIT, 0)
        elif message.type == Gst.MessageType.ERROR:
            error, _debug = message.parse_error()
            print(f"feeder {self.path}: {error.message}", file=sys.stderr, flush=True)


class FileMountFactory(GstRtspServer.RTSPMediaFactory):
    def __init__(self, feeder: FileFeeder) -> None:
        super().__init__()
        self.feeder = feeder
        self.set_launch(f"( appsrc name=src is-live=true do-timestamp=true format=time caps={H264_CAPS} "
                        "max-bytes=4000000 leaky-type=downstream "
                        "! h264parse ! rtph264pay name=pay0 pt=96 config-interval=1 )")
        self.set_shared(False)
        self.connect("media-configure", self._configure)

    def _configure(self, _factory: GstRtspServer.RTSPMediaFactory, media: GstRtspServer.RTSPMedia) -> None:
        appsrc = media.get_element().get_child_by_name("src")
        self.feeder.add(appsrc)
        media.connect("unprepared", lambda _m: self.feeder.remove(appsrc))


def testsrc_factory(width: int, height: int, fps: int) -> GstRtspServer.RTSPMediaFactory:
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(
        f"( videotestsrc is-live=true pattern=ball ! video/x-raw,width={width},height={height},framerate={fps}/1 "
        f"! x264enc tune=zerolatency speed-preset=ultrafast key-int-max={2 * fps} bframes=0 "
        "! rtph264pay name=pay0 pt=96 config-interval=1 )"
    )
    factory.set_shared(True)
    return factory


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8554)
    parser.add_argument("--mount", action="append", default=[], metavar="PATH=SOURCE",
                        help="/cam1=FILE.mp4 (looped H.264 mp4) or /live=testsrc; repeat for more mounts")
    args = parser.parse_args(argv)
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address(args.host)
    server.set_service(str(args.port))
    # One thread per client: preparing a client's media waits for the next key frame, and with the
    # default single thread those waits queue up behind each other (4 cameras would take 8 s to open).
    server.get_thread_pool().set_max_threads(256)
    mounts = server.get_mount_points()
    feeders: dict[str, FileFeeder] = {}
    for spec in args.mount or ["/live=testsrc"]:
        path, _, source = spec.partition("=")
        if not path.startswith("/") or not source:
            parser.error(f"--mount {spec!r}: expected /path=SOURCE")
        if source == "testsrc":
            mounts.add_factory(path, testsrc_factory(768, 576, 10))
        else:
            feeder = feeders.get(source) or FileFeeder(source)
            feeders[source] = feeder
            mounts.add_factory(path, FileMountFactory(feeder))
    loop = GLib.MainLoop()
    if server.attach(None) == 0:
        print(f"error: cannot listen on {args.host}:{args.port}", file=sys.stderr, flush=True)
        return 1
    for feeder in feeders.values():
        feeder.start()
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, loop.quit)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGINT, loop.quit)
    print(f"READY rtsp://{args.host}:{server.get_bound_port()}", flush=True)
    loop.run()
    for feeder in feeders.values():
        feeder.pipeline.set_state(Gst.State.NULL)
    return 0


if __name__ == "__main__":
    sys.exit(main())
