"""``cdi-monitor import``: a force's incident and crime exports onto the event contract.

A mapping file (TOML, ``mapping``) says which column of an export is which
field, how its local times read (``timezones``) and how the force's codes
translate. ``reading`` yields the rows of CSV and JSON Lines files with their
line numbers, ``events`` turns each row into CloudEvents with ids derived
from the export's own identifiers (or into a ``Reject``), and ``producing``
sends them to the input topics in event-time order, skipping what the topics
already hold. ``command`` is the command line around them.
"""
