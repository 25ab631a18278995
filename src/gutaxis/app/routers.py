"""Every router of the app, in the order they are mounted (one line per domain)."""

from __future__ import annotations

from fastapi import APIRouter


def all_routers() -> list[APIRouter]:
    from gutaxis.app.auth import api as auth_api
    from gutaxis.app.auth import pages as auth_pages
    from gutaxis.app.clinic import api as clinic_api
    from gutaxis.app.clinic import pages as clinic_pages
    from gutaxis.app.diary import api as diary_api
    from gutaxis.app.interventions import api as interventions_api
    from gutaxis.app.patients import api as patients_api
    from gutaxis.app.system import api as system_api

    return [
        system_api.router,
        auth_api.router,
        auth_pages.router,
        diary_api.router,
        patients_api.router,
        interventions_api.router,
        clinic_api.router,
        clinic_pages.router,
    ]
