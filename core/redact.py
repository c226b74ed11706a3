"""Secrets out of text: the one scrubber every error, log line and event attribute goes through.

Camera libraries put the URL they were given into their messages (ffmpeg and PyAV quote it, OpenCV and
ONVIF clients too), and that URL may carry ``user:password@`` or ``?user=..&pwd=..``. ``redact`` removes
both from anywhere inside a text, not only from a text that is itself a URL, and blanks any literal secret
the caller knows (a camera's password, also in its percent-encoded form) and Vigil's own bearer tokens::

    redact("Server returned 401 for 'rtsp://admin:S3cret@10.0.0.5/s1'")   # "... 'rtsp://10.0.0.5/s1'"
    redact("http://cam/snap.cgi?user=admin&pwd=S3cret")                    # "...?user=admin&pwd=***"
    redact("open failed: S3cret", secrets=["S3cret"])                      # "open failed: ***"

``RedactingFormatter`` applies it to whole formatted log records (messages, arguments and tracebacks);
``install_log_redaction`` puts it on the handlers of the root and uvicorn loggers.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

MASK = "***"

# Query parameters whose value is a secret (cameras: Foscam usr/pwd, Dahua/XM loginuse/loginpas, Hikvision
# auth; Vigil's own ?token= on the WebSocket; a hall screen's key=; generic API keys).
PASSWORD_PARAMS = frozenset({"password", "passwd", "pass", "pwd", "psw", "pw", "passwort", "loginpas", "loginpass"})
SECRET_PARAMS = PASSWORD_PARAMS | {"token", "access_token", "auth", "authorization", "key", "apikey", "api_key",
                                   "secret", "signature", "sig"}

# scheme://userinfo@ : userinfo runs up to the last '@' before the host (passwords may hold an unencoded '@').
_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.\-]{1,15}://)(?P<userinfo>[^\s/?#'\"<>]*)@")
_PARAM = re.compile(r"(?P<key>(?:^|(?<=[?&;\s'\"]))(?:" + "|".join(sorted(SECRET_PARAMS, key=len, reverse=True))
                    + r")=)(?P<value>[^&;#\s'\"<>]*)", re.IGNORECASE)
_VIGIL_TOKEN = re.compile(r"\b(vg[tsdh]_)[A-Za-z0-9_\-]{8,}")  # API token, session, device, hall display
_AUTH_HEADER = re.compile(r"\b((?:Authorization|Proxy-Authorization):\s*\w+\s+)[^\s'\"]+", re.IGNORECASE)


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """``text`` with credentials in URLs, secret query parameters, tokens and the given secrets masked."""
    if not text:
        return text
    for secret in secrets:
        if secret and len(secret) >= 3:  # a 1-2 character "secret" would mask ordinary letters
            for form in {secret, quote(secret, safe=""), quote(secret)}:
                text = text.replace(form, MASK)
    if "@" in text:
        text = _USERINFO.sub(lambda m: m["scheme"], text)
    if "=" in text:
        text = _PARAM.sub(lambda m: m["key"] + (MASK if m["value"] else ""), text)
    if "vg" in text:
        text = _VIGIL_TOKEN.sub(lambda m: m[1] + MASK, text)
    return _AUTH_HEADER.sub(lambda m: m[1] + MASK, text) if "uthorization" in text else text


def redact_value(value: Any, secrets: Iterable[str | None] = ()) -> Any:
    """A JSON-like value (dicts, lists, strings) with every string redacted; other values unchanged."""
    secrets = tuple(secrets)
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, Mapping):
        return {key: redact_value(item, secrets) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact_value(item, secrets) for item in value)
    return value


class RedactingFormatter(logging.Formatter):
    """Formats with the wrapped formatter, then redacts the whole line (tracebacks included)."""

    def __init__(self, inner: logging.Formatter | None = None) -> None:
        super().__init__()
        self.inner = inner or logging.Formatter()

    def format(self, record: logging.LogRecord) -> str:
        return redact(self.inner.format(record))


def install_log_redaction(*logger_names: str) -> None:
    """Wrap the formatter of every handler of the root logger and of ``logger_names`` (idempotent)."""
    for name in ("", "uvicorn", "uvicorn.error", "uvicorn.access", *logger_names):
        for handler in logging.getLogger(name or None).handlers:
            if not isinstance(handler.formatter, RedactingFormatter):
                handler.setFormatter(RedactingFormatter(handler.formatter))
