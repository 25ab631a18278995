"""The app for an ASGI server that imports it by name (``gutaxis serve --workers N``,
or ``uvicorn --factory gutaxis.app.asgi:from_environment``): settings from the environment."""

from __future__ import annotations

from fastapi import FastAPI


def from_environment() -> FastAPI:
    from gutaxis.app import create_app

    return create_app()
