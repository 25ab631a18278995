"""Limits of the fields the auth, admin and audit routes accept, so that what reaches the
database fits it on SQLite and PostgreSQL alike (PostgreSQL refuses NUL in text and integers
past 32 bits; a refusal there would be a 500, here it is a 422 naming the field)."""

from __future__ import annotations

import re

DB_INT_MAX = 2**31 - 1  # PostgreSQL ``integer``
PRINTABLE = r"^[^\x00-\x1f\x7f]*$"  # no control characters (NUL, newlines, escapes)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def has_control(text: str) -> bool:
    """Does ``text`` hold a control character (which no username or filter may)?"""
    return _CONTROL.search(text) is not None


def printable(text: str) -> str:
    """``text`` with each control character replaced by U+FFFD (to record what was sent)."""
    return _CONTROL.sub("\ufffd", text)


def is_code(text: str) -> bool:
    """Is ``text`` a TOTP code as an app shows it (6 to 8 ASCII digits)?"""
    return text.isascii() and text.isdigit() and 6 <= len(text) <= 8
