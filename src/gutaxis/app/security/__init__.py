"""Passwords, session tokens, CSRF, TOTP and the role checks every route goes through."""
