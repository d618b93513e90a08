"""Alembic environment: migrate the database named by the ``sqlalchemy.url`` main option.

The option is set in code (``monitor.adapters.sql.migrate``), so no ``alembic.ini``
is read. SQLite gets batch mode, which later ``ALTER`` migrations need there.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from monitor.adapters.sql.tables import metadata

config = context.config
url = config.get_main_option("sqlalchemy.url")
if not url:
    raise RuntimeError("set the Alembic main option sqlalchemy.url to the ledger database URL")


def run_offline() -> None:
    """Emit the SQL instead of running it (``alembic upgrade --sql``)."""
    context.configure(
        url=url,
        target_metadata=metadata,
        literal_binds=True,
        render_as_batch=url.startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            context.configure(
                connection=connection,
                target_metadata=metadata,
                render_as_batch=connection.dialect.name == "sqlite",
            )
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
