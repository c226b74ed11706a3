"""Logging set-up shared by every command and process."""

from __future__ import annotations

import logging
import sys

from core.redact import install_log_redaction

FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


def setup_logging(level: str = "INFO") -> None:
    """Log lines to stderr, credentials removed; quiet the chatty libraries."""
    logging.basicConfig(level=level, format=FORMAT, stream=sys.stderr, force=True)
    install_log_redaction()  # camera libraries quote stream URLs, credentials included
    for noisy in ("httpx", "httpcore", "zeep", "ultralytics", "urllib3", "asyncio", "multipart"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
