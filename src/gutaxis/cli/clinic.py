"""The clinic web app at the command line: ``serve``, ``worker``, ``db upgrade``,
``users create-admin``.

``gutaxis serve`` starts the app on an embedded SQLite database in ./gutaxis-clinic
(migrated on start; the first run asks for the admin account when run in a terminal);
``--database-url postgresql://...`` runs the same app on PostgreSQL.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from gutaxis.cli.common import PlainHelpCommand, err_console, fail, handle_errors

DatabaseUrl = Annotated[str | None, typer.Option(
    "--database-url", metavar="URL", envvar="GUTAXIS_DATABASE_URL", show_default=False,
    help="postgresql://user@host/db for PostgreSQL. Default: SQLite in DATA_DIR.")]
DataDir = Annotated[Path, typer.Option(
    "--data-dir", metavar="DIR", envvar="GUTAXIS_DATA_DIR",
    help="Folder of the SQLite database, the secret key and analysis outputs.")]

SERVE_HELP = """Start the clinic web app.

The database is created or migrated first. With no admin account yet, the command asks
for one (in a terminal) or tells how to make one.

\b
Examples:
  gutaxis serve
  gutaxis serve --port 8080 --data-dir /srv/gutaxis
  gutaxis serve --database-url postgresql://127.0.0.1/gutaxis --workers 2
"""


DB_HELP = """The clinic database: create or migrate it.

\b
Examples:
  gutaxis db upgrade
  gutaxis db upgrade --database-url postgresql://gutaxis@127.0.0.1/gutaxis
"""

USERS_HELP = """Accounts of the clinic app.

Staff and patient accounts are managed in the app itself; this makes the first admin.

\b
Examples:
  gutaxis users create-admin alice
"""


@contextmanager
def database_errors(url: str) -> Iterator[None]:
    """A database that cannot be reached or opened is one line and exit code 2 (the URL
    shown without its password), not an internal error."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, OperationalError

    try:
        yield
    except (OperationalError, ArgumentError) as exc:
        shown = make_url(url).render_as_string(hide_password=True)
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise fail(f"cannot open the database {shown}: {reason}") from None


@handle_errors
def serve_command(
    database_url: DatabaseUrl = None,
    data_dir: DataDir = Path("gutaxis-clinic"),
    host: Annotated[str, typer.Option("--host", metavar="ADDRESS",
                                      help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", metavar="PORT",
                                      help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(
        "--workers", min=1, metavar="N",
        help="Server processes (each with its own connection pool).")] = 1,
    insecure_cookies: Annotated[bool, typer.Option(
        "--insecure-cookies", help="Send the session cookie over plain HTTP too (only behind "
        "a trusted proxy that terminates TLS; browsers accept secure cookies on localhost).")
    ] = False,
) -> None:
    import uvicorn

    from gutaxis.app.accounts import has_admin
    from gutaxis.app.db.migrate import upgrade
    from gutaxis.app.settings import Settings
    from gutaxis.app.state import AppState

    settings = Settings(database_url=database_url, data_dir=data_dir,
                        cookie_secure=not insecure_cookies)
    url = settings.resolved_database_url()
    with database_errors(url):
        upgrade(url)
        state = AppState.from_settings(settings)  # makes the secret key on first run
        try:
            admin = has_admin(state)
        finally:
            state.db.dispose()
    if not admin:
        if sys.stdin.isatty():
            _prompt_admin(settings)
        else:
            err_console().print("No admin account yet: create one with "
                                "`gutaxis users create-admin USERNAME`.")
    # the server processes read the same settings from their environment
    os.environ["GUTAXIS_DATA_DIR"] = str(settings.data_dir)
    os.environ["GUTAXIS_COOKIE_SECURE"] = "false" if insecure_cookies else "true"
    if database_url:
        os.environ["GUTAXIS_DATABASE_URL"] = database_url
    err_console().print(f"gutaxis clinic on http://{host}:{port}/  "
                        f"({'PostgreSQL' if url.startswith('postgresql') else 'SQLite'})")
    uvicorn.run("gutaxis.app.asgi:from_environment", factory=True, host=host, port=port,
                workers=workers, log_level="warning", access_log=False)


def _prompt_admin(settings: object) -> None:
    from gutaxis.app.accounts import create_admin

    username = typer.prompt("No admin account yet. Admin username")
    password = typer.prompt("Password (10 characters or more)", hide_input=True,
                            confirmation_prompt=True)
    create_admin(settings, username, password)  # type: ignore[arg-type]
    err_console().print(f"Admin account {username!r} created.")


@handle_errors
def db_upgrade_command(database_url: DatabaseUrl = None,
                       data_dir: DataDir = Path("gutaxis-clinic")) -> None:
    """Create the clinic database or bring it to the newest schema (Alembic).

    \b
    Examples:
      gutaxis db upgrade
      gutaxis db upgrade --database-url postgresql://gutaxis@127.0.0.1/gutaxis
    """
    from gutaxis.app.db.migrate import head_revision, upgrade
    from gutaxis.app.settings import Settings

    settings = Settings(database_url=database_url, data_dir=data_dir)
    url = settings.resolved_database_url()
    with database_errors(url):
        upgrade(url)
    err_console().print(f"database at revision {head_revision()}")


@handle_errors
def create_admin_command(
    username: Annotated[str, typer.Argument(metavar="USERNAME", show_default=False)],
    database_url: DatabaseUrl = None,
    data_dir: DataDir = Path("gutaxis-clinic"),
    password_stdin: Annotated[bool, typer.Option(
        "--password-stdin", help="Read the password from standard input (for scripts).")
    ] = False,
) -> None:
    """Create an admin account (the database is migrated first).

    \b
    Examples:
      gutaxis users create-admin alice
      printf '%s' "$PASSWORD" | gutaxis users create-admin alice --password-stdin
    """
    from gutaxis.app.accounts import create_admin
    from gutaxis.app.db.migrate import upgrade
    from gutaxis.app.settings import Settings

    if password_stdin:
        password = sys.stdin.read().rstrip("\n")
    elif sys.stdin.isatty():
        password = typer.prompt("Password (10 characters or more)", hide_input=True,
                                confirmation_prompt=True)
    else:
        raise fail("no password: give --password-stdin and pipe it, or run in a terminal")
    settings = Settings(database_url=database_url, data_dir=data_dir)
    url = settings.resolved_database_url()
    with database_errors(url):
        upgrade(url)
        create_admin(settings, username, password)
    err_console().print(f"admin account {username!r} created")


WORKER_HELP = """Run the clinic's background analyses.

Takes queued analyses (queued in the web app's Research page or POST
/api/v1/analyses) from the database, runs gutaxis analyze on the de-identified
cohort and stores each report. Jobs of a worker that stopped heartbeating are
queued again (3 attempts at most). Run one or more next to gutaxis serve.

\b
Examples:
  gutaxis worker
  gutaxis worker --once
  gutaxis worker --database-url postgresql://127.0.0.1/gutaxis --poll 5
"""


@handle_errors
def worker_command(
    database_url: DatabaseUrl = None,
    data_dir: DataDir = Path("gutaxis-clinic"),
    once: Annotated[bool, typer.Option(
        "--once", help="Run the queued jobs, then exit (for cron or tests).")] = False,
    poll: Annotated[float, typer.Option(
        "--poll", min=0.1, metavar="SECONDS",
        help="Seconds between looks at an empty queue.")] = 2.0,
) -> None:
    from gutaxis.app.db.engine import Database
    from gutaxis.app.db.migrate import upgrade
    from gutaxis.app.jobs.worker import run_worker
    from gutaxis.app.settings import Settings

    settings = Settings(database_url=database_url, data_dir=data_dir)
    url = settings.resolved_database_url()
    with database_errors(url):
        upgrade(url)
        db = Database(url, pool_size=2)
        secret = settings.resolved_secret_key()
        say = err_console().print
        say(f"gutaxis worker on {'PostgreSQL' if url.startswith('postgresql') else 'SQLite'}"
            + (" (--once)" if once else f", polling every {poll:g} s; Ctrl-C stops"))
        try:
            ran = run_worker(db, secret, once=once, poll=poll, say=say)
        except KeyboardInterrupt:
            ran = None
        finally:
            db.dispose()
    if ran is not None:
        say(f"{ran} job(s) run")


def register(app: typer.Typer) -> None:
    """Add ``serve``, ``worker``, ``db`` and ``users`` to the gutaxis app."""
    app.command("serve", cls=PlainHelpCommand, help=SERVE_HELP)(serve_command)
    app.command("worker", cls=PlainHelpCommand, help=WORKER_HELP)(worker_command)
    db = typer.Typer(name="db", help=DB_HELP, no_args_is_help=True,
                     context_settings={"max_content_width": 80})
    db.command("upgrade", cls=PlainHelpCommand)(db_upgrade_command)
    app.add_typer(db)
    users = typer.Typer(name="users", help=USERS_HELP, no_args_is_help=True,
                        context_settings={"max_content_width": 80})
    users.command("create-admin", cls=PlainHelpCommand)(create_admin_command)
    app.add_typer(users)
