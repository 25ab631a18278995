"""The clinic's database: SQLAlchemy 2 models, the engine for SQLite or PostgreSQL, and
the Alembic migrations (``gutaxis db upgrade``)."""
