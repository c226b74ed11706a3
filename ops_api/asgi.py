"""The app for a uvicorn process: ``uvicorn --factory ops_api.asgi:app_factory``.

Settings come from ``$VIGIL_CONFIG`` / ``vigil.yaml`` and ``VIGIL_`` variables, the database from
``DATABASE_URL`` (``vigil serve`` sets it, so worker processes never start an embedded cluster themselves).
"""

from __future__ import annotations

import os

from fastapi import FastAPI

from core.logs import setup_logging
from core.settings import load_settings
from ops_api.app import create_app


def app_factory() -> FastAPI:
    settings = load_settings()
    setup_logging(settings.log_level)
    url = settings.database_url or os.environ.get("DATABASE_URL")
    if not url:
        from store.db import resolve_url

        url = resolve_url(settings)
    return create_app(settings, url)
