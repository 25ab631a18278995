"""Every router of the app, in the order they are mounted (one line per domain)."""

from __future__ import annotations

from fastapi import APIRouter


def all_routers() -> list[APIRouter]:
    from gutaxis.app.admin import api as admin_api
    from gutaxis.app.admin import audit_api
    from gutaxis.app.admin import pages as admin_pages
    from gutaxis.app.auth import account_api as auth_account_api
    from gutaxis.app.auth import account_pages as auth_account_pages
    from gutaxis.app.auth import api as auth_api
    from gutaxis.app.auth import invitation_api as auth_invitation_api
    from gutaxis.app.auth import invitation_pages as auth_invitation_pages
    from gutaxis.app.auth import pages as auth_pages
    from gutaxis.app.diary import api as diary_api
    from gutaxis.app.system import api as system_api

    return [
        system_api.router,
        auth_api.router,
        auth_pages.router,
        auth_account_api.router,
        auth_account_pages.router,
        auth_invitation_api.router,
        auth_invitation_pages.router,
        admin_api.router,
        admin_pages.router,
        audit_api.router,
        diary_api.router,
    ]
