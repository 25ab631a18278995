"""Alembic environment of the clinic database (run by gutaxis.app.db.migrate)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from gutaxis.app.db.models import Base

config = context.config
url = config.get_main_option("sqlalchemy.url")
assert url is not None
engine = create_engine(url, poolclass=pool.NullPool)
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata,
                      render_as_batch=url.startswith("sqlite"))
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
