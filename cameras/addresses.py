"""Where a camera's stored password may go: the addresses (host and port) it was entered for.

A camera's password is sent to its stream, snapshot and ONVIF addresses. Whoever changes one of those to a
new host or port must give the password again (the new one replaces the stored one); otherwise the server
would hand the stored password to an address of the editor's choosing. ``new_addresses`` says which of a
change's fields move to an address the camera did not already have.

Over the API, a stream or snapshot address must be a network URL (``check_network_uri``): a local path or
another scheme (``file:``, ``concat:``, ...) would let the decoder read files on the server. Video files as
cameras come from the command line only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

NETWORK_SCHEMES = ("rtsp", "rtsps", "http", "https")
DEFAULT_PORTS = {"rtsp": 554, "rtsps": 322, "http": 80, "https": 443}
URI_FIELDS = ("main_uri", "sub_uri", "snapshot_uri")
ONVIF_PORT = 80

Address = tuple[str, int]


def check_network_uri(uri: str) -> str:
    """``uri`` when it is an rtsp://, rtsps://, http:// or https:// URL with a host; else ValueError saying why."""
    try:
        parts = urlsplit(uri)
        _ = parts.port  # raises on a port out of range or not a number
    except ValueError as exc:
        raise ValueError(f"not a usable URL ({exc})") from None
    if parts.scheme.lower() not in NETWORK_SCHEMES:
        raise ValueError(f"must be an {', '.join(s + '://' for s in NETWORK_SCHEMES)} URL")
    if not parts.hostname or any(c.isspace() or ord(c) < 32 for c in uri):
        raise ValueError("must be a URL with the camera's host (and no spaces)")
    return uri


def uri_address(uri: str | None) -> Address | None:
    """The host and port a URL's requests go to (the scheme's port when none is written); None for no URL or a
    path."""
    if not uri or "://" not in uri:
        return None
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname:
        return None
    return parts.hostname.lower(), port or DEFAULT_PORTS.get(parts.scheme.lower(), 0)


def onvif_address(host: str | None, port: int | None) -> Address | None:
    return (host.strip("[]").lower(), port or ONVIF_PORT) if host else None


def camera_addresses(camera: Mapping[str, Any]) -> dict[str, Address]:
    """Each address field of a camera row (``main_uri``, ``sub_uri``, ``snapshot_uri``, ``onvif``) with where it
    points."""
    found = {key: uri_address(camera.get(key)) for key in URI_FIELDS}
    found["onvif"] = onvif_address(camera.get("onvif_host"), camera.get("onvif_port"))
    return {key: address for key, address in found.items() if address is not None}


def new_addresses(before: Mapping[str, Any], change: Mapping[str, Any]) -> dict[str, Address]:
    """The fields of ``change`` (a partial camera row) that point at an address the camera ``before`` did not
    use, with that address."""
    known = set(camera_addresses(before).values())
    after = camera_addresses({**before, **change})
    changed = {key for key in (*URI_FIELDS, "onvif_host", "onvif_port") if key in change}
    moved = {("onvif" if key.startswith("onvif") else key) for key in changed}
    return {key: address for key, address in after.items() if key in moved and address not in known}
