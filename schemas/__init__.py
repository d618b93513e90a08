"""Pydantic v2 models of every event on the wire: the one source of the JSON Schemas.

Inputs (``incidents``, ``crime-records``) are validated strictly; outputs
(``recording-outcomes``, ``recording-alerts``, ``cdi-dead-letters``) are built
from these models so what we publish always matches what we document.
"""
