"""Recording: each camera's main stream copied to disk by ffmpeg, indexed, and kept as long as retention says.

- ``ffmpeg.py``: the ffmpeg command line (RTSP over TCP, ``-c copy``, the HLS muxer writing short MPEG-TS
  segments and a live playlist), ffprobe of a segment, scrubbing ffmpeg's messages of credentials.
- ``playlist.py``: reading the live playlist ffmpeg keeps (a segment is listed once it has closed).
- ``recorder.py``: one camera's recorder: runs ffmpeg, indexes each closed segment, restarts a dead or stalled
  ffmpeg with backoff, reports recording_offline / recording_stalled events.
- ``pool.py``: the recorders of the cameras a worker leases, one thread, one connection to the index.
- ``retention.py``: what may be deleted and in which order (expired footage, then the disk budget), crash-safe.
- ``reconcile.py``: the start-up pass that makes files and index rows agree again after a crash.
- ``upkeep.py``: retention run periodically by one leader for the whole recordings area.
- ``index.py``: what the recorder and retention need of the index (``store.recordings`` provides it).
- ``export.py``: an MP4 of recorded footage (whole segments joined by ffmpeg's concat demuxer, stream copy) and
  its sha256; the API and ``vigil recordings export`` use it.

This package imports ``core`` and ``cameras`` only: the index comes in as an object (``index.py``'s protocols).
"""
