"""Adapters: the database, the wire formats and the stream processor's state."""
