"""Logging in and out, sessions and bearer tokens, TOTP, patient invitations, accounts."""
