"""Vision: motion gate -> batched detector across cameras -> per-camera tracker -> zones -> analytics rules.

- ``detectors``: the batch interface, Ultralytics and OpenCV DNN (Darknet) back-ends, model names;
- ``gate``, ``tracking``, ``zones``, ``evidence``: one camera's motion gate, ByteTrack, zone membership and
  line crossings, evidence JPEGs;
- ``engine``: all of it around one shared detector; ``scheduler`` and ``worker``: batches from ingest's
  latest-frame slots; ``live``: the live path of a worker process;
- ``offline`` and ``camera_config``: ``vigil analyze``; ``bench``: ``vigil bench vision``;
- ``rules``: the analytics rules (their own package); ``torch_compat``: the torchvision bridge on CPU.
"""
