"""``SqlLedger``: the ``Ledger`` port over a SQL database (PostgreSQL or SQLite).

A batch is written in one transaction, with bulk statements (not one per row),
and writing it again changes nothing. Rows sharing a key within a batch are
folded first — the later incident or alert wins (keeping known alert times),
crimes merge with ``merge_crime`` — so a batch has the effect of writing its
rows one by one, in order. Rows are written in key order, which keeps two
concurrent writers from deadlocking each other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, select
from sqlalchemy import text as sql
from sqlalchemy.engine import make_url

from monitor.adapters.sql import upserts
from monitor.adapters.sql.tables import alerts, crime_incidents, crimes, incidents
from monitor.adapters.state_codec import decode_state, encode_state
from monitor.application.ledger import (
    AlertRow,
    CrimeRow,
    IncidentRow,
    LedgerBatch,
    Reconcile,
    merge_alert,
    merge_crime,
    reconcile_rows,
)
from monitor.domain.incident import IncidentState

Row = TypeVar("Row", IncidentRow, AlertRow, CrimeRow)

SQLITE_BUSY_TIMEOUT_MS = 30_000
_CHUNK = 500  # keys per IN (...) list, well under SQLite's bound-parameter limit


def make_engine(database_url: str) -> Engine:
    """An engine for the ledger: SQLite in WAL mode with a busy timeout, PostgreSQL pre-pinged.

    Its errors never quote the values of a statement (``hide_parameters``): a row
    can hold a victim's reference or a supervisor's note, and errors reach logs.
    """
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, hide_parameters=True)
    engine = create_engine(url, hide_parameters=True)

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS:d}")
        cursor.close()

    return engine


class SqlLedger:
    """The ledger in the database behind ``engine``, migrated to head (see ``migrate``).

    With ``reconcile`` (``monitor.application.ledger.reconciler``), each incident
    written is joined with the state already stored, in the same transaction:
    a stale copy written after a newer one (a writer that lost its partitions
    in a rebalance, a replay) cannot set a row back. On PostgreSQL the writers
    of one incident take turns (``_take_turns``), so two of them can never both
    read "nothing stored" and the later commit replace the other's row.
    """

    def __init__(self, engine: Engine, reconcile: Reconcile | None = None) -> None:
        self.engine = engine
        self.reconcile = reconcile
        insert = upserts.insert_for(engine.dialect.name)
        self._incident_upsert = upserts.incident_upsert(insert)
        self._alert_upsert = upserts.alert_upsert(insert)
        self._crime_upsert = upserts.crime_upsert(insert)
        self._link_insert = upserts.link_insert(insert)

    def write(self, batch: LedgerBatch) -> None:
        if not len(batch):
            return
        crime_rows = _folded(batch.crimes, "crime_id", merge_crime)
        with self.engine.begin() as connection:
            incident_rows, joined_alerts = self._reconciled(connection, batch.incidents)
            alert_rows = _folded([*batch.alerts, *joined_alerts], "alert_id", merge_alert)
            if incident_rows:
                connection.execute(
                    self._incident_upsert,
                    [
                        {**_params(row, upserts.INCIDENT_FIELDS), "state": _encoded(row)}
                        for row in incident_rows
                    ],
                )
            _execute(connection, self._alert_upsert, alert_rows, upserts.ALERT_FIELDS)
            self._write_crimes(connection, crime_rows)

    def _reconciled(
        self, connection: Connection, rows: Sequence[IncidentRow]
    ) -> tuple[list[IncidentRow], list[AlertRow]]:
        """One row per incident, joined with its copies earlier in the batch and in the store."""
        by_id: dict[str, IncidentRow] = {}
        alerts_out: list[AlertRow] = []
        for row in rows:
            merged, alert = reconcile_rows(by_id.get(row.incident_id), row, self.reconcile)
            by_id[row.incident_id] = merged
            alerts_out += [alert] if alert else []
        ids = sorted(i for i, row in by_id.items() if row.state is not None)
        if self.reconcile is not None and ids:
            _take_turns(connection, ids)
            for stored_id, stored in self._stored_states(connection, ids):
                row, alert = self.reconcile(stored, by_id[stored_id].state)  # type: ignore[arg-type]
                by_id[stored_id] = row
                alerts_out += [alert] if alert else []
        return [by_id[i] for i in sorted(by_id)], alerts_out

    def _stored_states(
        self, connection: Connection, ids: Sequence[str]
    ) -> Iterator[tuple[str, IncidentState]]:
        for chunk in _chunks(list(ids)):
            query = select(incidents.c.incident_id, incidents.c.state).where(
                incidents.c.incident_id.in_(chunk), incidents.c.state.is_not(None)
            )
            for incident_id, text in connection.execute(query):
                yield incident_id, decode_state(text.encode())

    def _write_crimes(self, connection: Connection, rows: Sequence[CrimeRow]) -> None:
        if not rows:
            return
        params = [{**_params(row, upserts.CRIME_FIELDS), "unlinked": row.unlinked} for row in rows]
        connection.execute(self._crime_upsert, params)
        relinked = [row for row in rows if row.incident_ids]
        for ids in _chunks([row.crime_id for row in relinked]):
            connection.execute(upserts.links_delete(), {"ids": ids})
        links = [
            {"crime_id": row.crime_id, "incident_id": incident_id, "position": position}
            for row in relinked
            for position, incident_id in enumerate(dict.fromkeys(row.incident_ids))
        ]
        if links:
            connection.execute(self._link_insert, links)
        for ids in _chunks([row.crime_id for row in rows]):
            connection.execute(upserts.unlinked_update(), {"ids": ids})

    def incident(self, incident_id: str) -> IncidentRow | None:
        columns = [incidents.c[name] for name in (*upserts.INCIDENT_FIELDS, "state")]
        query = select(*columns).where(incidents.c.incident_id == incident_id)
        with self.engine.connect() as connection:
            found = connection.execute(query).mappings().first()
        if found is None:
            return None
        values = dict(found)
        text = values.pop("state")
        return IncidentRow(**values, state=None if text is None else decode_state(text.encode()))

    def alert(self, alert_id: str) -> AlertRow | None:
        columns = [alerts.c[name] for name in upserts.ALERT_FIELDS]
        query = select(*columns).where(alerts.c.alert_id == alert_id)
        with self.engine.connect() as connection:
            found = connection.execute(query).mappings().first()
        return None if found is None else AlertRow(**found)

    def crime(self, crime_id: str) -> CrimeRow | None:
        columns = [crimes.c[name] for name in upserts.CRIME_FIELDS]
        query = select(*columns).where(crimes.c.crime_id == crime_id)
        with self.engine.connect() as connection:
            found = connection.execute(query).mappings().first()
            if found is None:
                return None
            incident_ids = tuple(connection.scalars(_links_of(crime_id)))
        return CrimeRow(**found, incident_ids=incident_ids)


def _encoded(row: IncidentRow) -> str | None:
    return None if row.state is None else encode_state(row.state).decode()


def _links_of(crime_id: str) -> Any:
    return (
        select(crime_incidents.c.incident_id)
        .where(crime_incidents.c.crime_id == crime_id)
        .order_by(crime_incidents.c.position)
    )


def _folded(rows: Iterable[Row], key: str, merge: Callable[[Row | None, Row], Row]) -> list[Row]:
    """One row per key, earlier rows folded into later ones with ``merge``, in key order."""
    by_key: dict[str, Row] = {}
    for row in rows:
        identity = getattr(row, key)
        by_key[identity] = merge(by_key.get(identity), row)
    return [by_key[identity] for identity in sorted(by_key)]


def _params(row: Any, names: Sequence[str]) -> dict[str, Any]:
    return {name: getattr(row, name) for name in names}


def _execute(
    connection: Connection, statement: Any, rows: Sequence[Any], names: Sequence[str]
) -> None:
    if rows:
        connection.execute(statement, [_params(row, names) for row in rows])


def _chunks(keys: Sequence[str]) -> Iterator[list[str]]:
    for start in range(0, len(keys), _CHUNK):
        yield list(keys[start : start + _CHUNK])


# One transaction-scoped advisory lock per incident (by a 64-bit hash of its id),
# taken in the order of the hashes so that two writers can never wait on each other.
_TAKE_TURNS = sql(
    "SELECT pg_advisory_xact_lock(k) FROM (SELECT DISTINCT hashtextextended(id, 0) AS k "
    "FROM unnest(CAST(:ids AS text[])) AS id) AS keys ORDER BY k"
)


def _take_turns(connection: Connection, ids: Sequence[str]) -> None:
    """Hold every other writer of these incidents off until this transaction ends.

    Several ledger writers run at once (one per worker, each on its own
    partitions of the ledger topic, and for a moment after a crash or a
    rebalance an old one finishing its last batch), and one incident's changes
    can reach two of them. A row lock cannot serialise them on an incident not
    stored yet: both would read nothing, and the later upsert would replace the
    earlier row, losing what only it knew (seen: a closing lost after a worker
    was killed). A lock on the incident's id covers the row that does not exist
    yet. SQLite has one writer at a time, so it needs none.
    """
    if connection.dialect.name == "postgresql":
        # One statement for the whole batch (an array, not one parameter per id): in
        # chunks, the locks would no longer be taken in one order.
        connection.execute(_TAKE_TURNS, {"ids": list(ids)})
