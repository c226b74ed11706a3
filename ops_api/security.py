"""Secrets of the API: argon2id password hashes and random bearer/session/device tokens.

Passwords are hashed with argon2id at OWASP's first recommended setting (19 MiB, 2 passes, 1 lane). Tokens are
256-bit random strings; only their SHA-256 is stored, so a leaked database cannot sign anyone in.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from dataclasses import dataclass, field
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# OWASP Password Storage Cheat Sheet, argon2id: m=19 MiB, t=2, p=1 — ~20 ms a check on this 2-core machine,
# where argon2-cffi's default (64 MiB, t=3, p=4) took ~110 ms and put sign-in p95 over 100 ms under load.
# Older hashes are re-hashed with these parameters at their next sign-in (needs_rehash).
_HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)


@functools.cache
def _dummy_hash() -> str:
    """Checked against when the user name is unknown, so a wrong name costs as long as a wrong password."""
    return _HASHER.hash("vigil-no-such-user")

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 200
SESSION_PREFIX = "vgs_"
TOKEN_PREFIX = "vgt_"
DEVICE_PREFIX = "vgd_"
DISPLAY_PREFIX = "vgh_"  # a hall screen's display key


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; always spends one argon2 verification."""
    try:
        return _HASHER.verify(password_hash or _dummy_hash(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _HASHER.check_needs_rehash(password_hash)


@dataclass(frozen=True)
class PasswordProblem:
    """Why a new password is refused: English text, and a code with params for the API's clients."""

    message: str
    code: str
    params: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message


def password_problem(password: str, username: str = "") -> PasswordProblem | None:
    """Why a new password is refused, or None when it is acceptable."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return PasswordProblem(f"must be at least {MIN_PASSWORD_LENGTH} characters", "password_too_short",
                               {"min_length": MIN_PASSWORD_LENGTH})
    if len(password) > MAX_PASSWORD_LENGTH:
        return PasswordProblem(f"must be at most {MAX_PASSWORD_LENGTH} characters", "password_too_long",
                               {"max_length": MAX_PASSWORD_LENGTH})
    if username and password.lower() == username.lower():
        return PasswordProblem("must differ from the user name", "password_same_as_username")
    return None


def new_token(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def one_time_password() -> str:
    """A readable random password for a first sign-in (about 80 bits)."""
    alphabet = "abcdefghijkmnpqrstuvwxyzACDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(3))
