"""Every router of the app, in the order they are mounted (one line per domain)."""

from __future__ import annotations

from fastapi import APIRouter


def all_routers() -> list[APIRouter]:
    from gutaxis.app.auth import api as auth_api
    from gutaxis.app.auth import pages as auth_pages
    from gutaxis.app.diary import api as diary_api
    from gutaxis.app.labs import api as labs_api
    from gutaxis.app.labs import pages as labs_pages
    from gutaxis.app.samples import api as samples_api
    from gutaxis.app.samples import pages as samples_pages
    from gutaxis.app.system import api as system_api

    return [
        system_api.router,
        auth_api.router,
        auth_pages.router,
        diary_api.router,
        samples_api.router,
        samples_pages.router,
        labs_api.router,
        labs_pages.router,
    ]
