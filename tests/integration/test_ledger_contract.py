"""The ledger contract: one suite, run against every adapter of the ``Ledger`` port.

``LedgerContract`` states what any ledger must do; each ``Test...`` class below
supplies a ledger (in memory, SQLite, PostgreSQL) and inherits every test, so
the fake cannot drift from the real thing unnoticed. ``SqlLedgerContract`` adds
what only a SQL ledger has: the ``crime_incidents`` link rows, the ``unlinked``
column, ``updated_at`` and atomic batches.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import StatementError

from monitor.adapters.sql.ledger import SqlLedger, make_engine
from monitor.adapters.sql.migrate import upgrade
from monitor.application.ledger import (
    AlertRow,
    CrimeRow,
    IncidentRow,
    InMemoryLedger,
    Ledger,
    LedgerBatch,
)
from tests.support.postgres import fresh_postgres_database

REPORTED = datetime(2025, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)
HOUR = timedelta(hours=1)


def an_incident(incident_id: str = "INC-1", **changes: object) -> IncidentRow:
    """An incident with every field set; ``changes`` override fields."""
    row = IncidentRow(
        incident_id=incident_id,
        status="recorded",
        force="Northshire",
        division="North",
        channel="999",
        opening_category="burglary",
        category="burglary-dwelling",
        grade="immediate",
        reported_at=REPORTED,
        deadline=REPORTED + 24 * HOUR,
        crime_related=True,
        crime_related_since=REPORTED + HOUR,
        unflagged_at=REPORTED + 2 * HOUR,
        first_crime_id="CRI-1",
        recorded_at=REPORTED + 5 * HOUR,
        elapsed_seconds=18000.25,
        within_target=True,
        recorded_before_report=False,
        closed_at=REPORTED + 30 * HOUR,
        closing_code="crime_recorded",
        last_event_at=REPORTED + 30 * HOUR,
    )
    return replace(row, **changes)


def a_bare_incident(incident_id: str = "INC-1") -> IncidentRow:
    """An incident known only by a later event: every optional field None."""
    return IncidentRow(
        incident_id=incident_id,
        status="awaiting_report",
        force=None,
        division=None,
        channel=None,
        opening_category=None,
        category=None,
        grade=None,
        reported_at=None,
        deadline=None,
        crime_related=False,
        crime_related_since=None,
        unflagged_at=None,
        first_crime_id=None,
        recorded_at=None,
        elapsed_seconds=None,
        within_target=None,
        recorded_before_report=True,
        closed_at=None,
        closing_code=None,
        last_event_at=None,
    )


def an_alert(alert_id: str = "ALR-1", **changes: object) -> AlertRow:
    """A resolved alert with its whole lifecycle; ``changes`` override fields."""
    row = AlertRow(
        alert_id=alert_id,
        incident_id="INC-1",
        state="resolved",
        force="Northshire",
        division="North",
        category="burglary",
        deadline=REPORTED + 24 * HOUR,
        due_soon_at=REPORTED + 20 * HOUR,
        overdue_at=REPORTED + 24 * HOUR,
        resolved_at=REPORTED + 26 * HOUR,
        resolution="recorded",
        late=True,
    )
    return replace(row, **changes)


def a_due_soon_alert(alert_id: str = "ALR-1") -> AlertRow:
    return an_alert(
        alert_id, state="due_soon", overdue_at=None, resolved_at=None, resolution=None, late=None
    )


def a_recorded_crime(
    crime_id: str = "CRI-1", incident_ids: tuple[str, ...] = ("INC-1",)
) -> CrimeRow:
    return CrimeRow(
        crime_id=crime_id,
        incident_ids=incident_ids,
        recorded_at=REPORTED + 5 * HOUR,
        offence_code="28/1",
        offence_group="burglary",
        victim_ref="VIC-9",
        victim_consents_to_referral=False,
    )


def a_cancellation(crime_id: str = "CRI-1") -> CrimeRow:
    return CrimeRow(
        crime_id=crime_id,
        cancelled_at=REPORTED + 50 * HOUR,
        cancellation_reason="transferred to another force",
    )


def recorded_and_cancelled(crime_id: str = "CRI-1") -> CrimeRow:
    recorded, cancelled = a_recorded_crime(crime_id), a_cancellation(crime_id)
    return replace(
        recorded,
        cancelled_at=cancelled.cancelled_at,
        cancellation_reason=cancelled.cancellation_reason,
    )


def assert_all_times_utc(row: object) -> None:
    for name in row.__dataclass_fields__:  # type: ignore[attr-defined]
        value = getattr(row, name)
        if isinstance(value, datetime):
            assert value.utcoffset() == timedelta(0), f"{name} is not UTC: {value!r}"


class LedgerContract:
    """What every ledger does. Subclasses provide the ``ledger`` fixture."""

    @pytest.fixture
    def ledger(self) -> Ledger:
        raise NotImplementedError

    def test_an_unwritten_key_reads_as_none(self, ledger: Ledger) -> None:
        assert ledger.incident("INC-404") is None
        assert ledger.alert("ALR-404") is None
        assert ledger.crime("CRI-404") is None

    def test_an_incident_reads_back_with_every_field_and_its_times_in_utc(
        self, ledger: Ledger
    ) -> None:
        ledger.write(LedgerBatch(incidents=[an_incident()]))

        found = ledger.incident("INC-1")
        assert found == an_incident()
        assert_all_times_utc(found)

    def test_an_incident_known_only_by_its_id_reads_back_with_nones(self, ledger: Ledger) -> None:
        ledger.write(LedgerBatch(incidents=[a_bare_incident()]))

        assert ledger.incident("INC-1") == a_bare_incident()

    def test_an_alert_reads_back_with_every_field_and_its_times_in_utc(
        self, ledger: Ledger
    ) -> None:
        ledger.write(LedgerBatch(alerts=[an_alert()]))

        found = ledger.alert("ALR-1")
        assert found == an_alert()
        assert_all_times_utc(found)

    def test_a_crime_reads_back_with_every_field_and_its_incidents_in_order(
        self, ledger: Ledger
    ) -> None:
        crime = replace(recorded_and_cancelled(), incident_ids=("INC-9", "INC-1", "INC-5"))
        ledger.write(LedgerBatch(crimes=[crime]))

        found = ledger.crime("CRI-1")
        assert found == crime
        assert_all_times_utc(found)

    def test_writing_the_same_batch_twice_leaves_the_ledger_as_written_once(
        self, ledger: Ledger
    ) -> None:
        batch = LedgerBatch(
            incidents=[an_incident()],
            alerts=[an_alert()],
            crimes=[a_recorded_crime(), a_cancellation()],
        )
        ledger.write(batch)
        ledger.write(batch)

        assert ledger.incident("INC-1") == an_incident()
        assert ledger.alert("ALR-1") == an_alert()
        assert ledger.crime("CRI-1") == recorded_and_cancelled()

    def test_a_later_incident_snapshot_replaces_the_whole_row(self, ledger: Ledger) -> None:
        ledger.write(LedgerBatch(incidents=[an_incident()]))
        ledger.write(LedgerBatch(incidents=[a_bare_incident()]))

        assert ledger.incident("INC-1") == a_bare_incident()

    def test_within_one_batch_the_later_incident_snapshot_wins(self, ledger: Ledger) -> None:
        later = an_incident(status="recorded_late", within_target=False)
        ledger.write(LedgerBatch(incidents=[an_incident(), later, an_incident("INC-2")]))

        assert ledger.incident("INC-1") == later
        assert ledger.incident("INC-2") == an_incident("INC-2")

    def test_an_alert_takes_the_later_state_and_its_new_lifecycle_times(
        self, ledger: Ledger
    ) -> None:
        ledger.write(LedgerBatch(alerts=[a_due_soon_alert()]))
        ledger.write(LedgerBatch(alerts=[an_alert()]))

        assert ledger.alert("ALR-1") == an_alert()

    def test_an_alert_never_loses_a_lifecycle_time_to_a_snapshot_without_it(
        self, ledger: Ledger
    ) -> None:
        ledger.write(LedgerBatch(alerts=[an_alert()]))
        ledger.write(LedgerBatch(alerts=[a_due_soon_alert()]))

        assert ledger.alert("ALR-1") == an_alert()  # still resolved, with every time kept

    def test_within_one_batch_an_alert_keeps_the_lifecycle_times_of_the_earlier_snapshot(
        self, ledger: Ledger
    ) -> None:
        ledger.write(LedgerBatch(alerts=[an_alert(), a_due_soon_alert()]))

        assert ledger.alert("ALR-1") == an_alert()

    def test_a_crime_recorded_then_cancelled_ends_fully_merged(self, ledger: Ledger) -> None:
        ledger.write(LedgerBatch(crimes=[a_recorded_crime()]))
        ledger.write(LedgerBatch(crimes=[a_cancellation()]))

        assert ledger.crime("CRI-1") == recorded_and_cancelled()

    def test_a_crime_cancelled_then_recorded_ends_fully_merged(self, ledger: Ledger) -> None:
        ledger.write(LedgerBatch(crimes=[a_cancellation()]))
        ledger.write(LedgerBatch(crimes=[a_recorded_crime()]))

        assert ledger.crime("CRI-1") == recorded_and_cancelled()

    def test_the_same_crime_twice_in_one_batch_is_merged(self, ledger: Ledger) -> None:
        ledger.write(LedgerBatch(crimes=[a_cancellation(), a_recorded_crime()]))

        assert ledger.crime("CRI-1") == recorded_and_cancelled()

    def test_a_crime_keeps_its_incidents_when_a_later_event_names_none(
        self, ledger: Ledger
    ) -> None:
        ledger.write(LedgerBatch(crimes=[a_recorded_crime(incident_ids=("INC-1", "INC-2"))]))
        ledger.write(LedgerBatch(crimes=[replace(a_recorded_crime(), incident_ids=())]))

        assert ledger.crime("CRI-1").incident_ids == ("INC-1", "INC-2")  # type: ignore[union-attr]

    def test_a_crime_takes_a_later_non_empty_incident_list_as_it_is(self, ledger: Ledger) -> None:
        ledger.write(LedgerBatch(crimes=[a_recorded_crime(incident_ids=("INC-1", "INC-2"))]))
        ledger.write(LedgerBatch(crimes=[a_recorded_crime(incident_ids=("INC-3", "INC-1"))]))

        assert ledger.crime("CRI-1").incident_ids == ("INC-3", "INC-1")  # type: ignore[union-attr]

    def test_a_recorded_crime_that_names_no_incident_is_unlinked(self, ledger: Ledger) -> None:
        ledger.write(LedgerBatch(crimes=[a_recorded_crime("CRI-2", incident_ids=())]))

        assert ledger.crime("CRI-2").unlinked  # type: ignore[union-attr]

    def test_a_crime_known_only_by_its_cancellation_is_not_unlinked(self, ledger: Ledger) -> None:
        ledger.write(LedgerBatch(crimes=[a_cancellation()]))

        assert not ledger.crime("CRI-1").unlinked  # type: ignore[union-attr]

    def test_a_thousand_odd_rows_of_each_kind_are_written_in_one_go(self, ledger: Ledger) -> None:
        keys = [f"{n:05d}" for n in range(1203)]
        ledger.write(
            LedgerBatch(
                incidents=[an_incident(f"INC-{key}") for key in keys],
                alerts=[an_alert(f"ALR-{key}") for key in keys],
                crimes=[a_recorded_crime(f"CRI-{key}", (f"INC-{key}",)) for key in keys],
            )
        )

        assert ledger.incident("INC-01202") == an_incident("INC-01202")
        assert ledger.alert("ALR-00000") == an_alert("ALR-00000")
        assert ledger.crime("CRI-00777") == a_recorded_crime("CRI-00777", ("INC-00777",))


class TestInMemoryLedger(LedgerContract):
    @pytest.fixture
    def ledger(self) -> Ledger:
        return InMemoryLedger()


class SqlLedgerContract(LedgerContract):
    """What a SQL ledger does besides the contract, checked in its tables."""

    @staticmethod
    def rows(ledger: SqlLedger, sql: str, **params: object) -> list[tuple[object, ...]]:
        with ledger.engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql), params)]

    def test_a_crime_with_several_incidents_has_one_link_row_per_incident(
        self, ledger: SqlLedger
    ) -> None:
        ledger.write(LedgerBatch(crimes=[a_recorded_crime(incident_ids=("INC-2", "INC-1"))]))
        ledger.write(LedgerBatch(crimes=[a_recorded_crime(incident_ids=("INC-2", "INC-1"))]))

        assert self.rows(
            ledger, "SELECT crime_id, incident_id FROM crime_incidents ORDER BY incident_id"
        ) == [("CRI-1", "INC-1"), ("CRI-1", "INC-2")]

    def test_an_incident_shared_by_two_crimes_is_linked_to_both(self, ledger: SqlLedger) -> None:
        ledger.write(
            LedgerBatch(
                crimes=[
                    a_recorded_crime("CRI-1", ("INC-1",)),
                    a_recorded_crime("CRI-2", ("INC-1", "INC-2")),
                ]
            )
        )

        assert self.rows(
            ledger,
            "SELECT crime_id FROM crime_incidents WHERE incident_id = :incident ORDER BY crime_id",
            incident="INC-1",
        ) == [("CRI-1",), ("CRI-2",)]

    def test_a_cancellation_leaves_the_link_rows_alone(self, ledger: SqlLedger) -> None:
        ledger.write(LedgerBatch(crimes=[a_recorded_crime(incident_ids=("INC-1", "INC-2"))]))
        ledger.write(LedgerBatch(crimes=[a_cancellation()]))

        assert self.rows(ledger, "SELECT count(*) FROM crime_incidents") == [(2,)]

    def test_the_unlinked_column_marks_recorded_crimes_that_name_no_incident(
        self, ledger: SqlLedger
    ) -> None:
        ledger.write(
            LedgerBatch(
                crimes=[
                    a_recorded_crime("CRI-1", ("INC-1",)),
                    a_recorded_crime("CRI-2", ()),
                    a_cancellation("CRI-3"),
                ]
            )
        )

        assert self.rows(ledger, "SELECT crime_id FROM crimes WHERE unlinked") == [("CRI-2",)]

    def test_the_unlinked_column_stays_clear_when_a_later_event_names_no_incident(
        self, ledger: SqlLedger
    ) -> None:
        ledger.write(LedgerBatch(crimes=[a_recorded_crime("CRI-1", ("INC-1",))]))
        ledger.write(LedgerBatch(crimes=[a_recorded_crime("CRI-1", ())]))

        assert self.rows(ledger, "SELECT unlinked FROM crimes") == [(False,)]

    def test_the_unlinked_column_clears_once_the_crime_names_an_incident(
        self, ledger: SqlLedger
    ) -> None:
        ledger.write(LedgerBatch(crimes=[a_recorded_crime("CRI-1", ())]))
        ledger.write(LedgerBatch(crimes=[a_recorded_crime("CRI-1", ("INC-1",))]))

        assert self.rows(ledger, "SELECT unlinked FROM crimes") == [(False,)]

    def test_a_time_in_another_zone_reads_back_as_the_same_instant_in_utc(
        self, ledger: SqlLedger
    ) -> None:
        summer = timezone(timedelta(hours=1), "BST")
        ledger.write(LedgerBatch(incidents=[an_incident(reported_at=REPORTED.astimezone(summer))]))

        reported_at = ledger.incident("INC-1").reported_at  # type: ignore[union-attr]
        assert reported_at == REPORTED
        assert reported_at.tzinfo == UTC  # type: ignore[union-attr]

    def test_a_batch_with_a_bad_row_writes_nothing(self, ledger: SqlLedger) -> None:
        naive = REPORTED.replace(tzinfo=None)
        batch = LedgerBatch(incidents=[an_incident()], alerts=[an_alert(deadline=naive)])

        with pytest.raises(StatementError, match="timezone-aware"):
            ledger.write(batch)

        assert ledger.incident("INC-1") is None

    def test_every_write_stamps_updated_at_from_the_database_clock(self, ledger: SqlLedger) -> None:
        ledger.write(
            LedgerBatch(incidents=[an_incident()], alerts=[an_alert()], crimes=[a_cancellation()])
        )
        first = self.stamps(ledger)
        ledger.write(
            LedgerBatch(incidents=[an_incident()], alerts=[an_alert()], crimes=[a_cancellation()])
        )

        assert all(stamp is not None for stamp in first)
        assert all(
            again >= before for again, before in zip(self.stamps(ledger), first, strict=True)
        )

    def stamps(self, ledger: SqlLedger) -> list[object]:
        return [
            self.rows(ledger, f"SELECT updated_at FROM {table}")[0][0]  # noqa: S608
            for table in ("incidents", "alerts", "crimes")
        ]


class TestSqlLedgerOnSqlite(SqlLedgerContract):
    @pytest.fixture
    def ledger(self, tmp_path) -> Iterator[SqlLedger]:  # type: ignore[override]
        url = f"sqlite:///{tmp_path / 'ledger.db'}"
        upgrade(url)
        engine = make_engine(url)
        yield SqlLedger(engine)
        engine.dispose()


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    with fresh_postgres_database() as url:
        upgrade(url)
        yield url


def emptied(engine: Engine) -> Engine:
    with engine.begin() as connection:
        connection.execute(text("TRUNCATE crime_incidents, crimes, alerts, incidents"))
    return engine


@pytest.mark.integration
class TestSqlLedgerOnPostgres(SqlLedgerContract):
    @pytest.fixture
    def ledger(self, postgres_url: str) -> Iterator[SqlLedger]:  # type: ignore[override]
        engine = emptied(make_engine(postgres_url))
        yield SqlLedger(engine)
        engine.dispose()


class ReconcilingContract:
    """With ``reconcile``, a ledger joins each incident's state with the stored one.

    A copy written late (by a writer that lost its partition in a rebalance, or
    a replay) must never set an incident or its alert back.
    """

    @pytest.fixture
    def ledger(self) -> Ledger:
        raise NotImplementedError

    def test_an_older_snapshot_written_after_a_newer_one_does_not_set_the_incident_back(
        self, ledger: Ledger
    ) -> None:
        from monitor.application.ledger import incident_rows
        from monitor.domain.incident import IncidentState, apply
        from monitor.domain.inputs import ClosingCode, IncidentClosed, IncidentReported
        from monitor.domain.policy import TimelinessPolicy
        from monitor.domain.recording_clock import advance

        policy = TimelinessPolicy()
        at = datetime(2024, 5, 1, 9, tzinfo=UTC)
        reported = apply(
            IncidentState("INC-9"),
            IncidentReported("e1", "INC-9", "lp", at, "999", "violence", True, "city"),
        )
        older, _ = advance(reported, now=at + timedelta(hours=30), policy=policy)  # overdue
        newer = apply(
            older, IncidentClosed("e2", "INC-9", at + timedelta(hours=31), ClosingCode.NO_CRIME)
        )
        newer, _ = advance(newer, now=at + timedelta(hours=32), policy=policy)  # resolved
        for state in (newer, older):
            row, alert = incident_rows(state, policy)
            ledger.write(LedgerBatch(incidents=[row], alerts=[alert] if alert else []))
        stored = ledger.incident("INC-9")
        assert stored.status == "closed_without_crime" and stored.closing_code == "no_crime"
        assert stored.state == newer
        alert = ledger.alert(incident_rows(newer, policy)[1].alert_id)
        assert alert.state == "resolved" and alert.resolution == "closed_without_crime"


class TestReconcilingInMemoryLedger(ReconcilingContract):
    @pytest.fixture
    def ledger(self) -> Ledger:
        from monitor.application.ledger import reconciler
        from monitor.domain.policy import TimelinessPolicy

        return InMemoryLedger(reconcile=reconciler(TimelinessPolicy()))


@pytest.mark.integration
class TestReconcilingPostgresLedger(ReconcilingContract):
    @pytest.fixture
    def ledger(self) -> Iterator[Ledger]:
        from monitor.application.ledger import reconciler
        from monitor.domain.policy import TimelinessPolicy

        with fresh_postgres_database() as url:
            upgrade(url)
            engine = make_engine(url)
            yield SqlLedger(engine, reconcile=reconciler(TimelinessPolicy()))
            engine.dispose()


@pytest.mark.integration
def test_two_writers_of_a_new_incident_at_once_keep_what_the_newer_knew() -> None:
    # Two ledger writers (two workers, or one finishing its last batch after a
    # crash) write one incident that is not stored yet: the newer copy first, held
    # open, the older one meanwhile. Both would read "nothing stored"; the older
    # must wait, then join with the newer, not replace it.
    import threading

    from monitor.application.ledger import incident_rows, reconciler
    from monitor.domain.incident import IncidentState, apply
    from monitor.domain.inputs import ClosingCode, IncidentClosed, IncidentReported
    from monitor.domain.policy import TimelinessPolicy

    policy = TimelinessPolicy()
    at = datetime(2024, 5, 1, 9, tzinfo=UTC)
    older = apply(
        IncidentState("INC-7"),
        IncidentReported("e1", "INC-7", "lp", at, "999", "asb", False, "city"),
    )
    newer = apply(older, IncidentClosed("e2", "INC-7", at + timedelta(hours=2), ClosingCode.OTHER))
    with fresh_postgres_database() as url:
        upgrade(url)
        engine = make_engine(url)
        try:
            first = SqlLedger(engine, reconcile=reconciler(policy))
            second = SqlLedger(engine, reconcile=reconciler(policy))
            inside, release = threading.Event(), threading.Event()
            write_crimes = first._write_crimes

            def held_open(connection, rows):  # type: ignore[no-untyped-def]
                write_crimes(connection, rows)
                inside.set()  # the newer row is written, not committed
                assert release.wait(10)

            first._write_crimes = held_open  # type: ignore[method-assign]
            newer_writer = threading.Thread(
                target=first.write, args=(LedgerBatch(incidents=[incident_rows(newer, policy)[0]]),)
            )
            newer_writer.start()
            assert inside.wait(10)
            older_writer = threading.Thread(
                target=second.write,
                args=(LedgerBatch(incidents=[incident_rows(older, policy)[0]]),),
            )
            older_writer.start()
            older_writer.join(1.0)  # give it time to overtake, if it can
            release.set()
            newer_writer.join(10)
            older_writer.join(10)
            stored = second.incident("INC-7")
            assert stored is not None
            assert stored.closing_code == "other" and stored.state == newer
        finally:
            engine.dispose()
