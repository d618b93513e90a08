"""Application services: the use cases, wired to ports (state store, ledger, publisher)."""
