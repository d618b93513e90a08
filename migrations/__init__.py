"""The ledger's Alembic environment, shipped inside the package.

Run it with ``cdi-monitor migrate`` (``monitor.adapters.sql.migrate.upgrade``);
no ``alembic.ini`` is needed, the database URL is set programmatically.
"""
