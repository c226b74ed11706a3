"""A compatibility bridge for torchvision on CPU machines (see docs/decisions.md, "torchvision on CPU").

Only a CUDA build of torchvision 0.28.0 exists for torch 2.13.0; on the CPU wheel of torch its C++
operators cannot load and ``import torchvision`` raises ``RuntimeError: operator torchvision::nms does not
exist``. Ultralytics imports torchvision once before predicting (``AutoBackend.warmup``) and then uses
``torchvision.ops.nms`` for non-maximum suppression. Nothing else of torchvision is used by detection.

:func:`ensure_torchvision` tries the real import first. Only when it fails with that error does it remove
the half-imported ``torchvision.*`` modules and register a minimal module named ``torchvision`` whose one
operator, ``ops.nms``, is Ultralytics' own pure-torch NMS (``ultralytics.utils.nms.TorchNMS.nms``, which its
authors keep equal to torchvision's result). It is a bridge to an existing implementation, not a stand-in
for torchvision's behaviour elsewhere: any other attribute is missing and fails loudly. GPU hosts, where
the CUDA wheel loads, import the real torchvision and are untouched.
"""

from __future__ import annotations

import sys
import threading
import types

_LOCK = threading.Lock()
BRIDGE_MARK = "__vigil_bridge__"
_MISSING_OPERATOR = "torchvision::nms does not exist"


def ensure_torchvision() -> str:
    """Make ``import torchvision`` work before an Ultralytics predict; return "real" or "bridge"."""
    with _LOCK:
        loaded = sys.modules.get("torchvision")
        if loaded is not None:
            return "bridge" if getattr(loaded, BRIDGE_MARK, False) else "real"
        try:
            import torchvision  # noqa: F401
        except RuntimeError as exc:
            if _MISSING_OPERATOR not in str(exc):
                raise
            _purge_partial_import()
            _register_bridge()
            return "bridge"
        return "real"


def _purge_partial_import() -> None:
    for name in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
        del sys.modules[name]


def _register_bridge() -> None:
    from importlib.metadata import version

    from ultralytics.utils.nms import TorchNMS

    package = types.ModuleType("torchvision", "Vigil's bridge: torchvision.ops.nms -> Ultralytics TorchNMS.nms")
    ops = types.ModuleType("torchvision.ops", "nms only (Ultralytics' pure-torch implementation)")

    def nms(boxes, scores, iou_threshold: float):  # type: ignore[no-untyped-def]
        return TorchNMS.nms(boxes, scores, float(iou_threshold))

    ops.nms = nms  # type: ignore[attr-defined]
    package.ops = ops  # type: ignore[attr-defined]
    package.__version__ = version("torchvision")  # type: ignore[attr-defined]
    setattr(package, BRIDGE_MARK, True)
    sys.modules["torchvision"] = package
    sys.modules["torchvision.ops"] = ops
