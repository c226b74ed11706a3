"""Vision: motion gate -> batched detector across cameras -> per-camera tracker -> zones -> analytics rules.

- ``detectors``: the batch interface, Ultralytics and OpenCV DNN (Darknet) back-ends, model names;
- ``gate``, ``tracking``, ``zones``, ``evidence``: one camera's motion gate, ByteTrack, zone membership and
  line crossings, evidence JPEGs;
- ``engine``: all of it around one shared detector;
- ``pipeline``: the live path of a worker process behind one protocol (``Pipeline``, ``open_pipeline``):
  in one process (``in_process``, ``scheduler``) or in camera processes (``pool``, ``child``, ``wire``);
  cameras' frames come from feeds built by picklable factories (``feeds``: ingest's reader by default);
- ``offline`` and ``camera_config``: ``vigil analyze``;
- ``rules``: the analytics rules (their own package); ``torch_compat``: the torchvision bridge on CPU.
"""
