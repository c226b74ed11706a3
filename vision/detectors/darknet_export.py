"""The Darknet COCO model (yolov3-tiny) for OpenVINO, made at setup (``scripts/setup.sh`` runs this).

``python -m vision.detectors.darknet_export MODELS_DIR`` writes, beside ``yolov3-tiny.cfg`` and ``.weights``:

- ``yolov3-tiny.onnx``: the network built in torch from the cfg, the Darknet weights loaded into it, exported to
  ONNX (opset 17, any batch and picture size). Its YOLO layers decode as OpenCV DNN's do, so each output row is
  exactly OpenCV's: (cx, cy, w, h) relative to the input, the objectness, then the class scores multiplied by
  it; ``DarknetDetector`` decodes both the same way. The same bytes on every CPU (the batch norms are folded
  in float64, ``_fold_batch_norms``), so setup pins its sha256.
- ``yolov3-tiny-openvino.json``: how far OpenVINO's boxes agree with OpenCV DNN's (fp32) on 60 vtest frames at
  416, at the precision OpenVINO runs on this CPU (bf16 where the CPU has it: that is where its speed comes
  from). ``choose_darknet_backend`` takes OpenVINO only when both shares are at least ``AGREEMENT`` (0.95).

Only the layers yolov3-tiny uses are built: convolutional (batch norm, leaky), maxpool, route, upsample, yolo.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

CFG, WEIGHTS, NAMES = "yolov3-tiny.cfg", "yolov3-tiny.weights", "coco.names"
ONNX = "yolov3-tiny.onnx"
AGREEMENT = 0.95
IMGSZ = 416


def parse_cfg(path: Path) -> list[dict[str, str]]:
    """A Darknet cfg as its sections, in order: [{"type": "convolutional", "filters": "16", ...}, ...]."""
    blocks: list[dict[str, str]] = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("["):
            blocks.append({"type": line.strip("[]")})
        else:
            key, value = line.split("=", 1)
            blocks[-1][key.strip()] = value.strip()
    return blocks


def build(cfg: Path, weights: Path) -> Any:
    """The torch module of ``cfg`` with ``weights`` loaded, in eval mode."""
    import torch
    from torch import nn
    from torch.nn import functional as F

    blocks = parse_cfg(cfg)
    supported = {"net", "convolutional", "maxpool", "route", "upsample", "yolo"}
    if unknown := {b["type"] for b in blocks} - supported:
        raise ValueError(f"{cfg}: layers {sorted(unknown)} are not supported")

    class Darknet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.blocks = blocks[1:]
            self.layers = nn.ModuleList()
            channels: list[int] = []
            c = int(blocks[0].get("channels", 3))
            for b in self.blocks:
                layer: nn.Module = nn.Identity()
                if b["type"] == "convolutional":
                    filters, size, stride = int(b["filters"]), int(b["size"]), int(b["stride"])
                    norm = bool(int(b.get("batch_normalize", 0)))
                    parts: list[nn.Module] = [nn.Conv2d(c, filters, size, stride,
                                                        (size - 1) // 2 if int(b.get("pad", 0)) else 0, bias=not norm)]
                    if norm:
                        parts.append(nn.BatchNorm2d(filters, eps=1e-5))
                    if b["activation"] == "leaky":
                        parts.append(nn.LeakyReLU(0.1))
                    layer, c = nn.Sequential(*parts), filters
                elif b["type"] == "route":
                    here = len(channels)
                    b["_from"] = ",".join(str(i if i >= 0 else here + i) for i in map(int, b["layers"].split(",")))
                    c = sum(channels[int(i)] for i in b["_from"].split(","))
                channels.append(c)
                self.layers.append(layer)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            size = x.shape[-1]
            seen: list[torch.Tensor] = []
            rows = []
            for b, layer in zip(self.blocks, self.layers, strict=True):
                kind = b["type"]
                if kind == "convolutional":
                    x = layer(x)
                elif kind == "maxpool":
                    k, s = int(b["size"]), int(b["stride"])
                    # Darknet pads the right and bottom when the stride keeps the size (yolov3-tiny's 13 x 13)
                    x = F.max_pool2d(F.pad(x, (0, k - 1, 0, k - 1), mode="replicate"), k, 1) if s == 1 \
                        else F.max_pool2d(x, k, s)
                elif kind == "upsample":
                    x = F.interpolate(x, scale_factor=int(b["stride"]), mode="nearest")
                elif kind == "route":
                    x = torch.cat([seen[int(i)] for i in b["_from"].split(",")], 1)
                elif kind == "yolo":
                    rows.append(_yolo(x, b, size))
                seen.append(x)
            return torch.cat(rows, 1)

    def _yolo(x: torch.Tensor, b: dict[str, str], size: Any) -> torch.Tensor:
        mask = [int(v) for v in b["mask"].split(",")]
        flat = [float(v) for v in b["anchors"].split(",")]
        anchors = torch.tensor([[flat[2 * i], flat[2 * i + 1]] for i in mask])
        n, _, h, w = x.shape
        y = x.view(n, len(mask), -1, h, w).permute(0, 3, 4, 1, 2)  # n, h, w, anchor, 5 + classes
        gy, gx = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
        cx = (torch.sigmoid(y[..., 0]) + gx[..., None]) / w
        cy = (torch.sigmoid(y[..., 1]) + gy[..., None]) / h
        bw, bh = torch.exp(y[..., 2]) * anchors[:, 0] / size, torch.exp(y[..., 3]) * anchors[:, 1] / size
        objectness = torch.sigmoid(y[..., 4])
        scores = torch.sigmoid(y[..., 5:]) * objectness[..., None]
        return torch.cat([torch.stack([cx, cy, bw, bh, objectness], -1), scores], -1).reshape(n, -1, y.shape[-1])

    model = Darknet()
    _load_weights(model, weights)
    _fold_batch_norms(model)
    return model.eval()


def _load_weights(model: Any, weights: Path) -> None:
    import torch

    data = weights.read_bytes()
    major, minor = np.frombuffer(data[:8], dtype=np.int32)
    values = np.frombuffer(data[20 if major * 10 + minor >= 2 else 16:], dtype=np.float32)
    at = 0
    for b, layer in zip(model.blocks, model.layers, strict=True):
        if b["type"] != "convolutional":
            continue
        norm = layer[1] if len(layer) > 1 and isinstance(layer[1], torch.nn.BatchNorm2d) else None
        tensors = [norm.bias, norm.weight, norm.running_mean, norm.running_var] if norm else [layer[0].bias]
        for tensor in [*tensors, layer[0].weight]:  # Darknet's order: bias (or BN's four), then the kernel
            count = tensor.numel()
            if at + count > len(values):
                raise ValueError(f"{weights}: too short for its cfg")
            tensor.data.copy_(torch.from_numpy(values[at:at + count].copy()).view_as(tensor))
            at += count
    if at != len(values):
        raise ValueError(f"{weights}: {len(values) - at} values left over: not the weights of this cfg")


def _fold_batch_norms(model: Any) -> None:
    """Each batch norm folded into its convolution, computed in float64 by numpy and rounded once to float32.

    The ONNX export would fold them itself, in float32 with torch's vectorised kernels, whose last bits differ
    between CPUs (an AMD EPYC and an Intel Xeon gave two files); numpy's float64 element-wise arithmetic is
    correctly rounded everywhere, so the weights, and with them the file's bytes, are the same on every machine.
    """
    import torch

    for b, layer in zip(model.blocks, model.layers, strict=True):
        if b["type"] != "convolutional" or len(layer) < 2 or not isinstance(layer[1], torch.nn.BatchNorm2d):
            continue
        conv, norm = layer[0], layer[1]
        kernel = conv.weight.detach().numpy().astype(np.float64)
        gamma, beta, mean, var = (t.detach().numpy().astype(np.float64)
                                  for t in (norm.weight, norm.bias, norm.running_mean, norm.running_var))
        scale = gamma / np.sqrt(var + norm.eps)
        folded = torch.nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding)
        folded.weight.data.copy_(torch.from_numpy((kernel * scale[:, None, None, None]).astype(np.float32)))
        folded.bias.data.copy_(torch.from_numpy((beta - mean * scale).astype(np.float32)))
        layer[0], layer[1] = folded, torch.nn.Identity()


def export_onnx(models: Path) -> Path:
    """``yolov3-tiny.onnx`` from the cfg and weights, the same bytes on every machine with the pinned torch."""
    import torch

    model = build(models / CFG, models / WEIGHTS)
    out = models / ONNX
    example = torch.zeros(1, 3, IMGSZ, IMGSZ)
    dynamic = {"images": {0: "batch", 2: "height", 3: "width"}, "rows": {0: "batch", 1: "anchors"}}
    torch.onnx.export(model, (example,), str(out), input_names=["images"], output_names=["rows"], opset_version=17,
                      dynamic_axes=dynamic, dynamo=False)
    return out


def agreement(models: Path) -> dict[str, Any]:
    """How far OpenVINO's boxes agree with OpenCV DNN's on 60 vtest frames (every 12th)."""
    from vision.detectors.darknet import DarknetDetector
    from vision.detectors.export import VTEST, found_in, sample_frames

    reference = DarknetDetector(models / CFG, models / WEIGHTS, models / NAMES, IMGSZ, runtime="opencv")
    fast = DarknetDetector(models / CFG, models / WEIGHTS, models / NAMES, IMGSZ, runtime="openvino")
    frames = sample_frames(VTEST, 60, lambda i: i % 12 == 6)
    found_ref = found_fast = total_ref = total_fast = 0
    for image in frames:
        a, b = reference.detect([image])[0].xyxy, fast.detect([image])[0].xyxy
        total_ref, total_fast = total_ref + len(a), total_fast + len(b)
        found_ref, found_fast = found_ref + found_in(a, b), found_fast + found_in(b, a)
    return {"frames": len(frames), "imgsz": IMGSZ, "iou_threshold": 0.7, "precision": fast.precision,
            "opencv_boxes": total_ref, "openvino_boxes": total_fast,
            "opencv_found_by_openvino": round(found_ref / max(total_ref, 1), 4),
            "openvino_found_by_opencv": round(found_fast / max(total_fast, 1), 4)}


def agreement_file(weights: Path) -> Path:
    """Where setup writes the agreement of a Darknet model's OpenVINO export: ``yolov3-tiny-openvino.json``."""
    return weights.with_name(f"{weights.stem}-openvino.json")


def openvino_agrees(weights: Path) -> bool:
    """Whether setup measured OpenVINO's boxes agreeing with OpenCV DNN's for these weights (its file says so)."""
    from vision.detectors.export import agreement_holds

    keys = ("opencv_found_by_openvino", "openvino_found_by_opencv")
    return agreement_holds(agreement_file(weights), keys, AGREEMENT)


def main(argv: list[str]) -> int:
    models = Path(argv[0] if argv else "models")
    export_onnx(models)
    found = agreement_file(models / WEIGHTS)
    found.write_text(json.dumps(agreement(models), indent=1) + "\n", encoding="utf-8")
    print(f"exported {models / ONNX}; agreement {found}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
