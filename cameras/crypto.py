"""Camera passwords encrypted at rest (Fernet: AES-128-CBC + HMAC-SHA256, from ``cryptography``).

The key lives in ``settings.key_file`` (default ``DATA_DIR/secret.key``), created on first use with mode
0600. Losing the key means re-entering the camera passwords; copying the database without it leaks none.
The clear password exists only in memory, on its way to the camera; nothing logs or exports it.

    box = SecretBox.from_key_file(settings.key_file)
    token = box.encrypt("s3cret")        # bytes for cameras.password_enc
    box.decrypt(token)                   # "s3cret"
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken


class CredentialError(RuntimeError):
    """A stored password cannot be decrypted (another key) or the key file is unusable."""


class SecretBox:
    """Encrypts and decrypts camera passwords with one Fernet key."""

    def __init__(self, key: bytes) -> None:
        try:
            self._fernet = Fernet(key)
        except (ValueError, TypeError) as exc:
            raise CredentialError("the key is not a Fernet key (32 url-safe base64-encoded bytes)") from exc

    @classmethod
    def from_key_file(cls, path: Path | str) -> SecretBox:
        """Load the key, creating the file (mode 0600) on first use."""
        return cls(load_or_create_key(Path(path)))

    def encrypt(self, password: str) -> bytes:
        return self._fernet.encrypt(password.encode("utf-8"))

    def decrypt(self, token: bytes | memoryview) -> str:
        try:
            return self._fernet.decrypt(bytes(token)).decode("utf-8")
        except InvalidToken:
            raise CredentialError("a stored camera password cannot be decrypted with this key file: it was "
                                  "encrypted with another key (restore that key, or set the password again)") from None

    def __repr__(self) -> str:
        return "SecretBox(<key hidden>)"


def load_or_create_key(path: Path) -> bytes:
    """The key in ``path``; a new one is written there (0600, never overwritten) when the file is missing."""
    try:
        key = path.read_bytes().strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = Fernet.generate_key()
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first: use theirs
            return path.read_bytes().strip()
        with os.fdopen(fd, "wb") as handle:
            handle.write(key + b"\n")
    except OSError as exc:
        raise CredentialError(f"cannot read the key file {path}: {exc.strerror}") from None
    return key


def encrypt_password(password: str, key_file: Path | str) -> bytes:
    """The stored (encrypted) form of a camera password."""
    return SecretBox.from_key_file(key_file).encrypt(password)


def decrypt_password(token: bytes | memoryview, key_file: Path | str) -> str:
    """The clear password of a stored token; raises CredentialError for a token of another key."""
    return SecretBox.from_key_file(key_file).decrypt(token)
