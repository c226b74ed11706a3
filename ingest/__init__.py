"""Ingest: camera readers that decode, sample to the analytics rate, reconnect forever, and report health.

The API the vision worker uses:

- ``ingest.reader.CameraReader(camera, settings.ingest, on_event, on_health, data_dir=...)`` with
  ``start()``/``stop()``; ``reader.slot`` is its ``ingest.slot.FrameSlot`` (``take(newer_than_index,
  timeout)``, ``latest()``), ``reader.health()`` a ``core.types.CameraHealth``.
- ``ingest.pool.ReaderPool`` for many cameras: ``add(camera)``, ``wait_frames(seen, timeout)``.
- ``ingest.offline.iter_frames(path_or_camera, analytics_fps)``: a file read once, as fast as it decodes.
- ``ingest.health.HealthMetrics``: the Prometheus exposition of the health snapshots.
- ``ingest.tamper.TamperDetector``: blackout, frozen, defocus and moved-camera alarms.

Cameras are ``cameras.models.CameraSource`` values. Events (camera_offline/online/tamper) and health go
to the callbacks the owner passes; ingest never imports store.
"""
