"""The clinic web app: patients keep their gut-pain diary, clinicians follow them through
interventions, researchers analyse the de-identified cohort; all on the gutaxis engine.

``create_app(settings)`` builds the FastAPI application; nothing is created at import time
(no engine, no database, no secret). Each domain is a package with its router (JSON under
``/api/v1`` and HTML pages), its service (the rules) and its queries:

``auth``        login, sessions, CSRF, TOTP, invitations, users
``audit``       every read and write of patient data, searchable and exportable
``patients``    the patient list with flags, identities kept in their own table
``diary``       the daily pain / gut / diet diary
``questionnaires``  scheduled instruments from the registry, scored by the engine
``labs``, ``samples``  lab results and microbiome uploads, read by the engine's readers
``interventions``   what was tried, when; its n-of-1 evaluation
``research``    de-identified cohort export and ``analyze`` jobs run by ``gutaxis worker``
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

    from gutaxis.app.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    """The FastAPI application for ``settings`` (read from the environment when omitted)."""
    from gutaxis.app.main import build_app
    from gutaxis.app.settings import Settings

    return build_app(settings if settings is not None else Settings())


__all__ = ["create_app"]
