"""Site plan pictures as uploaded: what kind of picture a body is (PNG, JPEG or WebP, by its first bytes, not by
what the client says), its size in pixels read from its header before anything is decoded (a small file can
declare a huge picture), then one full decode to prove it is a picture."""

from __future__ import annotations

import struct
from dataclasses import dataclass

MEDIA_TYPES = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp"}


class PlanImageError(ValueError):
    """Not a usable plan picture; ``code`` says why (``ops_api.error_codes``)."""

    def __init__(self, message: str, code: str, params: dict[str, int] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.params = params or {}


@dataclass(frozen=True)
class PlanImage:
    extension: str  # png, jpg, webp
    width: int
    height: int

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.extension]


def _png(data: bytes) -> tuple[int, int] | None:
    if len(data) >= 24 and data[12:16] == b"IHDR":
        return struct.unpack(">II", data[16:24])
    return None


def _jpeg(data: bytes) -> tuple[int, int] | None:
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # no length
            i += 2
            continue
        length = struct.unpack(">H", data[i + 2:i + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):  # a start of frame: its size
            height, width = struct.unpack(">HH", data[i + 5:i + 9])
            return width, height
        i += 2 + length
    return None


def _webp(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8X" and len(data) >= 30:
        return 1 + int.from_bytes(data[24:27], "little"), 1 + int.from_bytes(data[27:30], "little")
    if chunk == b"VP8 " and len(data) >= 30:
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and len(data) >= 25:
        bits = int.from_bytes(data[21:25], "little")
        return 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)
    return None


def inspect(data: bytes, max_pixels: int) -> PlanImage:
    """The picture's kind and size; PlanImageError when it is none of PNG, JPEG, WebP, is larger than
    ``max_pixels`` or does not decode."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        kind, size = "png", _png(data)
    elif data.startswith(b"\xff\xd8\xff"):
        kind, size = "jpg", _jpeg(data)
    elif data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        kind, size = "webp", _webp(data)
    else:
        raise PlanImageError("the plan must be a PNG, JPEG or WebP picture", "plan_not_picture")
    if size is None or min(size) < 1:
        raise PlanImageError("the plan picture is damaged (no size in its header)", "plan_not_picture")
    width, height = size
    if width * height > max_pixels:
        raise PlanImageError(f"the plan is {width} x {height} pixels; at most {max_pixels} pixels",
                             "plan_too_many_pixels", {"width": width, "height": height, "max_pixels": max_pixels})
    import cv2  # only here: the API decodes nothing else
    import numpy as np

    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if decoded is None or decoded.shape[1] != width or decoded.shape[0] != height:
        raise PlanImageError("the plan picture is damaged (it does not decode)", "plan_not_picture")
    return PlanImage(kind, width, height)
