"""Argon2id password hashes (argon2-cffi), with rehash when the parameters change."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 10


class Passwords:
    """Hash and check passwords with the settings' Argon2id cost."""

    def __init__(self, *, time_cost: int = 3, memory_kib: int = 65536) -> None:
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=1)
        # checked against when the user does not exist, so that a missing account takes
        # as long to refuse as a wrong password
        self._dummy = self._hasher.hash("not a password of anyone")

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(stored or self._dummy, password) and stored is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored: str) -> bool:
        return self._hasher.check_needs_rehash(stored)


def password_problem(password: str, *, username: str = "") -> str | None:
    """Why a new password is refused, or ``None`` (NIST SP 800-63B: length, not rules)."""
    if len(password) < MIN_LENGTH:
        return f"a password needs at least {MIN_LENGTH} characters"
    if len(password) > 256:
        return "a password has at most 256 characters"
    if username and password.lower() == username.lower():
        return "the password must not be the username"
    return None
