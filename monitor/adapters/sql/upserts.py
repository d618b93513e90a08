"""The ledger's write statements, one per table, for PostgreSQL and SQLite alike.

Both dialects speak ``INSERT ... ON CONFLICT``; the rules per table:

* incidents: the row given replaces the stored one; the writer first joins the
  incoming live state with the stored state (``SqlLedger``), so the row given
  already knows everything either did.
* alerts: the later snapshot wins, except that a lifecycle time, the resolution
  and ``late`` once known are never replaced by NULL.
* crimes: ``merge_crime`` — every known value survives a NULL from the other event.
* crime_incidents: a crime that names a non-empty list of incidents gets exactly
  those links (as ``merge_crime`` replaces ``incident_ids``); one naming none keeps
  its links. Links are inserted with ``DO NOTHING``, never updated.

Every upsert also stamps ``updated_at`` with the database clock.

Each statement ends in a (discarded) ``RETURNING`` of the key: that is what makes
SQLAlchemy send an executemany as multi-row ``VALUES`` batches ("insertmanyvalues")
instead of the driver's executemany, one round trip per row with psycopg2. A key
may then appear only once per statement (``ON CONFLICT DO UPDATE`` cannot touch
a row twice), so callers fold each batch to one row per key first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from typing import Any

from sqlalchemy import Table, and_, bindparam, case, delete, exists, func, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql import ColumnElement, Delete, Update
from sqlalchemy.sql.dml import ReturningInsert

from monitor.adapters.sql.tables import alerts, crime_incidents, crimes, incidents
from monitor.application.ledger import ALERT_LIFECYCLE_FIELDS, AlertRow, CrimeRow, IncidentRow

INCIDENT_FIELDS = tuple(f.name for f in fields(IncidentRow) if f.name != "state")
ALERT_FIELDS = tuple(f.name for f in fields(AlertRow))
ALERT_KEPT_FIELDS = ALERT_LIFECYCLE_FIELDS
CRIME_FIELDS = tuple(f.name for f in fields(CrimeRow) if f.name != "incident_ids")

# Both dialects' inserts have ``excluded`` and ``on_conflict_*``; the generic one does not.
DialectInsert = postgresql.Insert | sqlite.Insert
InsertFactory = Callable[[Table], DialectInsert]
INSERTS: dict[str, InsertFactory] = {
    "postgresql": postgresql.insert,
    "sqlite": sqlite.insert,
}


def insert_for(dialect_name: str) -> InsertFactory:
    try:
        return INSERTS[dialect_name]
    except KeyError:
        raise ValueError(
            f"the SQL ledger supports {', '.join(INSERTS)}, not {dialect_name}"
        ) from None


def incident_upsert(insert: InsertFactory) -> ReturningInsert[Any]:
    """The row as given: the writer has already joined it with the stored state."""
    stmt = insert(incidents)
    later = {
        name: stmt.excluded[name] for name in (*INCIDENT_FIELDS, "state") if name != "incident_id"
    }
    return stmt.on_conflict_do_update(
        index_elements=[incidents.c.incident_id], set_={**later, "updated_at": func.now()}
    ).returning(incidents.c.incident_id)


def alert_upsert(insert: InsertFactory) -> ReturningInsert[Any]:
    stmt = insert(alerts)
    later: dict[str, ColumnElement[Any]] = {
        name: (
            func.coalesce(stmt.excluded[name], alerts.c[name])
            if name in ALERT_KEPT_FIELDS
            else stmt.excluded[name]
        )
        for name in ALERT_FIELDS
        if name != "alert_id"
    }
    # The state follows the lifecycle times kept, so it never moves backwards.
    resolved = func.coalesce(stmt.excluded.resolved_at, alerts.c.resolved_at)
    overdue = func.coalesce(stmt.excluded.overdue_at, alerts.c.overdue_at)
    later["state"] = case(
        (resolved.is_not(None), "resolved"), (overdue.is_not(None), "overdue"), else_="due_soon"
    )
    return stmt.on_conflict_do_update(
        index_elements=[alerts.c.alert_id], set_={**later, "updated_at": func.now()}
    ).returning(alerts.c.alert_id)


def crime_upsert(insert: InsertFactory) -> ReturningInsert[Any]:
    """Merge into the stored crime; ``unlinked`` is settled afterwards by ``unlinked_update``."""
    stmt = insert(crimes)
    merged = {
        name: func.coalesce(stmt.excluded[name], crimes.c[name])
        for name in CRIME_FIELDS
        if name != "crime_id"
    }
    return stmt.on_conflict_do_update(
        index_elements=[crimes.c.crime_id], set_={**merged, "updated_at": func.now()}
    ).returning(crimes.c.crime_id)


def links_delete() -> Delete:
    """Forget the links of crimes whose incident list is being replaced (``ids``, expanding)."""
    return delete(crime_incidents).where(
        crime_incidents.c.crime_id.in_(bindparam("ids", expanding=True))
    )


def link_insert(insert: InsertFactory) -> ReturningInsert[Any]:
    return (
        insert(crime_incidents)
        .on_conflict_do_nothing(
            index_elements=[crime_incidents.c.crime_id, crime_incidents.c.incident_id]
        )
        .returning(crime_incidents.c.crime_id)
    )


def unlinked_update() -> Update:
    """A crime is unlinked when it has been recorded but names no incident."""
    linked = exists().where(crime_incidents.c.crime_id == crimes.c.crime_id)
    return (
        update(crimes)
        .where(crimes.c.crime_id.in_(bindparam("ids", expanding=True)))
        .values(unlinked=and_(crimes.c.recorded_at.is_not(None), ~linked))
    )
