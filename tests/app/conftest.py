"""Fixtures of the clinic app tests (defined in clinic_fixtures.py, importable by tests)."""

from clinic_fixtures import cast, clinic, postgres_url, sqlite_clinic  # noqa: F401
