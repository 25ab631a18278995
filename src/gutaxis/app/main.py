"""Build the FastAPI app: routers of every domain, error pages, security headers."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gutaxis.app import routers
from gutaxis.app.audit import service as audit
from gutaxis.app.auth.service import LoginRefused, TooManyAttempts
from gutaxis.app.deps import Denied, NotAuthenticated, optional_actor
from gutaxis.app.settings import Settings
from gutaxis.app.state import WEB, AppState
from gutaxis.errors import InputError
from gutaxis.version import package_version

API = "/api/"
_CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        "script-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; "
        "form-action 'self'")


def build_app(settings: Settings) -> FastAPI:
    """The app for ``settings``; the database must be migrated (``gutaxis db upgrade``)."""
    app = FastAPI(title="gutaxis clinic", version=package_version(),
                  description="The gutaxis clinic API: diaries, questionnaires, labs, "
                  "microbiome samples, interventions and their n-of-1 evaluation, "
                  "de-identified cohort export and analyses. Authenticate with a session "
                  "cookie (browsers; send X-CSRF-Token on changes) or a bearer token from "
                  "POST /api/v1/auth/token.",
                  docs_url="/api/docs", redoc_url=None, openapi_url="/api/v1/openapi.json")
    app.state.gutaxis = AppState.from_settings(settings)
    app.mount("/static", StaticFiles(directory=str(WEB / "static")), name="static")
    for router in routers.all_routers():
        app.include_router(router)
    _add_handlers(app)
    _document_rejections(app)

    app.add_middleware(SecurityHeaders)
    return app


class SecurityHeaders:
    """Adds the security headers to every HTTP answer that does not set them itself
    (and ``Cache-Control: no-store`` outside /static/). A plain ASGI middleware: Starlette's
    ``BaseHTTPMiddleware`` costs a task group and memory streams per request."""

    _HEADERS = ((b"content-security-policy", _CSP.encode()),
                (b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
                (b"referrer-policy", b"same-origin"))

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        no_store = not scope["path"].startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                added = [*self._HEADERS, (b"cache-control", b"no-store")] if no_store \
                    else list(self._HEADERS)
                headers += [(name, value) for name, value in added if name not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _is_api(request: Request) -> bool:
    return request.url.path.startswith(API)


def _add_handlers(app: FastAPI) -> None:
    @app.exception_handler(InputError)
    async def input_error(request: Request, exc: InputError) -> Response:
        row = getattr(exc.row, "item", lambda: exc.row)()  # numpy ints from the readers
        body = {"detail": str(exc), "field": exc.field or exc.column, "row": row,
                "source": exc.source}
        if _is_api(request):
            return JSONResponse(body, status_code=422)
        return _page(request, "error.html", {"title": "Not accepted", "message": str(exc)},
                     422)

    @app.exception_handler(DataError)
    async def out_of_range(request: Request, exc: DataError) -> Response:
        # a value the database refuses (an id beyond its integer range, a string longer
        # than its column) that validation let through: the input's fault, not a 500
        message = "a value is out of range for the database: " + type(exc.orig).__name__
        if _is_api(request):
            return JSONResponse({"detail": message, "field": None}, status_code=422)
        return _page(request, "error.html", {"title": "Not accepted", "message": message}, 422)

    @app.exception_handler(NotAuthenticated)
    async def not_authenticated(request: Request, exc: NotAuthenticated) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": "not logged in"}, status_code=401,
                                headers={"WWW-Authenticate": "Bearer"})
        return RedirectResponse("/login", status_code=303)

    @app.exception_handler(Denied)
    async def denied(request: Request, exc: Denied) -> Response:
        state: AppState = request.app.state.gutaxis
        with state.db.write() as session:
            audit.record(session, exc.actor, request.method.lower(), exc.resource,
                         patient_id=exc.patient_id, outcome="denied", detail=exc.why)
        if _is_api(request):
            return JSONResponse({"detail": f"access denied: {exc.why}"}, status_code=403)
        return _page(request, "denied.html", {"why": exc.why}, 403)

    @app.exception_handler(LoginRefused)
    async def login_refused(request: Request, exc: LoginRefused) -> Response:
        return JSONResponse({"detail": str(exc), "needs_totp": exc.needs_totp},
                            status_code=401)

    @app.exception_handler(TooManyAttempts)
    async def too_many(request: Request, exc: TooManyAttempts) -> Response:
        return JSONResponse({"detail": str(exc)}, status_code=429,
                            headers={"Retry-After": str(exc.retry_after)})

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _is_api(request) or exc.status_code < 400:
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code,
                                headers=getattr(exc, "headers", None))
        return _page(request, "error.html", {"title": f"Error {exc.status_code}",
                                             "message": str(exc.detail)}, exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        errors = exc.errors()
        first = errors[0] if errors else {}
        where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
        message = f"field {where!r}: {first.get('msg', 'invalid')}"
        if "input" in first and not isinstance(first["input"], dict | list):
            message += f"; found {first['input']!r}"
        if _is_api(request):
            return JSONResponse({"detail": message, "field": where, "errors": [
                {"loc": list(e.get("loc", ())), "msg": e.get("msg")} for e in errors]},
                status_code=422)
        return _page(request, "error.html", {"title": "Not accepted", "message": message}, 422)


#: The body of a 422 answer as the handlers below write it (FastAPI's default schema,
#: ``detail`` as a list of validation errors, is not what this app sends).
REJECTED_INPUT_SCHEMA: dict[str, object] = {
    "title": "Rejected input",
    "type": "object",
    "required": ["detail"],
    "properties": {
        "detail": {"type": "string", "description": "What was wrong: field, found, expected"},
        "field": {"type": ["string", "null"], "description": "The field (or column) at fault"},
        "row": {"type": ["integer", "null"], "description": "The row of an uploaded table"},
        "source": {"type": ["string", "null"], "description": "The file or part read"},
        "errors": {"type": "array", "description": "Every validation error of the request",
                   "items": {"type": "object", "properties": {
                       "loc": {"type": "array", "items": {"type": ["string", "integer"]}},
                       "msg": {"type": ["string", "null"]}}}},
    },
}


_UNPARSABLE = {"description": "The body could not be parsed (not JSON, not a form)",
               "content": {"application/json": {"schema": {
                   "type": "object", "required": ["detail"],
                   "properties": {"detail": {"type": "string"}}}}}}


def _document_rejections(app: FastAPI) -> None:
    """Make the OpenAPI document say what the app answers to bad input: the 422 body
    (``HTTPValidationError``) the handlers below send, and the 400 that FastAPI sends for a
    body it cannot parse, on every operation that takes a body."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components["HTTPValidationError"] = REJECTED_INPUT_SCHEMA
            for operations in schema.get("paths", {}).values():
                for operation in operations.values():
                    if isinstance(operation, dict) and "requestBody" in operation:
                        operation.setdefault("responses", {}).setdefault("400", _UNPARSABLE)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _page(request: Request, template: str, context: dict[str, object], status: int) -> Response:
    state: AppState = request.app.state.gutaxis
    actor = getattr(request.state, "actor", None) or None
    if actor is None:
        try:
            actor = optional_actor(request, state)
        except Exception:  # a broken session must not hide the error page
            actor = None
    return state.templates.TemplateResponse(request, template,
                                            {"actor": actor, **context}, status_code=status)
