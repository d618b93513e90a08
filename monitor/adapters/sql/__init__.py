"""The ledger in a SQL database (PostgreSQL in production, SQLite for a single machine).

``tables`` describes the schema, ``migrate`` brings a database to it with Alembic,
and ``ledger.SqlLedger`` writes and reads the rows with idempotent upserts.
"""
