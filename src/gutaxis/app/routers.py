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
    from gutaxis.app.clinic import api as clinic_api
    from gutaxis.app.clinic import pages as clinic_pages
    from gutaxis.app.diary import api as diary_api
    from gutaxis.app.diary import pages as diary_pages
    from gutaxis.app.fhir import api as fhir_api
    from gutaxis.app.interventions import api as interventions_api
    from gutaxis.app.jobs import api as jobs_api
    from gutaxis.app.jobs import pages as jobs_pages
    from gutaxis.app.labs import api as labs_api
    from gutaxis.app.labs import pages as labs_pages
    from gutaxis.app.patients import api as patients_api
    from gutaxis.app.portal import api as portal_api
    from gutaxis.app.portal import pages as portal_pages
    from gutaxis.app.questionnaires import api as questionnaires_api
    from gutaxis.app.questionnaires import pages as questionnaires_pages
    from gutaxis.app.research import api as research_api
    from gutaxis.app.samples import api as samples_api
    from gutaxis.app.samples import pages as samples_pages
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
        diary_pages.router,
        questionnaires_api.router,
        questionnaires_pages.router,
        portal_api.router,
        portal_pages.router,
        fhir_api.router,
        research_api.router,
        jobs_api.router,
        jobs_pages.router,
        samples_api.router,
        samples_pages.router,
        labs_api.router,
        labs_pages.router,
        patients_api.router,
        interventions_api.router,
        clinic_api.router,
        clinic_pages.router,
    ]
