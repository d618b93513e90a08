"""Revisions of the ledger schema, one module each (Alembic skips this file)."""
