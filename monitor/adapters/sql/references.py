"""What the ledger says of one incident's crimes, by reference only (never victims' details).

Shared by the board's incident history and the audit's incident story.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from monitor.adapters.sql.tables import crime_incidents, crimes


def crimes_naming(connection: Connection, incident_id: str) -> list[dict[str, Any]]:
    """The crime records that name the incident, earliest first: references, offence, times."""
    rows = connection.execute(
        select(
            crimes.c.crime_id,
            crimes.c.recorded_at,
            crimes.c.offence_code,
            crimes.c.offence_group,
            crimes.c.cancelled_at,
            crimes.c.cancellation_reason,
        )
        .join(crime_incidents, crime_incidents.c.crime_id == crimes.c.crime_id)
        .where(crime_incidents.c.incident_id == incident_id)
        .order_by(crimes.c.recorded_at)
    ).all()
    return [dict(r._mapping) for r in rows]
