"""Camera passwords between the API and the store: encrypted with the key in ``settings.key_file``
(``cameras.crypto``) before they are stored; decrypted only on their way to the camera, never into an answer."""

from __future__ import annotations

import psycopg

from core.settings import Settings
from store import registry_rows


def encrypt_password(settings: Settings, password: str) -> bytes:
    """The stored form of a camera password."""
    from cameras.crypto import encrypt_password as encrypt

    return encrypt(password, settings.key_file)


def decrypt_password(settings: Settings, token: bytes | memoryview | None) -> str | None:
    """The clear password of a stored token (None: the camera has none)."""
    from cameras.crypto import decrypt_password as decrypt

    return decrypt(token, settings.key_file) if token else None


def camera_password(settings: Settings, conn: psycopg.Connection, camera_id: int) -> str | None:
    """The clear password of a camera, on its way to the camera only."""
    row = registry_rows.camera_stream(conn, camera_id)
    return decrypt_password(settings, row["password_enc"]) if row else None
