"""Random tokens: the browser or script holds the token, the database only its SHA-256."""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def same(a: str, b: str) -> bool:
    """Constant-time comparison."""
    return hmac.compare_digest(a.encode(), b.encode())


def signed(secret: str, message: str) -> str:
    """HMAC-SHA256 of ``message`` under ``secret`` (hex)."""
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()
